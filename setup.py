"""Packaging (metadata in pyproject.toml), with the entity extractor compiled when a C compiler is there.

By default every install compiles the extractor's hot path with Cython (a build requirement in
pyproject.toml): ``searchlib/_spans.py``, ``_kinds.py`` and ``_rules.py`` as the extensions
``searchlib._spans_c``, ``_kinds_c`` and ``_rules_c`` (copies of those very modules, importing
each other), and ``searchlib/_scan.pyx``, the span scanner written for C, as ``searchlib._scan``.
The sources' sha256 is recorded in ``_rules_c`` so that a build from other sources is never
used (``searchlib/_compiled.py``). The indexer's typed kernels, ``searchlib/_ingest_kernels.pyx``,
and the reader's, ``searchlib/_packing_kernels.pyx``, become ``searchlib._ingest_kernels_c`` and
``_packing_kernels_c`` the same way (their own sha256 appended). ``SEARCHLIB_COMPILE`` says what to do:

* unset (the default): compile; if Cython or a C compiler is missing or a compile fails, warn
  and install without the extensions (the pure-Python extractor runs, with the same output);
* ``0``: compile nothing;
* ``1``: compile, and make any failure an error (``.ci/run``)::

    pip install -e .                                            # compiled if a compiler is there
    SEARCHLIB_COMPILE=1 python setup.py build_ext --inplace     # rebuild in a checkout

To compile more modules (unchanged pure Python), add their names to ``SOURCES``.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError, PlatformError

ROOT = Path(__file__).resolve().parent
SOURCES = ("_spans", "_kinds", "_rules")  # pure modules compiled unchanged, as searchlib.<name>_c
WRITTEN = ("_scan",)  # modules written in Cython for C (searchlib/<name>.pyx), compiled as they are
DIGESTED = (*(f"{n}.py" for n in SOURCES), *(f"{n}.pyx" for n in WRITTEN))  # = searchlib._compiled.SOURCES
BUILD = ROOT / "build" / "cython"
MODE = os.environ.get("SEARCHLIB_COMPILE", "")
REQUIRED = MODE not in ("", "0")
"""``SEARCHLIB_COMPILE=1``: a failure to compile is an error, not a warning."""


def _warn(message: str) -> None:
    print(f"WARNING: searchlib: {message}; installing the pure-Python entity extractor", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """``build_ext`` that installs pure Python, with a warning, when a compile fails (unless required)."""

    def run(self) -> None:
        try:
            super().run()
        except (PlatformError, CCompilerError, ExecError, CompileError, LinkError) as exc:
            if REQUIRED:
                raise
            _warn(f"no C compiler ({exc})")

    def build_extensions(self) -> None:
        try:
            super().build_extensions()
        except (CCompilerError, ExecError, CompileError, LinkError, PlatformError, OSError, ValueError) as exc:
            if REQUIRED:
                raise
            _warn(f"compiling failed ({exc})")
            for ext in self.extensions:  # each is of no use without the others: install none
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            self.extensions = []


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


KERNELS = ("_ingest_kernels", "_packing_kernels")  # typed Cython kernels, compiled as <name>_c with their sha256


def _kernels_extension(name: str) -> Extension:
    """``searchlib/<name>.pyx`` (typed Cython) as ``searchlib.<name>_c``, its sha256 appended."""
    source = ROOT / "searchlib" / f"{name}.pyx"
    raw = source.read_bytes()
    path = BUILD / "searchlib" / f"{name}_c.pyx"
    path.write_bytes(raw + f'\n\nSOURCE_SHA256 = "{hashlib.sha256(raw).hexdigest()}"\n'.encode())
    return Extension(f"searchlib.{name}_c", [str(path.relative_to(ROOT))])


def compiled_extensions() -> list[Extension]:
    """The Cython extensions, unless ``SEARCHLIB_COMPILE=0`` (or, unless required, Cython is missing)."""
    if MODE == "0":
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        if REQUIRED:
            raise SystemExit("SEARCHLIB_COMPILE=1 needs Cython: pip install 'Cython>=3.0'") from exc
        _warn("Cython is not installed")
        return []
    digest = hashlib.sha256(b"".join((ROOT / "searchlib" / name).read_bytes() for name in DIGESTED)).hexdigest()
    (BUILD / "searchlib").mkdir(parents=True, exist_ok=True)
    (BUILD / "searchlib" / "__init__.py").write_text("", encoding="utf-8")
    extensions = [Extension(f"searchlib.{name}_c", [str(_copy(name, digest).relative_to(ROOT))]) for name in SOURCES]
    extensions += [Extension(f"searchlib.{name}", [f"searchlib/{name}.pyx"]) for name in WRITTEN]
    extensions += [_kernels_extension(name) for name in KERNELS]
    return list(
        cythonize(
            extensions,
            compiler_directives={"language_level": 3, "annotation_typing": False},
            quiet=True,
            # always regenerate the C: _scan.c sits next to its .pyx, and a .c newer than an edited
            # .pyx (a copy, a restored backup) would otherwise be compiled while _compiled.py,
            # which hashes the .pyx, trusted it
            force=True,
        )
    )


setup(ext_modules=compiled_extensions(), cmdclass={"build_ext": OptionalBuildExt})
