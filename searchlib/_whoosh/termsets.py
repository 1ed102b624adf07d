"""Which committed segments hold a keyword term: one probe instead of a lookup per segment.

A writer looks up every new article's id (is there a committed copy?) and its near-duplicate
keys (``dupkey``) in the committed index. Since index format 10 the only postings of those
fields are the segments' sidecars (:mod:`.columnar`); bisecting each segment's term
dictionary costs a few microseconds a segment, and nearly every lookup misses. Segments are
immutable, so each segment's terms of a field are hashed once per opened index into a sorted
array of 64-bit polynomial hashes (8 bytes a term, computed with numpy over the dictionary's
stored bytes and cached by the segment's id and size), and the segments of one writer are
joined into one sorted array: a lookup is one ``searchsorted`` naming the few segments that
may hold the term, and only those are asked (a hash collision costs one bisection, never a
wrong answer). Deletions are not involved: callers check them as before.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib._whoosh.columnar import FieldPostings

__all__ = ["TermIndex", "term_hash", "term_hashes"]

_SEGMENT_CACHE_MAX = 1024
"""(segment, field) arrays kept per index; past this the cache starts over."""

_MULTIPLIER = 0x100000001B3  # FNV-1's 64-bit prime
_MASK = (1 << 64) - 1
_POWERS: list[int] = [1]
_CHUNK_BYTES = 1 << 22
"""Dictionary bytes hashed at a time (the temporary arrays take ~24 bytes a byte)."""

U64 = npt.NDArray[np.uint64]


def _powers(n: int) -> list[int]:
    """``_MULTIPLIER ** i mod 2**64`` for ``i < n``."""
    while len(_POWERS) < n:
        _POWERS.append(_POWERS[-1] * _MULTIPLIER & _MASK)
    return _POWERS


def term_hash(key: bytes) -> int:
    """The 64-bit hash of a term's UTF-8 bytes, ``sum(byte[i] * M**i) mod 2**64`` (as :func:`term_hashes`)."""
    total: int = sum(map(operator.mul, key, _powers(len(key))))
    return total & _MASK


def term_hashes(blob: npt.NDArray[np.uint8], starts: npt.NDArray[Any]) -> U64:
    """The :func:`term_hash` of every term of a stored dictionary (NUL-joined ``blob``, each term's start).

    Vectorised: each byte times the power of its place in its term, summed per term
    (``np.add.reduceat``; unsigned 64-bit arithmetic wraps as the modulus wants). A term's
    separator is a zero byte and adds nothing. Done a range of terms at a time.
    """
    starts = np.asarray(starts, dtype=np.int64)
    count = len(starts) - 1
    out = np.zeros(max(count, 0), dtype=np.uint64)
    if count <= 0:
        return out
    data = np.zeros(int(starts[-1]), dtype=np.uint64)  # one zero past the blob: the last term's "separator"
    data[: len(blob)] = np.asarray(blob, dtype=np.uint8)
    longest = int(np.max(starts[1:] - starts[:-1]))
    powers = np.array(_powers(longest), dtype=np.uint64)
    lo = 0
    while lo < count:
        hi = int(np.searchsorted(starts, starts[lo] + _CHUNK_BYTES, side="right")) - 1
        hi = min(max(hi, lo + 1), count)
        first, last = int(starts[lo]), int(starts[hi])
        sizes = starts[lo + 1 : hi + 1] - starts[lo:hi]
        place = np.arange(last - first, dtype=np.int64) - np.repeat(starts[lo:hi] - first, sizes)
        with np.errstate(over="ignore"):
            out[lo:hi] = np.add.reduceat(data[first:last] * powers[place], starts[lo:hi] - first)
        lo = hi
    return out


def _segment_hashes(fp: FieldPostings, key: tuple[str, int, str], cache: dict[tuple[str, int, str], Any]) -> U64:
    found: U64 | None = cache.get(key)
    if found is None:
        if len(cache) >= _SEGMENT_CACHE_MAX:
            cache.clear()
        found = cache[key] = np.unique(term_hashes(*fp.stored_terms()))
    return found


class TermIndex:
    """The segments of one writer's committed index that may hold a term of ``fieldname``.

    ``segments`` are ``(segment key, the field's postings in that segment, document offset)``
    in reader order, the key ``(segment id, documents, field)``. ``cache`` keeps the segments'
    arrays between writers: the index's own (``Backend.term_hashes``), as segment ids are
    unique within an index only (Whoosh draws them from ``random``).
    """

    def __init__(
        self,
        fieldname: str,
        segments: list[tuple[tuple[str, int, str], FieldPostings, int]],
        cache: dict[tuple[str, int, str], Any],
    ) -> None:
        self.fieldname = fieldname
        self.segments = segments
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._owners = np.zeros(0, dtype=np.int32)
        if segments:
            parts = [_segment_hashes(fp, key, cache) for key, fp, _ in segments]
            owners = np.repeat(np.arange(len(parts), dtype=np.int32), [len(p) for p in parts])
            hashes = np.concatenate(parts)
            order = np.argsort(hashes, kind="stable")  # a term's segments stay in reader order
            self._hashes, self._owners = hashes[order], owners[order]
            live = {key for key, _, _ in segments}
            for stale in [k for k in cache if k[2] == fieldname and k not in live]:
                del cache[stale]  # a segment merged away: its array is never asked for again

    def docnums(self, text: str) -> Iterator[int]:
        """The index-wide document numbers holding ``text`` (deleted ones too), in document order."""
        h = np.uint64(term_hash(text.encode("utf-8")))  # a numpy scalar: searching with a Python int costs ~40x
        hashes = self._hashes
        lo = int(hashes.searchsorted(h, side="left"))
        if lo == len(hashes) or hashes[lo] != h:
            return
        hi = int(hashes.searchsorted(h, side="right"))
        for owner in sorted(set(self._owners[lo:hi].tolist())):
            _, fp, offset = self.segments[owner]
            a, b = fp.find_range(text)  # (0, 0) after a hash collision
            for docnum in fp.docs[a:b].tolist():
                yield offset + docnum
