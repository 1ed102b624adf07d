"""Several shards' snapshots evaluated as one: an archive's ranking round in one pass, in the caller.

An archive that holds every shard open in this process could rank a query by asking each
shard in turn (:func:`searchlib._whoosh.shard.rank`): k evaluations, k top-k selections and
k times the Python around them. :class:`Combined` instead lays the segments of every shard
one after another -- each shard's segments are just more segments, numbered from the shard's
base -- so the plan is evaluated once over all of them (:mod:`.evaluate` gathers a term's
postings from every segment in one array), with the statistics summed over the shards, and
one top-k picks the page, exactly as :class:`ColumnarSnapshot` does over one index's
segments. Ids a shard must hide (copies a move in flight made redundant) become part of its
segments' deletion masks. Near-duplicate groups stay within a shard (each shard's group
codes are numbered apart), as when every shard ranks on its own, so the answers are the
same whichever way a round runs.

A :class:`Combined` holds only the shards' arrays; it is kept (:func:`combined`) while the
shards stay at the same commits, so the per-document arrays it builds on first use (dates,
length normalisations, id ranks) serve every later query. Stored fields (the page's
articles, facet counts) are read through the shard snapshots of the current read
(:func:`read_together`), whose searchers only that read uses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from searchlib import plan as p
from searchlib._whoosh.engine import ColumnarEngine, ColumnarSnapshot, _Segment
from searchlib._whoosh.evaluate import Layout
from searchlib._whoosh.shard import FacetParts, RankedPage, facet_parts, rank
from searchlib.engine import StatKey, Stats
from searchlib.models import Article, DateBucket, Recency, Sort

__all__ = ["Combined", "combined", "rank_held", "rank_together", "read_together"]

I64 = npt.NDArray[np.int64]
T = TypeVar("T")

KEEP = 4
"""Combined views kept (one per set of shard commits and hidden ids in use; the oldest goes first)."""


class Combined(ColumnarSnapshot):
    """The segments of several shard snapshots numbered one after another (see the module docstring).

    Document number = the shard's base + its number in the shard. Only array methods are
    used on it (matching, scoring, ranking, ids, dates, groups); stored fields are read
    through the shards' own snapshots.
    """

    def __init__(self, parts: Sequence[ColumnarSnapshot], hidden: Sequence[Collection[str]]) -> None:
        self.searcher = None
        self.parts = list(parts)
        segments: list[_Segment] = []
        bases: list[int] = []
        base = 0
        for snap, gone in zip(self.parts, hidden, strict=True):
            bases.append(base)
            hide = _hidden_mask(snap, gone)
            for seg in snap.segments:
                live = seg.live
                if hide is not None:
                    shown = ~hide[seg.offset : seg.offset + seg.cols.doc_count]
                    live = shown if live is None else np.asarray(live) & shown
                segments.append(_Segment(seg.cols, base + seg.offset, live))
            base += snap.size
        self.bases = np.array(bases, dtype=np.int64)
        self.segments = segments
        self.layout = Layout([(s.cols, s.offset) for s in self.segments])
        self.size = self.layout.size
        self._deleted = any(s.live is not None for s in self.segments)
        self._lock = threading.Lock()
        self._doc_freqs: dict[StatKey, int] = {}
        self._expansions: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
        self._lazy: dict[str, Any] = {}

    def part_of(self, docnums: I64) -> I64:
        """The shard (position in ``parts``) of each document number."""
        which: I64 = np.searchsorted(self.bases, docnums, side="right") - 1
        return which

    def group_codes(self) -> I64:
        """Each shard's near-duplicate group numbers, numbered apart: groups never span shards."""
        found = self._lazy.get("group_codes")
        if found is None:
            parts, start = [], 0
            for snap in self.parts:
                codes = snap.group_codes()
                parts.append(codes + start)
                start += int(codes.max()) + 1 if len(codes) else 0
            found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            self._lazy["group_codes"] = found
        return found

    def _copies(self, docnum: int) -> tuple[str, ...]:
        at = int(self.part_of(np.array([docnum], dtype=np.int64))[0])
        return self.parts[at]._copies(docnum - int(self.bases[at]))

    def split(self, docnums: I64) -> list[I64]:
        """``docnums`` (ascending) as each shard's own document numbers."""
        cuts = np.searchsorted(docnums, [*self.bases.tolist(), self.size]).tolist()
        return [docnums[cuts[i] : cuts[i + 1]] - int(self.bases[i]) for i in range(len(self.parts))]

    def articles(self, docnums: Sequence[int]) -> list[Article]:
        raise TypeError("a combined view reads no stored fields: read them through the shards' snapshots")


