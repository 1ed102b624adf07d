"""Letting go of a read-only memory map's pages once a merge has read them.

A merge streams its sources' files (Whoosh's column files, the sidecars) through read-only
maps: every page it touches stays mapped into the process, and counts in its resident memory,
until the map is closed -- a source's whole file by the end (the 1,000,000-article build's merge
child held ~440 MB of such pages). ``MADV_DONTNEED`` takes them out of this process's page
tables; the data stay in the page cache, so reading them again is a minor fault, and nothing
any other reader of the file sees changes.
"""

from __future__ import annotations

import mmap
from typing import Any

__all__ = ["drop_pages", "mapping_of"]

_CAN_DROP = hasattr(mmap.mmap, "madvise") and hasattr(mmap, "MADV_DONTNEED")


def mapping_of(array: Any) -> mmap.mmap | None:
    """The memory map under a numpy array made by ``np.frombuffer`` over one (through views), else None."""
    base = array
    for _ in range(16):  # views of views: a short chain
        if isinstance(base, mmap.mmap):
            return base
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
        if base is None:
            return None
    return None


def drop_pages(mapping: mmap.mmap | None, start: int = 0, end: int | None = None) -> None:
    """Unmap this process's pages of ``mapping[start:end]`` (whole pages inside it; a no-op where unsupported)."""
    if mapping is None or not _CAN_DROP or mapping.closed:
        return
    size = len(mapping)
    end = size if end is None else min(end, size)
    first = start - start % mmap.PAGESIZE  # madvise wants a page-aligned start
    if end > first:
        mapping.madvise(mmap.MADV_DONTNEED, first, end - first)
