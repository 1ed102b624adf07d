"""Top k of many scored matches: the k smallest keys, and a bound found from a sample.

Partitioning every match's score to find the k-th is one full pass (and a sort-like one) over
arrays that hold most of the index for a common word. The k-th smallest of a strided sample
bounds the k-th smallest of all from above, so the matches at or below it -- the top k, every
tie at the threshold, and a few more -- are found with one comparison per match, and only
those are ranked.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = ["MARGIN", "SAMPLE_PER_HIT", "SAMPLE_STEP", "SORT_ALL", "near_largest", "top"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

SAMPLE_STEP = 16
"""Ranking many matches first finds a bound from every SAMPLE_STEP-th ..."""
SAMPLE_PER_HIT = 32
"""... when the sample holds at least this many entries per hit wanted."""
SORT_ALL = 256
"""At most this many matches are sorted whole: fewer numpy calls than partitioning them."""
MARGIN = 1e-6
"""Relative slack below a bound on a quantity the scores grow with (see :func:`near_largest`)."""


def top(
    primary: F64,
    secondary: Callable[[I64], I64],
    k: int,
    smallest: Callable[[I64, int], npt.NDArray[np.intp] | None] | None = None,
) -> I64:
    """Indices of the ``k`` smallest ``(primary, secondary)`` pairs, in that order.

    ``secondary`` gives the tie-breaking keys of the indices it is passed: only those of the
    candidates (at most ``k`` and the ties at the threshold) are ever looked up, and only when
    two candidates tie (a query's tie-breaking ids cost more than ordering its page).
    ``smallest(indices, need)``, when given, picks the positions in ``indices`` (ascending) of
    the ``need`` smallest secondary keys without computing every key (a tie among thousands
    of matches: a date range alone, or sorting by date).
    """
    n = len(primary)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    step = min(SAMPLE_STEP, n // (SAMPLE_PER_HIT * k))
    if step > 1:
        # The k-th smallest of a strided sample bounds the k-th smallest of all from above:
        # every one of the k smallest, and every tie at the threshold, is <= it. Ranking those
        # few alone skips partitioning (and comparing) the whole array.
        sample = primary[::step]
        bound = np.partition(sample, k - 1)[k - 1]
        if np.count_nonzero(sample <= bound) * 4 < len(sample):  # not one big tie (unscored matches)
            near = np.flatnonzero(primary <= bound)
            narrowed = None
            if smallest is not None:
                pick = smallest

                def narrowed(indices: I64, need: int) -> npt.NDArray[np.intp] | None:
                    return pick(near[indices], need)

            ranked: I64 = near[top(primary[near], lambda indices: secondary(near[indices]), k, narrowed)]
            return ranked
    if n <= SORT_ALL:  # a few matches (a rare word): sorted outright, done when none of the page ties
        by_key = np.argsort(primary, kind="stable")
        head = primary[by_key[: k + 1]]
        if not (head[1:] == head[:-1]).any():
            first: I64 = by_key[:k]
            return first
    if k < n:
        threshold = np.partition(primary, k - 1)[k - 1]
        below = np.flatnonzero(primary < threshold)
        tied = np.flatnonzero(primary == threshold)
        need = k - len(below)
        if len(tied) > need:
            picked = smallest(tied, need) if smallest is not None else None
            tied = tied[picked if picked is not None else np.argpartition(secondary(tied), need - 1)[:need]]
        chosen = np.concatenate([below, tied])
    else:
        chosen = np.arange(n)
    keys = primary[chosen]
    by_key = np.argsort(keys, kind="stable")
    in_order = keys[by_key]
    if not (in_order[1:] == in_order[:-1]).any():  # no ties: no tie-breaking key is looked up
        unique: I64 = chosen[by_key]
        return unique
    order: I64 = chosen[np.lexsort((secondary(chosen), keys))]
    return order


def near_largest(values: F64, k: int) -> npt.NDArray[np.intp] | None:
    """Indices (ascending) of a few of ``values`` holding the ``k`` largest and every value
    within ``MARGIN`` (relative) of them, or None when the array is too small to sample or
    the bound keeps half of it.

    For a quantity the scores grow with but only up to rounding (BM25's pseudo frequency:
    ``tf * c / (tf + k1)`` computed in floating point may give equal scores to slightly
    different ``tf``), the margin keeps every value whose score may reach the k-th.
    """
    n = len(values)
    step = min(SAMPLE_STEP, n // (SAMPLE_PER_HIT * max(k, 1)))
    if k <= 0 or step <= 1:
        return None
    sample = values[::step]
    bound = np.partition(sample, len(sample) - k)[len(sample) - k]
    near = np.flatnonzero(values >= bound * (1.0 - MARGIN))
    return near if len(near) * 2 < n else None