def _hidden_mask(snap: ColumnarSnapshot, hidden: Collection[str]) -> npt.NDArray[np.bool_] | None:
    if not hidden or snap.size == 0:
        return None
    found: npt.NDArray[np.bool_] = np.isin(snap.ids().astype(str), np.array(sorted(hidden), dtype=str))
    return found if found.any() else None


_KEPT: list[tuple[tuple[Any, ...], Combined]] = []
_KEPT_LOCK = threading.Lock()


def combined(parts: Sequence[ColumnarSnapshot], hidden: Sequence[Collection[str]]) -> Combined:
    """The :class:`Combined` view of ``parts`` hiding ``hidden``, kept while those commits are in use."""
    key = (*(id(s.layout) for s in parts), *(frozenset(h) for h in hidden))
    with _KEPT_LOCK:
        for at, (k, view) in enumerate(_KEPT):
            if k == key and all(a.layout is b.layout for a, b in zip(view.parts, parts, strict=True)):
                _KEPT.append(_KEPT.pop(at))  # most recently used last
                return view
    view = Combined(parts, hidden)
    with _KEPT_LOCK:
        _KEPT.append((key, view))
        del _KEPT[:-KEEP]
    return view


def read_together(engines: Sequence[ColumnarEngine], operation: str, fn: Callable[[list[ColumnarSnapshot]], T]) -> T:
    """``fn`` on a snapshot of each engine's latest commit, all held at once (one read inside the next)."""

    def step(held: list[ColumnarSnapshot]) -> T:
        if len(held) == len(engines):
            return fn(held)
        return engines[len(held)].read(operation, lambda snap: step([*held, snap]))

    return step([])


def rank_together(
    snaps: Sequence[ColumnarSnapshot],
    plan: p.Plan,
    *,
    stats: Stats | None,
    sort: Sort,
    wanted: int,
    collapse: bool,
    recency: Recency | None,
    facets: DateBucket | None,
    hidden: Sequence[Collection[str]],
    fetch: bool = False,
) -> list[RankedPage]:
    """Every shard's part of the first ``wanted`` matches of all ``snaps`` together, ranked in one pass.

    The arguments are those of :func:`searchlib._whoosh.shard.rank` (``hidden``: one set per
    shard). Returns one page per shard: its hits among the overall first ``wanted`` (so
    merging the pages gives the same page as merging every shard's own first ``wanted``),
    its facet counts and, with ``fetch``, its hits' articles. The total of every match is
    counted in the first page (the others count 0): a round's total is the sum of its pages'.
    """
    view = combined(snaps, hidden)
    ranked = view.evaluate(plan, stats, sort=sort, offset=0, limit=wanted, collapse=collapse, recency=recency)
    docnums = ranked.docnums
    ids = view.ids_of(docnums)
    dates = view.dates()[docnums]
    copies = ranked.copies or ((),) * len(docnums)
    where = view.part_of(docnums).tolist()
    hits: list[list[tuple[float, str, int, tuple[str, ...]]]] = [[] for _ in snaps]
    local: list[list[int]] = [[] for _ in snaps]
    for i, (at, score) in enumerate(zip(where, ranked.scores.tolist(), strict=True)):
        hits[at].append((float(score), str(ids[i]), int(dates[i]), tuple(copies[i])))
        local[at].append(int(docnums[i]) - int(view.bases[at]))
    counted: list[FacetParts | None] = [None] * len(snaps)
    if facets is not None:
        matched = view.matches(plan)
        for at, docs in enumerate(view.split(matched)):
            counted[at] = facet_parts(snaps[at], docs, facets)
    return [
        RankedPage(
            ranked.total if at == 0 else 0,
            tuple(hits[at]),
            counted[at],
            tuple(snap.articles(local[at])) if fetch and local[at] else (),
        )
        for at, snap in enumerate(snaps)
    ]


def rank_held(
    snaps: Sequence[ColumnarSnapshot],
    targets: Sequence[int],
    plan: p.Plan,
    *,
    scored: bool,
    hidden: Sequence[Collection[str]],
    **options: Any,
) -> list[RankedPage]:
    """A whole ranking round on snapshots of every shard held at once (:func:`read_together`).

    ``scored``: the statistics are summed over all ``snaps`` here first (every shard counts,
    pruned or not, as one index's statistics would); then the shards at positions ``targets``
    rank together (one shard: on its own, :func:`searchlib._whoosh.shard.rank`). ``hidden``:
    one set per target; ``options`` as :func:`rank_together`'s.
    """
    stats: Stats | None = None
    if scored:
        stats = Stats(0, {}, {})
        for snap in snaps:
            stats = stats.merged(snap.collect_stats(plan))
    chosen = [snaps[t] for t in targets]
    if len(chosen) == 1:
        return [rank(chosen[0], plan, stats=stats, hidden=hidden[0], **options)]
    return rank_together(chosen, plan, stats=stats, hidden=hidden, **options)
