"""Which committed segments hold a keyword term: one probe instead of a lookup per segment.

A writer looks up every new article's id (is there a committed copy?) and its near-duplicate
keys (``dupkey``) in the committed index. Whoosh's MultiReader asks each segment's term table
in turn (an MD5-hashed file lookup, ~5 us): per article that grows with the segments (~0.3 ms
of CPU at ten segments), and nearly every lookup misses. Segments are immutable, so each
segment's terms of a field are read once per opened index as a sorted array of their CRC-32s
(4 bytes a term, keyed by the segment's id and size), and the segments of one
reader are joined into one sorted array: a lookup is one ``searchsorted`` naming the few
segments that may hold the term, and only those are asked (a CRC collision costs one
lookup, never a wrong answer). Deletions are not involved: callers check them as before.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["TermIndex"]

_SEGMENT_CACHE_MAX = 1024
"""(segment, field) arrays kept per index; past this the cache starts over."""


def _key(leaf: Any, fieldname: str) -> tuple[str, int, str]:
    segment = leaf.segment()
    return (segment.segment_id(), segment.doc_count_all(), fieldname)


def _segment_hashes(leaf: Any, fieldname: str, cache: dict[tuple[str, int, str], Any]) -> npt.NDArray[np.uint32]:
    key = _key(leaf, fieldname)
    found: npt.NDArray[np.uint32] | None = cache.get(key)
    if found is None:
        if len(cache) >= _SEGMENT_CACHE_MAX:
            cache.clear()
        terms = leaf.lexicon(fieldname) if fieldname in leaf.indexed_field_names() else ()
        hashes = np.fromiter(map(zlib.crc32, terms), dtype=np.uint32)
        found = cache[key] = np.unique(hashes)
    return found


class TermIndex:
    """The segments of one Whoosh reader that may hold a term of ``fieldname``.

    ``cache`` keeps the segments' arrays between readers: the index's own (``Backend.term_hashes``),
    as segment ids are unique within an index only (Whoosh draws them from ``random``).
    """

    def __init__(self, reader: Any, fieldname: str, cache: dict[tuple[str, int, str], Any]) -> None:
        self.fieldname = fieldname
        leaves = list(reader.leaf_readers())
        self.leaves: list[tuple[Any, int]] = leaves
        usable = all(getattr(leaf, "segment", lambda: None)() is not None for leaf, _ in leaves)
        self.usable = usable and len(leaves) > 0
        self._hashes = np.zeros(0, dtype=np.uint32)
        self._owners = np.zeros(0, dtype=np.int32)
        if self.usable:
            parts = [_segment_hashes(leaf, fieldname, cache) for leaf, _ in leaves]
            owners = np.repeat(np.arange(len(parts), dtype=np.int32), [len(p) for p in parts])
            hashes = np.concatenate(parts)
            order = np.argsort(hashes, kind="stable")  # a term's segments stay in reader order
            self._hashes, self._owners = hashes[order], owners[order]
            live = {_key(leaf, fieldname) for leaf, _ in leaves}
            for key in [key for key in cache if key[2] == fieldname and key not in live]:
                del cache[key]  # a segment merged away: its array is never asked for again

    def holders(self, text: str) -> Iterator[tuple[Any, int]]:
        """``(segment reader, document offset)`` of the segments that may hold ``text``, in reader order."""
        h = zlib.crc32(text.encode("utf-8"))
        hashes = self._hashes
        lo = int(np.searchsorted(hashes, h, side="left"))
        if lo == len(hashes) or hashes[lo] != h:
            return
        hi = int(np.searchsorted(hashes, h, side="right"))
        leaves = self.leaves
        for owner in self._owners[lo:hi].tolist():
            yield leaves[owner]
