"""The archive speaks to storage only through the engine-level shard API (:mod:`searchlib.shards`).

Whoosh is confined to ``searchlib/_whoosh/`` (ruff's banned-api enforces that); the archive
sits one level further out: no module of ``searchlib/archive/`` imports ``searchlib._whoosh``
(absolutely or relatively) nor reaches into an index's engine (``._engine``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import searchlib

ARCHIVE = Path(searchlib.__file__).parent / "archive"
MODULES = sorted(ARCHIVE.glob("*.py"))


def _offences(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for name in names:
            if "_whoosh" in name.split(".") or name.split(".")[0] == "whoosh":
                found.append(f"line {node.lineno}: imports {name}")
        if isinstance(node, ast.Attribute) and node.attr == "_engine":
            found.append(f"line {node.lineno}: reaches into ._engine")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_archive_module_uses_only_the_shard_api(path: Path) -> None:
    assert _offences(path.read_text("utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "from searchlib._whoosh import shard as wsh",
        "from searchlib._whoosh.search import edit_distance",
        "import searchlib._whoosh.schema",
        "from .._whoosh import multi",
        "import whoosh.index",
        "def f(index):\n    return index._engine.read('x', len)",
    ],
)
def test_the_check_catches_each_way_in(source: str) -> None:
    assert _offences(source)


def test_there_are_archive_modules_to_check() -> None:
    assert {"archive.py", "ranking.py", "tasks.py"} <= {p.name for p in MODULES}
