"""The engine interface: what an index's storage answers, in searchlib's own values.

Everything above this seam (``Index``, analytics, the REPL, a web server, a sharded archive)
sees only this protocol; everything below it (the columnar arrays inside Whoosh's container,
:mod:`searchlib._whoosh.engine`) sees only plans (:mod:`searchlib.plan`), never a query string.

Index-wide statistics are an explicit input to scoring: :meth:`Snapshot.collect_stats`
gathers them from one index; a caller holding several indexes sums them
(:meth:`Stats.merged`) and passes the global ones to every :meth:`Snapshot.evaluate`, which
then scores exactly as one index holding all the documents would.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs
import numpy as np
import numpy.typing as npt

from searchlib.models import Article, Recency, Sort
from searchlib.plan import Plan

__all__ = ["PrefixTooBroadError", "Ranked", "Snapshot", "Stats", "idf"]

StatKey = tuple[str, tuple[str, ...]]
"""(field, analysed terms): one word, a phrase (several terms) or a keyword value."""


def idf(doc_count: int, doc_freq: int) -> float:
    """BM25's inverse document frequency, always positive: ``ln(1 + (N - df + 0.5) / (df + 0.5))``."""
    return math.log(1.0 + (doc_count - doc_freq + 0.5) / (doc_freq + 0.5))


@attrs.frozen(hash=False)
class Stats:
    """Index-wide statistics scoring depends on (live documents only)."""

    doc_count: int
    field_lengths: Mapping[str, int]
    """Total tokens per text field."""
    doc_freqs: Mapping[StatKey, int]
    """Documents holding each word, phrase or keyword of a plan."""

    def avg_length(self, field: str) -> float:
        return self.field_lengths.get(field, 0) / self.doc_count if self.doc_count else 0.0

    def merged(self, other: Stats) -> Stats:
        """The statistics of both collections together (for an archive of several indexes)."""
        lengths = dict(self.field_lengths)
        for name, n in other.field_lengths.items():
            lengths[name] = lengths.get(name, 0) + n
        freqs = dict(self.doc_freqs)
        for key, n in other.doc_freqs.items():
            freqs[key] = freqs.get(key, 0) + n
        return Stats(self.doc_count + other.doc_count, lengths, freqs)


@attrs.frozen(eq=False)
class Ranked:
    """One page of an evaluation: document numbers and scores in rank order, and the exact total."""

    docnums: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    total: int
    copies: tuple[tuple[str, ...], ...] = ()
    """With ``collapse``: the ids of each hit's other near-duplicates."""


class PrefixTooBroadError(Exception):
    """A trailing-``*`` prefix expands to more indexed words than ``plan.MAX_PREFIX_TERMS``."""

    def __init__(self, text: str, count: int) -> None:
        super().__init__(f"{text}* matches {count} or more words; make the prefix longer")
        self.text = text
        self.count = count


class Snapshot(Protocol):
    """One committed state of an index: immutable, shareable by threads."""

    def doc_count(self) -> int:
        """Live documents."""

    def collect_stats(self, plan: Plan) -> Stats:
        """This index's statistics for scoring ``plan``."""

    def evaluate(
        self,
        plan: Plan,
        stats: Stats | None,
        *,
        sort: Sort = Sort.SCORE,
        offset: int = 0,
        limit: int = 10,
        collapse: bool = False,
        recency: Recency | None = None,
    ) -> Ranked:
        """The page ``[offset, offset + limit)`` of the matches in ``sort`` order, and their total.

        Ties (equal scores or dates) are broken by article id. ``stats`` ``None``: this index's own.
        """

    def matches(self, plan: Plan) -> npt.NDArray[np.int64]:
        """Every matching document number, ascending (unscored)."""

    def articles(self, docnums: Sequence[int]) -> list[Article]:
        """The stored articles of ``docnums``."""
