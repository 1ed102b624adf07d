"""Packaging (metadata in pyproject.toml), with an optional compiled entity extractor.

With ``SEARCHLIB_COMPILE=1`` (and Cython and a C compiler installed), the extractor's hot
path, ``searchlib/_spans.py``, ``_kinds.py`` and ``_rules.py``, is compiled with Cython into
the extensions ``searchlib._spans_c``, ``_kinds_c`` and ``_rules_c``: copies of those very
modules, importing each other, with ``searchlib/_scan.pyx``, the span scanner written for C that
``_spans_c`` scans with, the sources' sha256 recorded in ``_rules_c`` so that a copy
built from other sources is never used (``searchlib/_compiled.py``). Without it (the
default) nothing is compiled and the pure-Python modules run; no compiler is needed::

    pip install 'Cython>=3.0' 'setuptools>=68' wheel
    SEARCHLIB_COMPILE=1 pip install --no-build-isolation -e '.[fast]'
    # or, in a checkout: SEARCHLIB_COMPILE=1 python setup.py build_ext --inplace
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent
SOURCES = ("_spans", "_kinds", "_rules")  # pure modules compiled unchanged, as searchlib.<name>_c
WRITTEN = ("_scan",)  # modules written in Cython for C (searchlib/<name>.pyx), compiled as they are
DIGESTED = (*(f"{n}.py" for n in SOURCES), *(f"{n}.pyx" for n in WRITTEN))  # = searchlib._compiled.SOURCES
BUILD = ROOT / "build" / "cython"


def _copy(name: str, digest: str) -> Path:
    """``searchlib/<name>.py`` as ``build/cython/searchlib/<name>_c.py``, importing the other copies."""
    text = (ROOT / "searchlib" / f"{name}.py").read_text(encoding="utf-8")
    own = "|".join(SOURCES)
    text = re.sub(rf"\bsearchlib\.({own})\b", r"searchlib.\1_c", text)
    text = re.sub(
        r"^from searchlib import (.+)$",
        lambda m: (
            "from searchlib import " + ", ".join(f"{n}_c as {n}" if n in SOURCES else n for n in m.group(1).split(", "))
        ),
        text,
        flags=re.MULTILINE,
    )
    if name == "_rules":
        text += f'\n\nSOURCE_SHA256 = "{digest}"\n'
    if name == "_spans":
        text += "\n\n_use_c_scanner()\n"  # the compiled copy scans with searchlib._scan
    path = BUILD / "searchlib" / f"{name}_c.py"
    path.write_text(text, encoding="utf-8")
    return path


def compiled_extensions() -> list[Extension]:
    """The Cython extensions when ``SEARCHLIB_COMPILE=1``, else none."""
    if os.environ.get("SEARCHLIB_COMPILE", "") in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        raise SystemExit("SEARCHLIB_COMPILE=1 needs Cython: pip install 'Cython>=3.0'") from exc
    digest = hashlib.sha256(b"".join((ROOT / "searchlib" / name).read_bytes() for name in DIGESTED)).hexdigest()
    (BUILD / "searchlib").mkdir(parents=True, exist_ok=True)
    (BUILD / "searchlib" / "__init__.py").write_text("", encoding="utf-8")
    extensions = [Extension(f"searchlib.{name}_c", [str(_copy(name, digest).relative_to(ROOT))]) for name in SOURCES]
    extensions += [Extension(f"searchlib.{name}", [f"searchlib/{name}.pyx"]) for name in WRITTEN]
    return list(
        cythonize(
            extensions,
            compiler_directives={"language_level": 3, "annotation_typing": False},
            quiet=True,
        )
    )


setup(ext_modules=compiled_extensions())
