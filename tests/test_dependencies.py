"""Every third-party module the core imports at module level is a declared core dependency.

CI installs every extra, so a core import whose package only an extra pulls in (numpy arrived
with bm25s from the bench extra) would pass CI and fail on a fresh ``pip install -e '.[dev]'``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "searchlib"

# Modules that only an extra needs, with the extra that declares their package.
OPTIONAL = {
    "searchlib/web": "web",  # starlette, jinja2, markupsafe, uvicorn
    "searchlib/_whoosh/_numba_kernels.py": "fast",  # numba, imported only when installed
    "searchlib/_whoosh/_numba_fused.py": "fast",  # numba, imported only by _numba_kernels
}


def _declared(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings, normalised (PEP 503)."""
    return {re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", r).group(0)).lower() for r in requirements}  # type: ignore[union-attr]


def _module_level_imports(path: Path) -> set[str]:
    """Top-level names of the non-stdlib modules ``path`` imports outside any function or try."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names)
    return {name for name in found if name not in sys.stdlib_module_names and name != "searchlib"}


def test_core_imports_are_core_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = _declared(project["dependencies"])
    extras = {name: _declared(reqs) for name, reqs in project["optional-dependencies"].items()}
    undeclared: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        extra = next((e for prefix, e in OPTIONAL.items() if relative.startswith(prefix)), None)
        allowed = core | (extras[extra] if extra else set())
        # markupsafe comes with jinja2, which the web extra declares
        allowed |= {"markupsafe"} if extra == "web" else set()
        undeclared += [f"{relative}: {name}" for name in sorted(_module_level_imports(path)) if name not in allowed]
    assert not undeclared, f"imported at module level but not declared in pyproject.toml: {undeclared}"


def test_the_check_sees_numpy() -> None:
    """The check itself works: the columnar core imports numpy at module level."""
    assert "numpy" in _module_level_imports(PACKAGE / "_whoosh" / "columnar.py")
