"""Ascending unique arrays of document numbers (or phrase keys): the set operations evaluation is made of.

Every step of :mod:`.evaluate` and :mod:`.phrases` intersects, restricts or locates such arrays;
each function picks its strategy by the lists' lengths and span (a boolean array marked over
the range, a merge of the sorted runs, binary search of the shorter in the longer, numba's
intersection when the ``fast`` extra is compiled), every choice giving the same result.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from searchlib._whoosh import kernels

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]
Result = tuple[I64, F64]

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)

SEARCH_RATIO = 16
"""Intersections of lists whose lengths differ by less than this factor are linear: the longer
marked in a boolean array and the shorter looked up in it (document numbers), or the two sorted
runs merged (sparse keys); more: binary search of the shorter in the longer ..."""
DENSE_SPAN = 64
"""... when their values span at most this many times the longer one's length."""

MAP_RATIO = 16
"""An AND looks documents up in a position map over its matches (a gather) rather than by
binary search when the list looked up is at most this many times longer than the matches."""


def empty() -> Result:
    return _EMPTY_I, _EMPTY_F


def restrict(docs: I64, values: F64, within: I64) -> Result:
    """The entries of ``docs`` (with their ``values``) that are also in ``within`` (both ascending)."""
    at, found = locate(docs, values, within)
    return within[at], found


def locate(docs: I64, values: F64, within: I64) -> tuple[npt.NDArray[np.intp], F64]:
    """Where the entries of ``docs`` that ``within`` holds sit in ``within``, with their ``values``.

    Both ascending and unique: one binary search of the shorter list in the longer (a caller
    that scatters into arrays aligned with ``within`` needs the positions, not the documents);
    with numba's kernels, one gallop through ``within`` when ``docs`` is the shorter.
    """
    if not len(docs) or not len(within):
        return np.zeros(0, dtype=np.intp), _EMPTY_F
    fast = kernels.ready()
    if fast is not None and len(docs) <= len(within) and docs.dtype == within.dtype == np.int64:
        at, which = fast.locate(docs, within)  # a gallop through ``within`` (the same positions)
        return at, values[which]
    if len(within) < len(docs):
        idx = np.searchsorted(docs, within)
        idx[idx >= len(docs)] = 0
        hit = docs[idx] == within
        return np.flatnonzero(hit), values[idx[hit]]
    idx = np.searchsorted(within, docs)  # the shorter list looked up in the longer one
    idx[idx >= len(within)] = 0
    hit = within[idx] == docs
    return idx[hit], values[hit]


def intersect(left: I64, right: I64) -> I64:
    """Documents in both ascending unique arrays (the shorter looked up in the longer)."""
    if len(left) > len(right):
        left, right = right, left
    if not len(left):
        return _EMPTY_I
    similar = len(left) * SEARCH_RATIO > len(right)
    if similar:
        low = int(min(left[0], right[0]))
        span = int(max(left[-1], right[-1])) + 1 - low
        if span <= DENSE_SPAN * len(right):  # document numbers: mark the longer, look the shorter up
            seen = np.zeros(span, dtype=np.bool_)  # (faster than numba's merge too)
            seen[right - low if low else right] = True
            both: I64 = left[seen[left - low if low else left]]
            return both
    fast = kernels.ready()
    if fast is not None:
        found: I64 = fast.intersect(left, right)
        return found
    if similar:  # sparse keys (phrase positions): merge the sorted runs
        merged = np.concatenate([left, right])
        merged.sort(kind="stable")
        pairs: I64 = merged[:-1][merged[1:] == merged[:-1]]
        return pairs
    idx = np.searchsorted(right, left)
    idx[idx >= len(right)] = 0
    common: I64 = left[right[idx] == left]
    return common


def members(docs: I64, within: I64) -> npt.NDArray[np.intp]:
    """Where each of ``within`` (a subset of ``docs``, both ascending) sits in ``docs``."""
    return np.searchsorted(docs, within)
