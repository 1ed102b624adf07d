"""numba's fused kernels: a word, or an AND of words, ranked in one call per segment (see :mod:`.andtop`).

Imported by :mod:`._numba_kernels` (so only when numba is installed and wanted), which
re-exports them with the other kernels.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = ["BLOCK", "and_top", "compile_and_top", "word_top"]

_jit = numba.njit(cache=True, nogil=True)

MARK_RATIO = 16
"""``and_top`` counts a list into per-document marks when it is at most this many times as long as
the driver; a longer one is galloped through for the driver's documents alone."""


@_jit
def _gallop(arr: Any, j: Any, hi: Any, x: Any, shift: Any) -> Any:  # pragma: no cover - compiled
    """The first index in ``[j, hi)`` whose ``arr[i] - shift`` is >= ``x`` (``hi`` when none):
    gallop from ``j``, then bisect the last step."""
    step = 1
    h = j
    while h < hi and np.int64(arr[h]) - shift < x:
        j = h + 1
        h = j + step
        step *= 2
    if h > hi:
        h = hi
    while j < h:
        mid = (j + h) // 2
        if np.int64(arr[mid]) - shift < x:
            j = mid + 1
        else:
            h = mid
    return j


@_jit
def and_top(
    bdocs: Any,
    bfreqs: Any,
    f1docs: Any,
    f1freqs: Any,
    f2docs: Any,
    f2freqs: Any,
    ranges: Any,
    kdocs: Any,
    kranges: Any,
    norm0: Any,
    norm1: Any,
    norm2: Any,
    live: Any,
    dates: Any,
    meta: Any,
    order: Any,
    floats: Any,
    factors: Any,
    plan_word: Any,
    plan_const: Any,
) -> Any:  # pragma: no cover - compiled
    """One segment of a word, or an AND of words (and keyword filters), matched, counted and
    scored by BM25F end to end, keeping the best ``cap`` scores (and every tie with the last).

    Word ``w``'s postings in its field (slot 0) are ``bdocs[ranges[0, w, 0]:ranges[0, w, 1]]``
    (local numbers, ascending) with ``bfreqs``; in the other fields it scores in (slots 1, 2)
    ``f1docs`` / ``f2docs`` over ``ranges[1]`` / ``ranges[2]``. Keyword filter ``i``'s documents
    are ``kdocs[kranges[i, 0]:kranges[i, 1]]`` (global numbers). ``meta``: the segment's base,
    ``cap``, the date window (low, high), whether ``live`` and ``dates`` (global arrays) apply, and
    the segment's document count.
    The lists are intersected, the shortest driving (marks, then galloping: see below). Per match: each word's pseudo
    frequency adds its fields in ``order`` (slot 0: ``tf / norm``, times ``floats[0]`` when
    ``floats[4]``; slot s: ``floats[s] * tf / norm``), from 0.0; its score is
    ``pseudo * factors[w] / (pseudo + k1)`` (``k1 = floats[3]``); the match's score adds, from 0.0,
    in plan order, each part's: word ``plan_word[j]``, or ``plan_const[j]`` where that is -1 --
    the float operations of ``evaluate``'s numpy path, in its order, so scores are bit-identical.

    Returns (scores, global documents, total): the ``cap`` best of a min-heap on the score, plus
    every match scoring the same as the last of them (the caller breaks ties by article id).
    """
    base = meta[0]
    cap = meta[1]
    dlow = meta[2]
    dhigh = meta[3]
    has_live = meta[4] != 0
    has_dates = meta[5] != 0
    k = ranges.shape[1]
    nk = kranges.shape[0]
    nl = k + nk
    los = np.empty(nl, np.int64)
    his = np.empty(nl, np.int64)
    for w in range(k):
        los[w] = ranges[0, w, 0]
        his[w] = ranges[0, w, 1]
    for i in range(nk):
        los[k + i] = kranges[i, 0]
        his[k + i] = kranges[i, 1]
    lists = np.argsort(his - los)  # the shortest drives; the others are galloped in length order
    ptr = los.copy()
    big = np.int64(1) << 62
    use0 = False
    for s in order:
        use0 = use0 or s == 0
    last = order[order.shape[0] - 1] if order.shape[0] else 0
    at1 = ranges[1, :, 0].copy()  # per word: where the walk through its postings in slot 1 is,
    end1 = ranges[1, :, 1].copy()
    next1 = np.full(k, big)  # and the document there (big: none left)
    at2 = ranges[2, :, 0].copy()  # the same in slot 2
    end2 = ranges[2, :, 1].copy()
    next2 = np.full(k, big)
    for w in range(k):
        if at1[w] < end1[w]:
            next1[w] = np.int64(f1docs[at1[w]])
        if at2[w] < end2[w]:
            next2[w] = np.int64(f2docs[at2[w]])
    scale0 = floats[4] != 0.0
    k1 = floats[3]
    heap_s = np.empty(max(cap, 1), np.float64)
    heap_d = np.empty(max(cap, 1), np.int64)
    size = 0
    ties = 0
    tie_score = 0.0
    wscore = np.empty(k, np.float64)
    total = 0
    lead = lists[0]
    room = his[lead] - los[lead] if cap else 0  # at most every match ties (no array is regrown in the loop:
    tie_s = np.empty(room, np.float64)  # a reassigned array costs reference counting on every iteration)
    tie_d = np.empty(room, np.int64)
    # Lists not much longer than the driver are first counted into a mark per document (a pass
    # without unpredictable branches, where galloping through lists of similar length misses a
    # branch or two per step): a driver's document goes on to the gallops only when every
    # counted list holds it, so those run for the matches alone.
    marks = np.zeros(meta[6] if nl > 1 else 0, np.uint8)
    counted = 0
    for li in range(1, nl):
        lst = lists[li]
        if his[lst] - los[lst] > MARK_RATIO * (his[lead] - los[lead]):
            continue
        counted += 1
        if lst < k:
            for j in range(los[lst], his[lst]):
                marks[np.int64(bdocs[j])] += 1
        else:
            for j in range(los[lst], his[lst]):
                marks[np.int64(kdocs[j]) - base] += 1
    i = los[lead]
    while i < his[lead]:
        x = np.int64(bdocs[i]) if lead < k else np.int64(kdocs[i]) - base
        if counted and marks[x] != counted:
            i += 1
            continue
        ptr[lead] = i
        ok = True
        done = False
        for li in range(1, nl):
            lst = lists[li]
            if lst < k:
                j = _gallop(bdocs, ptr[lst], his[lst], x, 0)
                ptr[lst] = j
                if j == his[lst]:
                    done = True
                    break
                if np.int64(bdocs[j]) != x:
                    ok = False
                    break
            else:
                j = _gallop(kdocs, ptr[lst], his[lst], x, base)
                ptr[lst] = j
                if j == his[lst]:
                    done = True
                    break
                if np.int64(kdocs[j]) - base != x:
                    ok = False
                    break
        if done:
            break
        i += 1
        if not ok:
            continue
        g = x + base
        if has_live and not live[g]:
            continue
        if has_dates and (dates[g] < dlow or dates[g] > dhigh):
            continue
        total += 1
        if cap == 0:
            continue
        for w in range(k):
            p0 = 0.0
            if use0:
                p0 = np.float64(bfreqs[ptr[w]]) / norm0[g]
                if scale0:
                    p0 *= floats[0]
            p1 = 0.0
            if next1[w] < x:  # behind: gallop to the match (most matches are not there at all)
                j = _gallop(f1docs, at1[w], end1[w], x, 0)
                at1[w] = j
                next1[w] = np.int64(f1docs[j]) if j < end1[w] else big
            if next1[w] == x:
                p1 = floats[1] * np.float64(f1freqs[at1[w]]) / norm1[g]
            p2 = 0.0
            if next2[w] < x:
                j = _gallop(f2docs, at2[w], end2[w], x, 0)
                at2[w] = j
                next2[w] = np.int64(f2docs[j]) if j < end2[w] else big
            if next2[w] == x:
                p2 = floats[2] * np.float64(f2freqs[at2[w]]) / norm2[g]
            # The fields added from 0.0 in boost order: x + y == y + x and 0.0 + x == x, so only
            # which one comes last decides the rounding (a field not scored in adds 0.0).
            if last == 0:
                pseudo = (p1 + p2) + p0
            elif last == 1:
                pseudo = (p0 + p2) + p1
            else:
                pseudo = (p0 + p1) + p2
            wscore[w] = pseudo * factors[w] / (pseudo + k1)
        score = 0.0
        for j in range(plan_word.shape[0]):
            if plan_word[j] >= 0:
                score += wscore[plan_word[j]]
            else:
                score += plan_const[j]
        if size < cap:  # the heap fills: sift up
            c = size
            size += 1
            while c > 0:
                parent = (c - 1) // 2
                if heap_s[parent] <= score:
                    break
                heap_s[c] = heap_s[parent]
                heap_d[c] = heap_d[parent]
                c = parent
            heap_s[c] = score
            heap_d[c] = g
            continue
        low = heap_s[0]
        if score < low:
            continue
        if score == low:  # ties with the last kept: kept aside for the ids to decide
            out_s = score
            out_d = g
        else:  # replaces the lowest, which may tie with the new lowest
            out_s = low
            out_d = heap_d[0]
            c = 0
            while True:
                left = 2 * c + 1
                if left >= size:
                    break
                child = left
                if left + 1 < size and heap_s[left + 1] < heap_s[left]:
                    child = left + 1
                if heap_s[child] >= score:
                    break
                heap_s[c] = heap_s[child]
                heap_d[c] = heap_d[child]
                c = child
            heap_s[c] = score
            heap_d[c] = g
            if heap_s[0] != out_s:
                continue  # it scores below every kept one now
        if ties and tie_score != out_s:
            ties = 0
        tie_score = out_s
        tie_s[ties] = out_s
        tie_d[ties] = out_d
        ties += 1
    if size == 0 or not ties or tie_score != heap_s[0]:
        ties = 0
    found_s = np.empty(size + ties, np.float64)
    found_d = np.empty(size + ties, np.int64)
    found_s[:size] = heap_s[:size]
    found_d[:size] = heap_d[:size]
    found_s[size:] = tie_s[:ties]
    found_d[size:] = tie_d[:ties]
    return found_s, found_d, total


