"""Compiled loops for the engine's slowest numpy steps: numba, the optional ``fast`` extra.

Four loops numpy can only express with a sort or several passes: a phrase's position merge
(per candidate document, walk each word's sorted positions once), the OR of two scored
posting lists (a two-way merge that sums the scores of shared documents; merged left to
right, a document's scores add up in list order, ``((s0 + s1) + s2) + ...``, exactly as
numpy's path in ``evaluate._union`` adds them), the intersection of two sorted document
lists, and a word's frequencies in its other fields (title, entity text) added to the pseudo
frequencies of its matches (``add_field``: each segment's postings walked in place against
the matches, where numpy gathers the lists from every segment and locates them by binary
search: a dozen calls per field). Each has a numpy twin in :mod:`.evaluate`; results are
bit-identical -- the same documents, frequencies and float scores, so equal scores tie the
same way and a page read on one path continues one read on the other
(``tests/test_engine.py`` runs every brute-force check on both paths and compares them with
``==``).

numba is never imported at ``import searchlib``: :func:`warm` (called by an open index after
its first few reads, ``engine.WARM_AFTER``, so a one-shot command and the first query never
share the CPU with it) imports it and compiles the kernels on a background thread -- from
numba's on-disk cache (``cache=True``) after the first time -- and until that thread is done
every query takes the numpy path, so compiling never lands on a query. Nor does a query wait
for it: ``warm`` takes no lock a load holds (the import and compile run under a lock of their
own, and the kernels are published at once at the end). ``SEARCHLIB_NUMBA=0`` in the
environment keeps numba out entirely. Kernels get writable, contiguous arrays only (numba's typing of
read-only memory maps is slow): the engine passes them arrays it made, never the maps.
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["and_top_ready", "available", "disable", "field_types_ready", "load", "phrase_segment", "ready", "warm"]

ENV = "SEARCHLIB_NUMBA"
"""Set to ``0`` to never use numba (the numpy path only)."""

_lock = threading.Lock()  # the small state below; never held across an import or a compile
_load_lock = threading.Lock()  # one load (import numba, compile) at a time; queries never take it
_kernels: Any = None  # the compiled kernels once loaded (a namespace), else None
_thread: threading.Thread | None = None
_disabled = os.environ.get(ENV, "1") == "0"
_generation = 0  # bumped by disable(): a load begun before it does not publish its kernels
_available: bool | None = None
SYNC = False
"""Compile a new dtype combination in the calling thread (tests: the kernel is then always used)."""
_phrase_types: set[tuple[Any, ...]] = set()  # (docs, freqs, pos_blocks, positions) dtypes compiled for
_phrase_pending: dict[tuple[Any, ...], threading.Event] = {}
_field_types: set[tuple[Any, ...]] = set()  # (docs, freqs, writeable) of a field's postings compiled for
_field_pending: dict[tuple[Any, ...], threading.Event] = {}
_and_types: set[tuple[Any, ...]] = set()  # (dtype, writeable) of the docs and freqs of and_top's three fields
_and_pending: dict[tuple[Any, ...], threading.Event] = {}


def available() -> bool:
    """Whether numba is installed (without importing it; looked up once)."""
    global _available
    if _available is None:
        import importlib.util

        _available = importlib.util.find_spec("numba") is not None
    return _available


def ready() -> Any:
    """The compiled kernels, or None while they are not loaded (use numpy then)."""
    return _kernels


def disable() -> None:
    """Use the numpy path from now on (benchmarks and tests compare both)."""
    global _kernels, _disabled, _generation
    with _lock:
        _disabled = True
        _kernels = None
        _generation += 1


def load() -> Any:
    """Import numba and compile (or load from its cache) the kernels now; None without numba."""
    global _disabled
    with _lock:
        _disabled = False
    return _load()


def _compile() -> Any:
    """Import numba and the kernels, and compile them (seconds the first time: no lock held)."""
    from searchlib._whoosh import _numba_kernels

    _numba_kernels.compile_all()
    return _numba_kernels


def _load() -> Any:
    global _kernels
    with _load_lock:
        with _lock:
            if _kernels is not None or _disabled:
                return _kernels
            generation = _generation
        if not available():
            return None
        compiled = _compile()
        with _lock:  # published at once, unless a disable() came meanwhile (it wins)
            if not _disabled and _generation == generation:
                _kernels = compiled
            return _kernels


def warm() -> None:
    """Load the kernels on a background thread, once per process (no-op without numba).

    Never blocks: it reads the state without the lock, and when another thread holds the lock
    (for an instant: loads run outside it) that thread is starting or ending a load already.
    """
    global _thread
    if _disabled or _kernels is not None or _thread is not None:
        return
    if not _lock.acquire(blocking=False):
        return
    try:
        if _disabled or _kernels is not None or _thread is not None or not available():
            return
        _thread = threading.Thread(target=_warm, name="searchlib-numba", daemon=True)
        _thread.start()
    finally:
        _lock.release()


def _warm() -> None:
    try:
        _load()
    except Exception:  # a broken numba install leaves the numpy path, which is complete
        return


def phrase_segment(
    kernels: Any, docs: Any, freqs: Any, pos_blocks: Any, positions: Any, width: int, los: Any, his: Any, cand: Any
) -> Any:
    """The compiled phrase match of one segment, or None when it is not compiled for these dtypes yet.

    A segment's arrays are u8, u16 or u32 (or i64 from an older sidecar), so the kernel is
    compiled per combination on first sight -- on a background thread, while that query and
    any other until it is ready take the numpy path. ``width`` > 0: ``positions`` are the u64
    words of positions bit-packed at that width (sidecar version 7, :mod:`.packing`).
    """
    arrays = (docs, freqs, pos_blocks, positions)
    key = tuple((a.dtype, bool(a.flags.writeable)) for a in arrays)  # a read-only map is its own numba type
    if not _compiled_for(key, _phrase_types, _phrase_pending, lambda: kernels.compile_phrase(key), "phrase"):
        return None
    return kernels.phrase_segment(docs, freqs, pos_blocks, positions, width, los, his, cand)


def _compiled_for(
    key: tuple[Any, ...],
    done: set[tuple[Any, ...]],
    pending: dict[tuple[Any, ...], threading.Event],
    compile_one: Any,
    name: str,
) -> bool:
    """Whether a kernel is compiled for ``key`` (its arrays' numba types); when not, compile it
    once -- on a background thread unless ``SYNC`` (the caller takes the numpy path meanwhile).
    Under ``SYNC`` a compile already under way (begun by another thread) is waited for."""
    if key in done:
        return True
    with _lock:
        finished = pending.get(key)
        begun_here = finished is None
        if finished is None:
            finished = pending[key] = threading.Event()

    def compile_it() -> None:
        try:
            compile_one()
            done.add(key)
        except Exception:  # the numpy path stays in use for these dtypes
            return
        finally:
            finished.set()

    if begun_here and not SYNC:
        threading.Thread(target=compile_it, name=f"searchlib-numba-{name}", daemon=True).start()
    elif begun_here:
        compile_it()
    elif SYNC:
        finished.wait()
    return key in done


def field_types_ready(kernels: Any, docs: Any, freqs: Any) -> bool:
    """Whether ``add_field`` is compiled for a field's postings arrays ``docs`` and ``freqs``;
    when not, it starts compiling them (in the background, like :func:`phrase_segment`) and
    the caller takes the numpy path meanwhile."""
    writeable = docs.flags.writeable
    if freqs.flags.writeable != writeable:
        return False
    key = (docs.dtype, freqs.dtype, writeable)
    return _compiled_for(key, _field_types, _field_pending, lambda: kernels.compile_field(*key), "field")


def and_top_ready(kernels: Any, arrays: Any) -> bool:
    """Whether ``and_top`` is compiled for a segment's docs and freqs ``arrays`` of its three
    fields; when not, it starts compiling them (in the background, like :func:`phrase_segment`)
    and the caller takes the numpy path meanwhile."""
    key = tuple((a.dtype, bool(a.flags.writeable)) for a in arrays)
    return _compiled_for(key, _and_types, _and_pending, lambda: kernels.compile_and_top(key), "and_top")
