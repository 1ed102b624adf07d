"""The numba kernels behind :mod:`.kernels` (imported only when numba is installed and wanted)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from searchlib._whoosh.columnar import POS_BLOCK

__all__ = [
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
]

_jit = numba.njit(cache=True, nogil=True)


@_jit
def phrase_segment(
    docs: Any, freqs: Any, pos_blocks: Any, positions: Any, los: Any, his: Any, cand: Any
) -> Any:  # pragma: no cover
    """How often the words occur consecutively in each candidate document of one segment.

    Word ``i``'s postings are ``docs[los[i]:his[i]]`` (ascending); posting ``j`` has
    ``freqs[j]`` positions (ascending) in ``positions``, starting at its block's sampled
    offset ``pos_blocks[j // POS_BLOCK]`` plus the frequencies of the block's postings before it
    -- or, when nearer, the last start found for that word plus the
    frequencies between; every one of ``cand`` (ascending) holds every word. A match is a
    position ``p`` of word 0 with word ``i`` at ``p + i`` for every ``i``. The segment's arrays
    are read in place (memory-mapped).
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
            start = np.int64(positions[a])
            ok = True
            for i in range(1, n):
                target = start + i
                k = at[i]
                end = ends[i]
                while k < end and np.int64(positions[k]) < target:
                    k += 1
                at[i] = k
                if k == end or np.int64(positions[k]) != target:
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
    ``cap``, the date window (low, high), whether ``live`` and ``dates`` (global arrays) apply.
    The lists are intersected by galloping, the shortest driving. Per match: each word's pseudo
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
    i = los[lead]
    while i < his[lead]:
        x = np.int64(bdocs[i]) if lead < k else np.int64(kdocs[i]) - base
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


def compile_and_top(key: tuple[tuple[Any, bool], ...]) -> None:
    """Compile ``and_top`` for a segment's (dtype, writeable) of the three fields' docs and freqs."""

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
        np.zeros(0, np.bool_), np.zeros(0, np.int64), np.array([0, 1, 0, 0, 0, 0], np.int64),
        np.array([0, 1, 2], np.int64), np.array([1.0, 1.0, 1.0, 1.2, 0.0]), ones, np.zeros(1, np.int64), np.zeros(1),
    )  # fmt: skip


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
        made([0, 1], positions, positions_w), pair[:1].copy(), pair[1:].copy(), np.zeros(1, dtype=np.int64),
    )  # fmt: skip