BLOCK = 128
"""``word_top`` bounds a word's own-field pseudo frequency per block of this many postings."""


@_jit
def _find_slot(bdocs: Any, lo: Any, hi: Any, fdocs: Any, flo: Any, fhi: Any) -> Any:  # pragma: no cover - compiled
    """Per posting ``fdocs[flo:fhi]``: the index in ``bdocs[lo:hi]`` (from ``lo``) of its
    document, -1 where that has none (galloping: the field's list is short)."""
    at = np.full(fhi - flo, -1, np.int64)
    i = lo
    for j in range(flo, fhi):
        d = np.int64(fdocs[j])
        i = _gallop(bdocs, i, hi, d, 0)
        if i == hi:
            break
        if np.int64(bdocs[i]) == d:
            at[j - flo] = i - lo
    return at


@_jit
def word_top(
    bdocs: Any,
    bfreqs: Any,
    f1docs: Any,
    f1freqs: Any,
    f2docs: Any,
    f2freqs: Any,
    ranges: Any,
    norm0: Any,
    norm1: Any,
    norm2: Any,
    live: Any,
    dates: Any,
    meta: Any,
    order: Any,
    floats: Any,
    factor: float,
    margin: float,
    bmax: Any,
    ex_at: Any,
    ex_val: Any,
    prep: Any,
) -> Any:  # pragma: no cover - compiled
    """One segment of a word alone, counted and scored by BM25F, the best ``cap`` kept (and more).

    Where :func:`and_top` scores match after match, a lone common word's tens of thousands of
    matches go by blocks of :data:`BLOCK` postings. The postings another field (slots 1, 2) adds
    to -- ``ex_at`` (indices from ``lo``, ascending) with their pseudo frequencies ``ex_val``,
    ``prep[0]`` of them -- are scored apart; ``bmax[block]`` is the largest own-field pseudo
    frequency ``tf / norm`` (before the field's weight) in a block: a block whose bound falls
    below the running ``cap``-th largest pseudo frequency (less ``margin``: the heap only grows)
    is skipped but for its postings scored apart -- none of its others could be returned. With
    ``meta[3]`` (fill) every block is scored and ``bmax``, ``ex_at``, ``ex_val``, ``prep``
    written (the caller caches them for the word's later searches with the same norms and
    weights); the exact total needs no scoring. The kept ``cap`` largest pseudo frequencies are
    in a min-heap; at the end only the matches within ``margin`` (relative) of the ``cap``-th
    largest are saturated (the score grows with the pseudo frequency; the margin covers its
    rounding, as :func:`.topk.near_largest` does). The same float operations as the numpy
    path's steps in the same order: ``(p0 + p1) + p2`` with the fields in ``order``, which must
    not end with slot 0 when it has three. ``meta``: base, cap, whether ``live`` applies, fill,
    whether a date window applies and its low and high keys (``dates``: global, as ``and_top``'s).
    A window only filters: the bounds are of every posting, so a word's kept bounds serve any
    window (a common word within a date range skips blocks as it does alone).

    Returns (scores, global documents, total): every live match in the window that may rank in
    the top ``cap`` (and each tying with the last of them), in posting order; the caller ranks them.
    """
    base = meta[0]
    cap = meta[1]
    has_live = meta[2] != 0
    fill = meta[3] != 0
    has_window = meta[4] != 0
    dlow = meta[5]
    dhigh = meta[6]
    lo = ranges[0, 0, 0]
    hi = ranges[0, 0, 1]
    n = hi - lo
    use0 = False
    for s in order:
        use0 = use0 or s == 0
    total = n
    if has_window:
        for i in range(n):
            g = np.int64(bdocs[lo + i]) + base
            if (has_live and not live[g]) or dates[g] < dlow or dates[g] > dhigh:
                total -= 1
    elif has_live:
        for i in range(n):
            if not live[np.int64(bdocs[lo + i]) + base]:
                total -= 1
    if cap == 0 or (total == 0 and not fill):  # filling goes on: the bounds serve other windows
        return np.zeros(0, np.float64), np.zeros(0, np.int64), total
    w0 = floats[0]
    scale0 = floats[4] != 0.0
    if fill:  # the postings another field adds to (few: titles, entities) scored first, exactly
        f1lo = ranges[1, 0, 0]
        f2lo = ranges[2, 0, 0]
        at1 = _find_slot(bdocs, lo, hi, f1docs, f1lo, ranges[1, 0, 1])
        at2 = _find_slot(bdocs, lo, hi, f2docs, f2lo, ranges[2, 0, 1])
        m1 = at1.shape[0]
        m2 = at2.shape[0]
        ne = 0
        j1 = 0
        j2 = 0
        while True:
            while j1 < m1 and at1[j1] < 0:
                j1 += 1
            while j2 < m2 and at2[j2] < 0:
                j2 += 1
            if j1 == m1 and j2 == m2:
                break
            i = at1[j1] if j1 < m1 else n
            if j2 < m2 and at2[j2] < i:
                i = at2[j2]
            v = 0.0
            if use0:
                v = np.float64(bfreqs[lo + i]) / norm0[np.int64(bdocs[lo + i]) + base]
                if scale0:
                    v = v * w0
            here1 = j1 < m1 and at1[j1] == i
            here2 = j2 < m2 and at2[j2] == i
            for s in order:
                if s == 1 and here1:
                    v += floats[1] * np.float64(f1freqs[f1lo + j1]) / norm1[np.int64(f1docs[f1lo + j1]) + base]
                elif s == 2 and here2:
                    v += floats[2] * np.float64(f2freqs[f2lo + j2]) / norm2[np.int64(f2docs[f2lo + j2]) + base]
            if here1:
                j1 += 1
            if here2:
                j2 += 1
            ex_at[ne] = i
            ex_val[ne] = v
            ne += 1
        prep[0] = ne
    ne = prep[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    pseudo = np.empty(n, np.float64)  # written for the scored blocks and ex_at only
    for e in range(ne):
        pseudo[ex_at[e]] = ex_val[e]
    picked = np.empty(n, np.int64)  # the scored live postings near enough the heap, ascending
    npicked = 0
    heap = np.full(max(min(cap, total), 1), -1.0)  # the largest pseudo frequencies seen (a min-heap;
    # one slot when nothing matches, which nothing then reaches: every posting fails the checks)
    size = heap.shape[0]
    qe = 0
    for blk in range(nblocks):
        s0 = blk * BLOCK
        e0 = min(s0 + BLOCK, n)
        scored = True
        if not fill:  # the block's bound on its other postings' own-field pseudo frequency
            top = 0.0
            if use0:
                top = bmax[blk] * w0 if scale0 else bmax[blk]
            scored = top >= heap[0] * (1.0 - margin)
        if scored:
            if use0:
                best = 0.0
                for i in range(s0, e0):
                    v = np.float64(bfreqs[lo + i]) / norm0[np.int64(bdocs[lo + i]) + base]
                    if v > best:
                        best = v
                    pseudo[i] = v * w0 if scale0 else v
                if fill:
                    bmax[blk] = best
            else:
                for i in range(s0, e0):
                    pseudo[i] = 0.0
            while qe < ne and ex_at[qe] < e0:
                pseudo[ex_at[qe]] = ex_val[qe]
                qe += 1
            first = s0
            last = e0
        else:  # only the postings scored first may rank
            first = qe
            while qe < ne and ex_at[qe] < e0:
                qe += 1
            last = qe
        for r in range(first, last):
            i = r if scored else ex_at[r]
            v = pseudo[i]
            if v < heap[0] * (1.0 - margin):  # below the final bound too: the heap only grows
                continue
            g = np.int64(bdocs[lo + i]) + base
            if has_live and not live[g]:
                continue
            if has_window and (dates[g] < dlow or dates[g] > dhigh):
                continue
            picked[npicked] = i
            npicked += 1
            if v <= heap[0]:
                continue
            c = 0
            while True:
                left = 2 * c + 1
                if left >= size:
                    break
                child = left
                if left + 1 < size and heap[left + 1] < heap[left]:
                    child = left + 1
                if heap[child] >= v:
                    break
                heap[c] = heap[child]
                c = child
            heap[c] = v
    bound = heap[0] * (1.0 - margin)
    count = 0
    for k in range(npicked):
        if pseudo[picked[k]] >= bound:
            count += 1
    scores = np.empty(count, np.float64)
    docs = np.empty(count, np.int64)
    k1 = floats[3]
    c = 0
    for k in range(npicked):
        i = picked[k]
        v = pseudo[i]
        if v >= bound:
            scores[c] = v * factor / (v + k1)
            docs[c] = np.int64(bdocs[lo + i]) + base
            c += 1
    return scores, docs, total


def compile_and_top(key: tuple[tuple[Any, bool], ...]) -> None:
    """Compile ``and_top`` and ``word_top`` for a segment's (dtype, writeable) of the three fields' docs and freqs."""

    def made(values: list[int], dtype: Any, writeable: bool) -> Any:
        out = np.asarray(values, dtype=dtype)
        out.flags.writeable = writeable
        return out

    bd, bf, d1, f1, d2, f2 = (made([0] if n % 2 == 0 else [1], dtype, w) for n, (dtype, w) in enumerate(key))
    ranges = np.zeros((3, 1, 2), dtype=np.int64)
    ranges[:, :, 1] = 1
    ones = np.ones(1)
    and_top(
        bd, bf, d1, f1, d2, f2, ranges, np.zeros(0, np.int64), np.zeros((0, 2), np.int64), ones, ones, ones,
        np.zeros(0, np.bool_), np.zeros(0, np.int64), np.array([0, 1, 0, 0, 0, 0, 1], np.int64),
        np.array([0, 1, 2], np.int64), np.array([1.0, 1.0, 1.0, 1.2, 0.0]), ones, np.zeros(1, np.int64), np.zeros(1),
    )  # fmt: skip
    word_top(
        bd, bf, d1, f1, d2, f2, ranges, ones, ones, ones, np.zeros(0, np.bool_), np.zeros(0, np.int64),
        np.array([0, 1, 0, 1, 0, 0, 0], np.int64),
        np.array([0, 1, 2], np.int64), np.array([1.0, 1.0, 1.0, 1.2, 0.0]), 1.0, 1e-6, np.zeros(1),
        np.zeros(2, np.int64), np.zeros(2), np.zeros(1, np.int64),
    )  # fmt: skip
