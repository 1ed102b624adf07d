"""Near-duplicate detection: bottom-k MinHash sketches of word shingles.

Wire copies and lightly edited re-publications share most of their 5-word shingles. Each
article gets a sketch: the ``SKETCH_SIZE`` smallest 32-bit hashes of its shingles. Two
sketches estimate the Jaccard similarity of the shingle sets (Broder's bottom-k estimator);
articles whose estimate reaches ``THRESHOLD`` are copies. Candidates are found through the
few smallest hashes (``KEYS``), which near-duplicates share with high probability, so a new
article is compared with a handful of others, not the whole archive.
"""

from __future__ import annotations

import heapq
import re
import struct
import zlib

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


def sketch(text: str) -> tuple[int, ...]:
    """The sorted bottom-k hashes of ``text``'s word shingles (all of them for short texts)."""
    words = [zlib.crc32(w.encode("utf-8", "replace")) for w in _WORD.findall(text.lower())]
    if not words:
        return ()
    if len(words) < SHINGLE:
        return (_mix(words),)
    # A rolling polynomial hash over 64 bits; its high 32 bits after a multiplicative
    # scramble are uniform enough for bottom-k sampling, and cost one multiply per shingle.
    power = pow(_BASE, SHINGLE - 1, 1 << 64)
    h = 0
    for w in words[:SHINGLE]:
        h = (h * _BASE + w) & _MASK64
    hashes = {(h * _GOLDEN & _MASK64) >> 32}
    add = hashes.add
    for old, new in zip(words, words[SHINGLE:], strict=False):
        h = ((h - old * power) * _BASE + new) & _MASK64
        add((h * _GOLDEN & _MASK64) >> 32)
    return tuple(heapq.nsmallest(SKETCH_SIZE, hashes))


def _mix(words: list[int]) -> int:
    h = 0
    for w in words:
        h = (h * _BASE + w) & _MASK64
    return (h * _GOLDEN & _MASK64) >> 32


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two sketches (exact when both texts are short)."""
    if not a or not b:
        return 0.0
    k = min(SKETCH_SIZE, len(set(a) | set(b)))
    union_bottom = heapq.nsmallest(k, set(a) | set(b))
    shared = set(a) & set(b)
    return sum(1 for h in union_bottom if h in shared) / k


def candidate_keys(sk: tuple[int, ...]) -> list[str]:
    """The index terms through which near-duplicates of ``sk`` are found."""
    return [f"{h:08x}" for h in sk[:KEYS]]


def pack(sk: tuple[int, ...]) -> bytes:
    return struct.pack(f"<{len(sk)}I", *sk)


def unpack(raw: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(raw) // 4}I", raw)
