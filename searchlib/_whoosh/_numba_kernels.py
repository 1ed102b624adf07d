"""The numba kernels behind :mod:`.kernels` (imported only when numba is installed and wanted)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = ["compile_all", "intersect", "merge_sum", "phrase_counts"]

_jit = numba.njit(cache=True, nogil=True)


@_jit
def phrase_counts(pos: Any, offs: Any) -> Any:  # pragma: no cover - compiled
    """How often the words occur consecutively in each candidate document.

    ``offs[i, d]:offs[i, d + 1]`` is word ``i``'s (ascending) positions of document ``d`` in
    ``pos``; a match is a position ``p`` of word 0 with word ``i`` at ``p + i`` for every ``i``.
    """
    n = offs.shape[0]
    m = offs.shape[1] - 1
    out = np.zeros(m, np.int64)
    ptr = np.empty(n, np.int64)
    for d in range(m):
        for i in range(n):
            ptr[i] = offs[i, d]
        count = 0
        for a in range(offs[0, d], offs[0, d + 1]):
            start = pos[a]
            ok = True
            for i in range(1, n):
                target = start + i
                j = ptr[i]
                end = offs[i, d + 1]
                while j < end and pos[j] < target:
                    j += 1
                ptr[i] = j
                if j == end or pos[j] != target:
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


def compile_all() -> None:
    """Compile every kernel for the types the engine passes (or load them from numba's cache)."""
    ids = np.array([1, 3], dtype=np.int64)
    scores = np.array([0.5, 1.0])
    phrase_counts(np.array([0, 1], dtype=np.int64), np.array([[0, 1], [1, 2]], dtype=np.int64))
    merge_sum(ids, scores, ids, scores)
    intersect(ids, ids)
