"""The numba kernels behind :mod:`.kernels` (imported only when numba is installed and wanted)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from searchlib._whoosh._numba_fused import BLOCK, and_top, compile_and_top, word_top
from searchlib._whoosh.columnar import POS_BLOCK

__all__ = [
    "BLOCK",
    "add_field",
    "and_top",
    "compile_all",
    "compile_and_top",
    "compile_field",
    "compile_phrase",
    "intersect",
    "locate",
    "merge_sum",
    "phrase_segment",
    "word_top",
]

_jit = numba.njit(cache=True, nogil=True)


@_jit
def _position(positions: Any, width: int, i: int) -> Any:  # pragma: no cover - compiled
    """Position ``i``: ``positions[i]``, or with ``width`` > 0 the ``width`` bits at bit ``i * width``
    of the packed u64 words ``positions`` (:mod:`.packing`: one word read, two when it straddles)."""
    if width == 0:
        return np.int64(positions[i])
    bit = np.int64(i) * width
    word = bit >> 6
    shift = bit & 63
    value = np.uint64(positions[word]) >> np.uint64(shift)
    if shift + width > 64:
        value |= np.uint64(positions[word + 1]) << np.uint64(64 - shift)
    return np.int64(value & np.uint64((1 << width) - 1))


@_jit
def phrase_segment(
    docs: Any, freqs: Any, pos_blocks: Any, positions: Any, width: int, los: Any, his: Any, cand: Any
) -> Any:  # pragma: no cover
    """How often the words occur consecutively in each candidate document of one segment.

    Word ``i``'s postings are ``docs[los[i]:his[i]]`` (ascending); posting ``j`` has
    ``freqs[j]`` positions (ascending) in ``positions``, starting at its block's sampled
    offset ``pos_blocks[j // POS_BLOCK]`` plus the frequencies of the block's postings before it
    -- or, when nearer, the last start found for that word plus the
    frequencies between; every one of ``cand`` (ascending) holds every word. A match is a
    position ``p`` of word 0 with word ``i`` at ``p + i`` for every ``i``. The segment's arrays
    are read in place (memory-mapped); positions through :func:`_position` (``width`` > 0: packed).
    """
    block = POS_BLOCK  # a compile-time constant
    total = docs.shape[0]
    n = los.shape[0]
    m = cand.shape[0]
    out = np.zeros(m, np.int64)
    ptr = los.copy()
    ends = np.empty(n, np.int64)
    at = np.empty(n, np.int64)
    known = np.full(n, -1, np.int64)  # the last posting whose start was found, per word
    known_at = np.zeros(n, np.int64)  # and that start
    for d in range(m):
        x = cand[d]
        for i in range(n):  # gallop to the candidate in each word's postings
            j = ptr[i]
            hi = his[i]
            step = 1
            h = j
            while h < hi and docs[h] < x:
                j = h + 1
                h = j + step
                step *= 2
            if h > hi:
                h = hi
            while j < h:
                mid = (j + h) // 2
                if docs[mid] < x:
                    j = mid + 1
                else:
                    h = mid
            ptr[i] = j
            k = known[i]
            r = j % block
            if k >= 0 and j - k <= min(r, block - r):  # from the last start: fewer frequencies to add
                start = known_at[i]
                while k < j:
                    start += np.int64(freqs[k])
                    k += 1
            elif block - r < r and j - r + block <= total:  # from the next block's start, back
                k = j - r + block
                start = np.int64(pos_blocks[k // block])
                while k > j:
                    k -= 1
                    start -= np.int64(freqs[k])
            else:  # from the block's start
                k = j - r
                start = np.int64(pos_blocks[k // block])
                while k < j:
                    start += np.int64(freqs[k])
                    k += 1
            known[i] = j
            known_at[i] = start
            at[i] = start
            ends[i] = start + np.int64(freqs[j])
        count = 0
        for a in range(at[0], ends[0]):
            start = _position(positions, width, a)
            ok = True
            for i in range(1, n):
                target = start + i
                k = at[i]
                end = ends[i]
                while k < end and _position(positions, width, k) < target:
                    k += 1
                at[i] = k
                if k == end or _position(positions, width, k) != target:
                    ok = False
                    break
            if ok:
                count += 1
        out[d] = count
    return out


@_jit
def merge_sum(a: Any, sa: Any, b: Any, sb: Any) -> Any:  # pragma: no cover - compiled
    """The union of two ascending unique document lists, a shared document's scores summed (a + b)."""
    na = a.shape[0]
    nb = b.shape[0]
    docs = np.empty(na + nb, np.int64)
    scores = np.empty(na + nb, np.float64)
    i = 0
    j = 0
    k = 0
    while i < na and j < nb:
        if a[i] < b[j]:
            docs[k] = a[i]
            scores[k] = sa[i]
            i += 1
        elif b[j] < a[i]:
            docs[k] = b[j]
            scores[k] = sb[j]
            j += 1
        else:
            docs[k] = a[i]
            scores[k] = sa[i] + sb[j]
            i += 1
            j += 1
        k += 1
    while i < na:
        docs[k] = a[i]
        scores[k] = sa[i]
        i += 1
        k += 1
    while j < nb:
        docs[k] = b[j]
        scores[k] = sb[j]
        j += 1
        k += 1
    return docs[:k], scores[:k]


@_jit
def intersect(a: Any, b: Any) -> Any:  # pragma: no cover - compiled
    """Documents in both ascending unique lists (galloping through the longer one)."""
    if a.shape[0] > b.shape[0]:
        a, b = b, a
    na = a.shape[0]
    nb = b.shape[0]
    out = np.empty(na, np.int64)
    k = 0
    j = 0
    for i in range(na):
        x = a[i]
        step = 1
        hi = j
        while hi < nb and b[hi] < x:  # gallop, then bisect the last step
            j = hi + 1
            hi = j + step
            step *= 2
        if hi > nb:
            hi = nb
        while j < hi:
            mid = (j + hi) // 2
            if b[mid] < x:
                j = mid + 1
            else:
                hi = mid
        if j == nb:
            break
        if b[j] == x:
            out[k] = x
            k += 1
            j += 1
    return out[:k]


@_jit
def locate(docs: Any, within: Any) -> Any:  # pragma: no cover - compiled
    """Where the entries of ``docs`` that ``within`` holds sit in ``within``, and which they are.

    Both ascending and unique, ``docs`` the shorter: one gallop through ``within`` (a common
    word's title matches among its tens of thousands of body matches: a few steps each, not a
    binary search of the whole list). Returns (positions in ``within``, indices in ``docs``).
    """
    nd = docs.shape[0]
    nw = within.shape[0]
    at = np.empty(nd, np.int64)
    which = np.empty(nd, np.int64)
    k = 0
    j = 0
    for i in range(nd):
        x = docs[i]
        step = 1
        hi = j
        while hi < nw and within[hi] < x:  # gallop, then bisect the last step
            j = hi + 1
            hi = j + step
            step *= 2
        if hi > nw:
            hi = nw
        while j < hi:
            mid = (j + hi) // 2
            if within[mid] < x:
                j = mid + 1
            else:
                hi = mid
        if j == nw:
            break
        if within[j] == x:
            at[k] = j
            which[k] = i
            k += 1
            j += 1
    return at[:k], which[:k]


@_jit
def add_field(
    docs: Any,
    lo: int,
    hi: int,
    base: int,
    fdocs: Any,
    ffreqs: Any,
    plo: int,
    phi: int,
    weight: float,
    norm: Any,
    pseudo: Any,
) -> None:  # pragma: no cover - compiled
    """Add a word's weighted, length-normalised frequency in one field of one segment to the
    pseudo frequencies of those of ``docs[lo:hi]`` (global numbers, ascending, all in the
    segment starting at ``base``) that hold it there.

    The word's postings there are ``fdocs[plo:phi]`` (local numbers, ascending) with
    ``ffreqs``, read in place (memory-mapped). Both lists are walked together, each side
    galloping to the other's next entry, so a short list costs a few steps per entry of it
    however long the other is. ``pseudo[i] += weight * f / norm[docs[i]]``: the float
    operations of ``evaluate.text_pseudo``'s numpy path, so the result is bit-identical.
    """
    i = lo
    j = plo
    while i < hi and j < phi:
        d = docs[i] - base
        e = np.int64(fdocs[j])
        if d == e:
            pseudo[i] += weight * np.float64(ffreqs[j]) / norm[docs[i]]
            i += 1
            j += 1
        elif d < e:  # gallop through docs to the posting, then bisect the last step
            x = e + base
            step = 1
            h = i
            while h < hi and docs[h] < x:
                i = h + 1
                h = i + step
                step *= 2
            if h > hi:
                h = hi
            while i < h:
                mid = (i + h) // 2
                if docs[mid] < x:
                    i = mid + 1
                else:
                    h = mid
        else:  # gallop through the postings to the document
            step = 1
            h = j
            while h < phi and np.int64(fdocs[h]) < d:
                j = h + 1
                h = j + step
                step *= 2
            if h > phi:
                h = phi
            while j < h:
                mid = (j + h) // 2
                if np.int64(fdocs[mid]) < d:
                    j = mid + 1
                else:
                    h = mid


def compile_field(fdocs: Any, ffreqs: Any, writeable: bool) -> None:
    """Compile ``add_field`` for a segment's postings dtypes (read-only when memory-mapped)."""
    made_docs = np.zeros(1, dtype=fdocs)
    made_freqs = np.ones(1, dtype=ffreqs)
    made_docs.flags.writeable = made_freqs.flags.writeable = writeable
    docs = np.zeros(1, dtype=np.int64)
    add_field(docs, 0, 1, 0, made_docs, made_freqs, 0, 1, 1.0, np.ones(1), np.zeros(1))


def compile_all() -> None:
    """Compile the kernels for the types the engine passes (or load them from numba's cache)."""
    ids = np.array([1, 3], dtype=np.int64)
    scores = np.array([0.5, 1.0])
    merge_sum(ids, scores, ids, scores)
    intersect(ids, ids)
    locate(ids, ids)


def compile_phrase(key: tuple[tuple[Any, bool], ...]) -> None:
    """Compile ``phrase_segment`` for a segment's (dtype, writeable) of docs, freqs, pos_blocks, positions."""

    def made(values: list[int], dtype: Any, writeable: bool) -> Any:
        out = np.asarray(values, dtype=dtype)
        out.flags.writeable = writeable
        return out

    (docs, docs_w), (freqs, freqs_w), (blocks, blocks_w), (positions, positions_w) = key
    pair = np.array([0, 1], dtype=np.int64)
    phrase_segment(
        made([0], docs, docs_w), made([2], freqs, freqs_w), made([0], blocks, blocks_w),
        made([0, 1], positions, positions_w), 0, pair[:1].copy(), pair[1:].copy(), np.zeros(1, dtype=np.int64),
    )  # fmt: skip
