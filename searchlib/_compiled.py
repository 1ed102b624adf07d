"""The compiled copy of the extractor's hot path, used only when it was built from the current sources.

``setup.py`` compiles ``_spans.py``, ``_kinds.py`` and ``_rules.py`` with Cython into the
extensions ``_spans_c``, ``_kinds_c`` and ``_rules_c`` beside them, with ``_scan.pyx`` (the span
scanner written for C that ``_spans_c`` scans with), and records in ``_rules_c`` a sha256 of
the four sources it compiled (:func:`source_digest`). A compiled copy whose digest differs from
the sources now installed (edited since it was built) is ignored, so it can never run stale
rules; without one, the pure-Python modules run. ``SEARCHLIB_PURE_PYTHON=1`` ignores the
compiled copy too.

The indexer's kernels (``_ingest_kernels.pyx``: the near-duplicate sketch and the text
fields' token ids, typed Cython) are built the same way into ``_ingest_kernels_c`` with the
``.pyx``'s sha256 and used under the same rule (:func:`ingest_kernel`), and so are the
readers of bit-packed positions (``_packing_kernels.pyx``, :func:`packing_kernels`).
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from importlib import resources
from types import ModuleType
from typing import Any

SOURCES = ("_spans.py", "_kinds.py", "_rules.py", "_scan.pyx")
"""The sources compiled, in the order their bytes enter the digest (``setup.py``'s ``DIGESTED``)."""
PURE_ENV = "SEARCHLIB_PURE_PYTHON"


def source_digest() -> str:
    """sha256 of the compiled modules' sources as installed (``setup.py`` computes the same)."""
    digest = hashlib.sha256()
    package = resources.files("searchlib")
    for name in SOURCES:
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()


def compiled_rules() -> ModuleType | None:
    """The compiled ``_rules`` (``searchlib._rules_c``) if it was built from these sources, else None."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None
    try:
        module = importlib.import_module("searchlib._rules_c")
    except ImportError:
        return None
    try:
        current = source_digest()
    except OSError:
        return None  # the sources are not there to compare with: never trust the build blindly
    return module if getattr(module, "SOURCE_SHA256", None) == current else None


KERNELS_SOURCE = "_ingest_kernels.pyx"
"""The typed Cython source of the indexer's kernels (compiled to ``searchlib._ingest_kernels_c``)."""
PACKING_SOURCE = "_packing_kernels.pyx"
"""The typed Cython source of the packed positions' readers (compiled to ``searchlib._packing_kernels_c``)."""


def _no_kernel(*args: Any) -> None:
    """The stand-in for a kernel that is not compiled: "not handled", the caller's pure path runs."""
    return None


def ingest_kernels() -> ModuleType | None:
    """The compiled indexing kernels if built from the ``.pyx`` installed now, else None."""
    return _kernels(KERNELS_SOURCE)


def packing_kernels() -> ModuleType | None:
    """The compiled packed-position readers if built from the ``.pyx`` installed now, else None."""
    return _kernels(PACKING_SOURCE)


def _kernels(source: str) -> ModuleType | None:
    """``searchlib.<source stem>_c`` if its ``SOURCE_SHA256`` is the installed ``source``'s, else None."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None
    try:
        module = importlib.import_module(f"searchlib.{source.removesuffix('.pyx')}_c")
    except ImportError:
        return None
    try:
        current = hashlib.sha256(resources.files("searchlib").joinpath(source).read_bytes()).hexdigest()
    except OSError:
        return None
    return module if getattr(module, "SOURCE_SHA256", None) == current else None


def ingest_kernel(name: str) -> Callable[..., Any]:
    """The compiled kernel ``name`` (see ``_ingest_kernels.pyx``), or a stand-in returning None.

    Every kernel returns None for input it does not handle (text that is not ASCII), so the
    caller's pure-Python path is the one fallback for both cases.
    """
    module = ingest_kernels()
    found: Callable[..., Any] = getattr(module, name) if module is not None else _no_kernel
    return found
