"""A date range alone (no words): its exact total from counts per day, its page from id order.

Every match of a date range scores 0, so its page is the matches with the smallest article
ids and its total is how many live documents fall in the range. Neither needs the matches
themselves: the total is the difference of two entries of a cumulative count of live
documents per day (built once per commit: one ``bincount``), and the page comes from walking
each segment's documents in article-id order -- the order of the segment's sorted ``id``
postings, no string compared -- until enough of them are in the range (a few hundred
documents for a range holding a few per cent of the index). Candidates of several segments
are then ordered by their ids as :meth:`ColumnarSnapshot._local_id_ranks` does. Matching
every document's date instead reads the whole date column on every query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from searchlib import plan as p

I64 = npt.NDArray[np.int64]

FIRST_CHUNK = 64
"""Documents first walked per segment beyond the ones the range's share of the index predicts ..."""
SLACK = 1.5
"""... times this (then four times as many each further step)."""


def day_number(key: int) -> int:
    """A number per ``YYYYMMDD`` key that grows with the date (with gaps: 31 per month, 372 per year)."""
    return (key // 10_000) * 372 + (key // 100 % 100 - 1) * 31 + key % 100 - 1


def window(root: p.PlanNode) -> tuple[int, int] | None:
    """(low, high) date keys when ``root`` matches a date range and nothing else, else None."""
    if isinstance(root, p.Dates):
        return root.low, root.high
    if not isinstance(root, p.AllOf) or root.must_not:
        return None
    ranges = [c for c in root.must if isinstance(c, p.Dates)]
    if not ranges or any(not isinstance(c, (p.Dates, p.Every)) for c in root.must):
        return None
    return max(r.low for r in ranges), min(r.high for r in ranges)


class DateCounts:
    """Live documents per day of one commit, cumulated: a date range's total in O(1)."""

    def __init__(self, dates: I64, live: npt.NDArray[np.bool_] | None) -> None:
        keys = dates if live is None else dates[live]
        days = (keys // 10_000) * 372 + (keys // 100 % 100 - 1) * 31 + keys % 100 - 1
        self.first = int(days.min()) if len(days) else 0
        counts = np.bincount(days - self.first) if len(days) else np.zeros(0, dtype=np.int64)
        self.cumulative: list[int] = [0, *np.cumsum(counts).tolist()]

    def total(self, low: int, high: int) -> int:
        """Live documents dated from ``low`` to ``high`` (keys, inclusive)."""
        last = len(self.cumulative) - 1
        lo = min(max(day_number(low) - self.first, 0), last)
        hi = min(max(day_number(high) - self.first + 1, 0), last)
        return max(self.cumulative[hi] - self.cumulative[lo], 0)


def first_in_range(
    orders: Sequence[I64],
    dates: I64,
    live: npt.NDArray[np.bool_] | None,
    low: int,
    high: int,
    wanted: int,
    share: float,
) -> list[I64]:
    """Per segment, the first ``wanted`` live documents of its id order dated in the range.

    ``orders`` holds each segment's document numbers (global) in its own article-id order;
    ``share`` is the range's share of the index, which sizes the first stretch walked.
    """
    picks: list[I64] = []
    for order in orders:
        step = FIRST_CHUNK + int(wanted / max(share, 1e-9) * SLACK)
        found: list[I64] = []
        count = 0
        at = 0
        while count < wanted and at < len(order):
            chunk = order[at : at + step]
            chunk_dates = dates[chunk]
            hit = (chunk_dates >= low) & (chunk_dates <= high)
            if live is not None:
                hit &= live[chunk]
            inside = chunk[hit]
            found.append(inside)
            count += len(inside)
            at += step
            step *= 4
        if found:
            picks.append(np.concatenate(found)[:wanted] if len(found) > 1 else found[0][:wanted])
    return picks


def smallest_ids(picks: list[I64], wanted: int, id_ranks: Callable[[I64], I64]) -> I64:
    """The ``wanted`` documents of ``picks`` with the smallest ids, in id order (ties: document number)."""
    candidates = np.sort(np.concatenate(picks)) if len(picks) > 1 else picks[0]
    if len(picks) == 1:  # one segment: its id order is the order
        return candidates[:wanted]
    ranks = id_ranks(candidates)
    ordered: I64 = candidates[np.argsort(ranks, kind="stable")][:wanted]
    return ordered
