"""Positions bit-packed at a fixed width: random access without decoding a whole array.

A text field's positions (one per token, in posting order) are the largest array of an
index -- 108 MB of u16 for the body field at 100,000 articles. Sidecar version 7 stores them
at the width of the segment's largest position (11 bits for news: 2,047 tokens), packed
little-endian into u64 words plus one pad word, so that value ``i`` is the ``width`` bits
starting at bit ``i * width``: at most two word reads, in numpy (:class:`PackedPositions`,
whose slices and gathers unpack only what they name) and in the numba phrase kernel
(``_numba_kernels._position``). Nothing is unpacked on open or on a field's first use: a
query reads the positions it compares, as it read the u16 array before.

Values are packed 64 at a time: 64 values of ``width`` bits are exactly ``width`` words, so
a group's words depend on that group only and a merge can stream its positions through
:class:`PackedWriter` a range at a time (bounded memory) and write the bytes :func:`pack`
writes for the whole array.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PackedPositions", "PackedWriter", "gather", "pack", "packed_words", "unpack", "unpack_range", "width_for"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

GROUP = 64
"""Values packed together: ``GROUP`` values of ``width`` bits fill ``width`` words exactly."""
PACK_GROUPS = 1 << 13
"""Groups :func:`pack` packs at a time (half a million values: ~6 MB of temporary arrays)."""


def width_for(top: int) -> int:
    """Bits a packed value takes when the largest value is ``top`` (at least 1, at most 32)."""
    if not 0 <= top < 1 << 32:
        raise ValueError(f"a position of {top} does not fit 32 bits")
    return max(1, int(top).bit_length())


def packed_words(count: int, width: int) -> int:
    """Words ``count`` values of ``width`` bits take, with the pad word every read may touch."""
    return (count * width + 63) // 64 + 1


def _pack_groups(values: npt.NDArray[Any], width: int) -> U64:
    """Whole groups of ``GROUP`` values (``len(values)`` a multiple of it), packed: ``width`` words a group."""
    rows = values.reshape(-1, GROUP).astype(np.uint64)
    out = np.zeros((len(rows), width), dtype=np.uint64)
    for lane in range(GROUP):  # lane j of every group at once: 64 vector operations in all
        bit = lane * width
        word, shift = bit >> 6, bit & 63
        column = rows[:, lane]
        out[:, word] |= column << np.uint64(shift)
        if shift + width > 64:  # the value straddles two words
            out[:, word + 1] |= column >> np.uint64(64 - shift)
    return out.reshape(-1)


def pack(values: npt.NDArray[Any], width: int) -> U64:
    """``values`` (each < 2**width) packed at ``width`` bits, plus the pad word (:func:`packed_words`).

    Packed ``PACK_GROUPS`` groups at a time into the finished array, so the temporary arrays
    stay a few MB (the whole array widened to u64 first took 8 bytes a value: ~65 MB for a
    worker's segment of 8 million body positions, the peak of its memory).
    """
    count = len(values)
    out = np.zeros(packed_words(count, width), dtype=np.uint64)
    step = PACK_GROUPS * GROUP
    for lo in range(0, count, step):
        hi = min(count, lo + step)
        chunk = values[lo:hi]
        if len(chunk) % GROUP:  # the last part group, padded with zeros (which add no bits)
            chunk = np.concatenate([chunk, np.zeros(GROUP - len(chunk) % GROUP, dtype=chunk.dtype)])
        words = _pack_groups(chunk, width)
        at = lo // GROUP * width
        kept = min(len(words), len(out) - at)  # the padding's words past the end are zeros
        out[at : at + kept] = words[:kept]
    return out


def unpack(words: U64, width: int, index: I64) -> I64:
    """The values at ``index`` (any shape, each < the packed count) of ``words`` packed at ``width``."""
    bit = index.astype(np.int64) * width
    word = bit >> 6
    shift = (bit & 63).astype(np.uint64)
    low = words[word] >> shift
    # the next word's bits above them; (x << 1) << (63 - s) is x << (64 - s) without a 64-bit shift at s = 0
    high = (words[word + 1] << np.uint64(1)) << (np.uint64(63) - shift)
    mask = np.uint64((1 << width) - 1)
    found: I64 = ((low | high) & mask).astype(np.int64)
    return found


@functools.cache
def _readers() -> ModuleType | None:
    """The compiled readers (``searchlib/_packing_kernels.pyx``) if built from the installed source."""
    from searchlib._compiled import packing_kernels

    return packing_kernels()


def unpack_range(words: U64, width: int, start: int, stop: int) -> I64:
    """Values ``start .. stop - 1``: one pass in C when compiled, else :func:`unpack`."""
    readers = _readers()
    if readers is None:
        return unpack(words, width, np.arange(start, stop, dtype=np.int64))
    out = np.empty(max(0, stop - start), dtype=np.int64)
    readers.unpack_range(words, width, start, out)
    return out


def gather(words: U64, width: int, index: npt.NDArray[Any]) -> I64:
    """The values at ``index`` (any shape, each < the packed count): in C when compiled, else :func:`unpack`."""
    readers = _readers()
    if readers is None:
        return unpack(words, width, index)
    flat = np.ascontiguousarray(index, dtype=np.int64).reshape(-1)
    out = np.empty(len(flat), dtype=np.int64)
    readers.unpack_at(words, width, flat, out)
    return out.reshape(np.shape(index))


class PackedPositions:
    """A read-only, array-like view of packed positions: ``len``, slices and index arrays.

    Slicing (``p[a:b]``) and gathering (``p[np.array([...])]``) unpack just those values, as
    int64; ``np.asarray(p)`` unpacks every one (merges of in-memory segments and checks only).
    ``words`` and ``width`` are what the numba phrase kernel reads.
    """

    __slots__ = ("count", "width", "words")

    def __init__(self, words: U64, width: int, count: int) -> None:
        if not 1 <= width <= 32:
            raise ValueError(f"packed width {width} is not 1..32")
        if len(words) != packed_words(count, width):
            raise ValueError(f"{len(words)} words cannot hold {count} values of {width} bits and the pad word")
        self.words = words
        self.width = width
        self.count = count

    @classmethod
    def of(cls, values: npt.NDArray[Any]) -> PackedPositions:
        """``values`` packed at the width of the largest."""
        width = width_for(int(values.max()) if len(values) else 0)
        return cls(pack(values, width), width, len(values))

    def __len__(self) -> int:
        return self.count

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype values are unpacked to."""
        return np.dtype(np.int64)

    def __getitem__(self, key: slice | npt.NDArray[Any]) -> I64:
        if isinstance(key, slice):
            start, stop, step = key.indices(self.count)
            if step == 1:
                return unpack_range(self.words, self.width, start, stop)
            return gather(self.words, self.width, np.arange(start, stop, step, dtype=np.int64))
        index = np.asarray(key)
        if index.dtype.kind not in "iu":
            raise TypeError(f"packed positions are indexed by slices or integer arrays, not {index.dtype}")
        if index.size and (int(index.min()) < 0 or int(index.max()) >= self.count):
            raise IndexError(f"index out of range for {self.count} packed positions")
        return gather(self.words, self.width, index)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> npt.NDArray[Any]:
        values = self[0 : self.count]
        return values if dtype is None else values.astype(dtype)

    def max(self) -> int:
        """The largest value (every value unpacked: checks only)."""
        return int(np.asarray(self).max()) if self.count else 0


class PackedWriter:
    """Values appended in runs of any length, written as :func:`pack` of them all would be.

    Keeps under ``GROUP`` values between runs; :meth:`close` writes the last group, padded,
    and the pad word. Writes to ``put(offset_in_bytes, words)``.
    """

    def __init__(self, put: Any, at: int, width: int, count: int) -> None:
        self._put = put
        self._at = at  # byte offset of the next word
        self._width = width
        self._left = count  # values still expected
        self._carry = np.zeros(0, dtype=np.uint64)

    def write(self, values: npt.NDArray[Any]) -> None:
        if len(values) > self._left:
            raise ValueError("more positions than the packed array was reserved for")
        self._left -= len(values)
        values = np.concatenate([self._carry, values.astype(np.uint64)])
        whole = len(values) - len(values) % GROUP
        if whole:
            words = _pack_groups(values[:whole], self._width)
            self._put(self._at, words)
            self._at += words.nbytes
        self._carry = values[whole:]

    def close(self) -> None:
        if self._left:
            raise ValueError(f"{self._left} positions missing from the packed array")
        tail = pack(self._carry, self._width)  # the last part group (if any) and the pad word
        self._put(self._at, tail)
