"""Which committed segments hold a keyword term: one probe instead of a lookup per segment.

A writer looks up every new article's id (is there a committed copy?) and its near-duplicate
keys (``dupkey``) in the committed index. Since index format 10 the only postings of those
fields are the segments' sidecars (:mod:`.columnar`); bisecting each segment's term
dictionary costs a few microseconds a segment, and nearly every lookup misses. Segments are
immutable, so each segment's terms of a field are hashed once per opened index into a sorted
array of 64-bit polynomial hashes (8 bytes a term, computed with numpy over the dictionary's
stored bytes and cached by the segment's id and size), and the segments of one writer are
joined into one sorted array of keys -- each hash with its low bits replaced by the segment's
number (8 bytes a term, sorted in place) -- so a lookup is one ``searchsorted`` naming the few
segments that may hold the term, and only those are asked (a collision of the hashes' high
bits costs one bisection, never a wrong answer). Deletions are not involved: callers check them as before.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib._compiled import ingest_kernels
from searchlib._whoosh.columnar import FieldPostings

__all__ = ["TermIndex", "term_hash", "term_hashes"]

_SEGMENT_CACHE_MAX = 1024
"""(segment, field) arrays kept per index; past this the cache starts over."""

_MULTIPLIER = 0x100000001B3  # FNV-1's 64-bit prime
_MASK = (1 << 64) - 1
_POWERS: list[int] = [1]
_CHUNK_BYTES = 1 << 18
"""Dictionary bytes hashed at a time (the temporary arrays take ~32 bytes a byte: 8 MB)."""

U64 = npt.NDArray[np.uint64]


def _powers(n: int) -> list[int]:
    """``_MULTIPLIER ** i mod 2**64`` for ``i < n``."""
    while len(_POWERS) < n:
        _POWERS.append(_POWERS[-1] * _MULTIPLIER & _MASK)
    return _POWERS


def _term_hash(key: bytes) -> int:
    """The 64-bit hash of a term's UTF-8 bytes, ``sum(byte[i] * M**i) mod 2**64`` (as :func:`term_hashes`)."""
    total: int = sum(map(operator.mul, key, _powers(len(key))))
    return total & _MASK


term_hash: Callable[[bytes], int] = getattr(ingest_kernels(), "term_hash", None) or _term_hash
""":func:`_term_hash`, by the compiled kernel when it is built (~10x faster: a writer hashes every
article's id and near-duplicate keys)."""


def term_hashes(blob: npt.NDArray[np.uint8], starts: npt.NDArray[Any]) -> U64:
    """The :func:`term_hash` of every term of a stored dictionary (NUL-joined ``blob``, each term's start).

    Vectorised: each byte times the power of its place in its term, summed per term
    (``np.add.reduceat``; unsigned 64-bit arithmetic wraps as the modulus wants). A term's
    separator is a zero byte and adds nothing. Done a range of terms (about ``_CHUNK_BYTES``
    bytes) at a time, each range's bytes widened on their own: the temporary arrays stay a few
    MB whatever the dictionary's size (widening the whole blob first took 8 bytes a byte of it
    -- ~150 MB for the near-duplicate keys of a million articles, in every ingest worker).
    """
    starts = np.asarray(starts, dtype=np.int64)
    count = len(starts) - 1
    out = np.zeros(max(count, 0), dtype=np.uint64)
    if count <= 0:
        return out
    blob = np.asarray(blob, dtype=np.uint8)
    longest = int(np.max(starts[1:] - starts[:-1]))
    powers = np.array(_powers(longest), dtype=np.uint64)
    lo = 0
    while lo < count:
        hi = int(np.searchsorted(starts, starts[lo] + _CHUNK_BYTES, side="right")) - 1
        hi = min(max(hi, lo + 1), count)
        first, last = int(starts[lo]), int(starts[hi])
        data = np.zeros(last - first, dtype=np.uint64)  # past the blob's end: the last term's "separator"
        stored = blob[first : min(last, len(blob))]
        data[: len(stored)] = stored
        sizes = starts[lo + 1 : hi + 1] - starts[lo:hi]
        place = np.arange(last - first, dtype=np.int64) - np.repeat(starts[lo:hi] - first, sizes)
        with np.errstate(over="ignore"):
            data *= powers[place]
            out[lo:hi] = np.add.reduceat(data, starts[lo:hi] - first)
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
        self._bits = max(1, (len(segments) - 1).bit_length())  # low bits of a key: the segment's number
        self._keys = np.zeros(0, dtype=np.uint64)
        if segments:
            parts = [_segment_hashes(fp, key, cache) for key, fp, _ in segments]
            keys = np.empty(sum(len(p) for p in parts), dtype=np.uint64)
            bits, at = np.uint64(self._bits), 0
            for owner, part in enumerate(parts):
                view = keys[at : at + len(part)]
                np.right_shift(part, bits, out=view)
                view <<= bits
                view |= np.uint64(owner)
                at += len(part)
            keys.sort()  # in place: a term's segments come out in reader order
            self._keys = keys
            live = {key for key, _, _ in segments}
            for stale in [k for k in cache if k[2] == fieldname and k not in live]:
                del cache[stale]  # a segment merged away: its array is never asked for again

    def docnums(self, text: str) -> Iterator[int]:
        """The index-wide document numbers holding ``text`` (deleted ones too), in document order."""
        keys = self._keys
        if not len(keys):  # nothing committed yet
            return
        bits = self._bits
        low = (1 << bits) - 1
        h = term_hash(text.encode("utf-8")) & ~low
        lo = int(keys.searchsorted(np.uint64(h), side="left"))  # numpy scalars: a Python int costs ~40x
        if lo == len(keys) or int(keys[lo]) > h | low:
            return
        hi = int(keys.searchsorted(np.uint64(h | low), side="right"))
        for owner in sorted({key & low for key in keys[lo:hi].tolist()}):
            _, fp, offset = self.segments[owner]
            a, b = fp.find_range(text)  # (0, 0) after a hash collision
            for docnum in fp.docs[a:b].tolist():
                yield offset + docnum
