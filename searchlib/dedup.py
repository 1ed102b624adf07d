"""Near-duplicate detection: bottom-k MinHash sketches of word shingles.

Wire copies and lightly edited re-publications share most of their 5-word shingles. Each
article gets a sketch: the ``SKETCH_SIZE`` smallest 32-bit hashes of its shingles. Two
sketches estimate the Jaccard similarity of the shingle sets (Broder's bottom-k estimator);
articles whose estimate reaches ``THRESHOLD`` are copies. Candidates are found through the
few smallest hashes (``KEYS``), which near-duplicates share with high probability, so a new
article is compared with a handful of others, not the whole archive.
"""

from __future__ import annotations

import re
import struct
import zlib
from array import array

import numpy as np

from searchlib._compiled import ingest_kernel

__all__ = ["KEYS", "SHINGLE", "SKETCH_SIZE", "THRESHOLD", "candidate_keys", "similarity", "sketch"]

SHINGLE = 5
"""Words per shingle."""
SKETCH_SIZE = 64
"""Hashes kept per article; the similarity estimate's standard error is about 0.06."""
KEYS = 4
"""Smallest hashes indexed for finding candidates."""
THRESHOLD = 0.5
"""Estimated Jaccard similarity of 5-word shingles at or above which two articles are copies."""

_WORD = re.compile(r"\w+")
_MASK64 = (1 << 64) - 1
_BASE = 1_000_003
_GOLDEN = 0x9E3779B97F4A7C15
_BASE64 = np.uint64(_BASE)
_GOLDEN64 = np.uint64(_GOLDEN)
_SHIFT32 = np.uint64(32)


class _CrcCache(dict[str, int]):
    """word -> CRC-32 of its UTF-8 bytes (news reuses a small vocabulary), computed on first use.

    ``map(_CRC.__getitem__, words)`` runs in C for known words and calls ``__missing__`` for
    new ones only.
    """

    def __missing__(self, word: str) -> int:
        if len(self) >= _CRC_MAX:
            self.clear()
        code = self[word] = zlib.crc32(word.encode("utf-8", "replace"))
        return code


_CRC = _CrcCache()
_compiled_sketch = ingest_kernel("sketch")
_CRC_MAX = 500_000


def sketch(text: str) -> tuple[int, ...]:
    """The sorted bottom-k hashes of ``text``'s word shingles (all of them for short texts).

    Words are the ``\\w+`` runs of the lower-cased text. Each word is hashed with CRC-32
    (cached per word); a shingle's hash is the polynomial
    ``sum(w[i + j] * BASE ** (SHINGLE - 1 - j))`` over 64 bits -- what a rolling hash gives --
    and its high 32 bits after a multiplicative scramble are uniform enough for bottom-k
    sampling. All shingles are hashed at once with numpy (uint64 arithmetic wraps modulo
    2**64, as the definition needs), then sorted and cut to ``SKETCH_SIZE``.

    Speed (the indexer calls this once per article): an ASCII text is split into words by one
    ``str.translate`` (lower-casing, and every non-word character to a space) and ``split``,
    ~3x cheaper than the regular expression, with the same words (ASCII ``\\w`` is
    ``[A-Za-z0-9_]``); other texts use the expression. Word codes come from a cache filled on
    first use (``__missing__``), so a text with new words pays for those words only. Stored
    sketches must not change with the code (duplicates are found across old and new
    articles): tests/test_dedup.py checks the values against the original definition. When
    the typed Cython kernel is built (``_ingest_kernels.pyx``, ``SEARCHLIB_COMPILE=1``) it
    computes ASCII texts' sketches in one pass with no Python object per word, equal to
    this path (tests/test_ingest_kernels.py).
    """
    compiled: tuple[int, ...] | None = _compiled_sketch(text)
    if compiled is not None:
        return compiled
    words = _words(text)
    if not words:
        return ()
    codes = list(map(_CRC.__getitem__, words))
    if len(codes) < SHINGLE:
        return (_mix(codes),)
    w64 = np.frombuffer(array("Q", codes), dtype=np.uint64)
    n = len(codes) - SHINGLE + 1
    h = w64[:n] * _BASE64
    for j in range(1, SHINGLE - 1):
        h += w64[j : j + n]
        h *= _BASE64
    h += w64[SHINGLE - 1 :]
    h *= _GOLDEN64
    h >>= _SHIFT32
    h.sort()
    distinct = np.empty(len(h), dtype=bool)
    distinct[0] = True
    np.not_equal(h[1:], h[:-1], out=distinct[1:])
    return tuple(h[distinct][:SKETCH_SIZE].tolist())


_ASCII_WORDS = str.maketrans({chr(c): chr(c).lower() if chr(c).isalnum() or chr(c) == "_" else " " for c in range(128)})
"""ASCII character -> itself lower-cased if a word character (``\\w``), else a space."""


def _words(text: str) -> list[str]:
    """The ``\\w+`` runs of ``text.lower()``, in order."""
    if text.isascii():
        return text.translate(_ASCII_WORDS).split()
    return _WORD.findall(text.lower())


def _mix(words: list[int]) -> int:
    h = 0
    for w in words:
        h = (h * _BASE + w) & _MASK64
    return (h * _GOLDEN & _MASK64) >> 32


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two sketches (exact when both texts are short)."""
    if not a or not b:
        return 0.0
    union = set(a).union(b)
    k = min(SKETCH_SIZE, len(union))
    union_bottom = sorted(union)[:k]  # the writer compares each new article with a few others: ~2x heapq.nsmallest
    return len(set(a).intersection(b).intersection(union_bottom)) / k


def candidate_keys(sk: tuple[int, ...]) -> list[str]:
    """The index terms through which near-duplicates of ``sk`` are found."""
    return [f"{h:08x}" for h in sk[:KEYS]]


def pack(sk: tuple[int, ...]) -> bytes:
    return struct.pack(f"<{len(sk)}I", *sk)


def unpack(raw: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(raw) // 4}I", raw)
