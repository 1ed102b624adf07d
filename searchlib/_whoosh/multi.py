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

A :class:`Combined` holds only the shards' arrays (no snapshot, no searcher); it is kept
(:func:`combined`) while the shards stay at the same commits, so the per-document arrays it
builds on first use (dates, length normalisations, id ranks; from its eighth round, the
article id of every document, so a page's ids are not decoded segment by segment each query)
serve every later query, and it goes when one of those commits does (its shard moved on,
or was closed and let go): a view never keeps a file open or mapped that its shards'
snapshots no longer hold. Stored fields
(the page's articles, facet counts) are read through the shard snapshots of the current read
(:func:`read_together`), whose searchers only that read uses.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from searchlib import plan as p
from searchlib._whoosh.engine import ColumnarEngine, ColumnarSnapshot, _Segment
from searchlib._whoosh.shard import FacetParts, RankedPage, facet_parts, rank
from searchlib.engine import Stats
from searchlib.models import Article, DateBucket, Recency, Sort

__all__ = ["Combined", "combined", "rank_held", "rank_together", "read_together"]

I64 = npt.NDArray[np.int64]
T = TypeVar("T")

KEEP = 16
"""Combined views kept (one per set of shard commits and hidden ids in use; the oldest goes first).

A process with more sets in use than this rebuilds a view on every search (3-4 ms at 100,000
articles): with 4, the archive benchmark's eleven setups open at once ran 3-7x one index instead
of 1.0-2.2x. A view dies with its shards' commits anyway, so the bound only caps live ones."""

WHOLE_COLUMNS_FROM = 8
"""The round a kept :class:`Combined` view serves from which it reads article ids from one column
of every document's id, built once for the view (~10-16 ms at 100,000 articles), instead of
decoding each page's ids (and tie-breaking candidates' ids) segment by segment, term by term,
every query. Only a view that keeps serving builds it: one used a few times before a new commit
replaces it, or evicted by other views (more than ``KEEP`` sets of commits or archives in use in
one process), would pay the build for little."""


class Combined(ColumnarSnapshot):
    """The segments of several shard snapshots numbered one after another (see the module docstring).

    Document number = the shard's base + its number in the shard. Only array methods are
    used on it (matching, scoring, ranking, ids, dates, groups); stored fields are read
    through the shards' own snapshots. It holds the shards' segment arrays and nothing else
    of theirs -- no searcher (open files), no snapshot -- so it keeps no commit in use.
    """

    def __init__(self, parts: Sequence[ColumnarSnapshot], hidden: Sequence[Collection[str]]) -> None:
        self.searcher = None
        segments: list[_Segment] = []
        listed: list[npt.NDArray[np.bool_] | None] = []
        bases: list[int] = []
        ends: list[int] = []
        base = 0
        for snap, gone in zip(parts, hidden, strict=True):
            bases.append(base)
            hide = _hidden_mask(snap, gone)
            for seg in snap.segments:
                live = seg.live
                listed.append(live)
                if hide is not None:
                    shown = ~hide[seg.offset : seg.offset + seg.cols.doc_count]
                    live = shown if live is None else np.asarray(live) & shown
                segments.append(_Segment(seg.cols, base + seg.offset, live))
            base += snap.size
            ends.append(base)
        self.bases = np.array(bases, dtype=np.int64)
        self._ends = ends
        self._listed = listed  # each segment's own deletions, the hidden ids not masked out
        self.segments = segments
        self._adopt()
        self.uses = 1  # rounds served; counted by :class:`_Kept` (see ``WHOLE_COLUMNS_FROM``)

    def ids_of(self, docnums: I64) -> npt.NDArray[Any]:
        """The article ids of ``docnums``: from the column of every id once the view is reused."""
        if self.uses >= WHOLE_COLUMNS_FROM:
            found: npt.NDArray[Any] = self.ids()[docnums]  # built once, then kept with the view
            return found
        return super().ids_of(docnums)

    def _id_orders(self) -> list[I64] | None:
        """Once the view is reused: one order of every document by article id, so a date range
        walks one list, not one per segment whose picks are then sorted by id again."""
        if self.uses < WHOLE_COLUMNS_FROM:
            return super()._id_orders()
        found = self._lazy.get("id_order")
        if found is None:
            found = self._lazy["id_order"] = np.argsort(self.id_rank())  # built once, then kept with the view
        return [found]

    def _local_id_ranks(self, docnums: I64) -> I64:
        """Once the view is reused: from the rank of every document by article id, built once."""
        if self.uses < WHOLE_COLUMNS_FROM:
            return super()._local_id_ranks(docnums)
        ranked: I64 = self.id_rank()[docnums]
        return ranked

    def part_of(self, docnums: I64) -> I64:
        """The shard (position among the view's parts) of each document number."""
        which: I64 = np.searchsorted(self.bases, docnums, side="right") - 1
        return which

    def group_codes(self) -> I64:
        """Each shard's near-duplicate group numbers, numbered apart: groups never span shards.

        Within a shard, the numbers its own snapshot gives (:meth:`ColumnarSnapshot.group_codes`).
        """
        found = self._lazy.get("group_codes")
        if found is None:
            groups = self._keyword_column("group").astype(str)
            parts, start = [], 0
            for lo, hi in zip(self.bases.tolist(), self._ends, strict=True):
                _, codes = np.unique(groups[lo:hi], return_inverse=True)
                parts.append(codes.astype(np.int64) + start)
                start += int(codes.max()) + 1 if hi > lo else 0
            found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            self._lazy["group_codes"] = found
        return found

    def _copies(self, docnum: int) -> tuple[str, ...]:
        """The other live members of ``docnum``'s group, hidden ids included, as its shard lists them."""
        listed = self._lazy.get("listed")
        if listed is None:
            listed = (
                np.concatenate(
                    [
                        np.ones(s.cols.doc_count, dtype=bool) if live is None else np.asarray(live)
                        for s, live in zip(self.segments, self._listed, strict=True)
                    ]
                )
                if self.segments
                else np.zeros(0, dtype=bool)
            )
            self._lazy["listed"] = listed
        codes = self.group_codes()
        members = np.flatnonzero((codes == codes[docnum]) & listed)
        ids = self.ids()
        return tuple(sorted(str(ids[m]) for m in members if m != docnum))

    def split(self, docnums: I64) -> list[I64]:
        """``docnums`` (ascending) as each shard's own document numbers."""
        cuts = np.searchsorted(docnums, [*self.bases.tolist(), self.size]).tolist()
        return [docnums[cuts[i] : cuts[i + 1]] - int(self.bases[i]) for i in range(len(self.bases))]

    def articles(self, docnums: Sequence[int]) -> list[Article]:
        raise TypeError("a combined view reads no stored fields: read them through the shards' snapshots")


def _hidden_mask(snap: ColumnarSnapshot, hidden: Collection[str]) -> npt.NDArray[np.bool_] | None:
    if not hidden or snap.size == 0:
        return None
    found: npt.NDArray[np.bool_] = np.isin(snap.ids().astype(str), np.array(sorted(hidden), dtype=str))
    return found if found.any() else None


Key = tuple[Any, ...]


class _Kept:
    """The :class:`Combined` views in use, each kept while every snapshot it was made of is alive.

    A view is keyed by its parts' commits (the identity of each snapshot's ``layout``, shared
    by every snapshot of that commit) and hidden ids. It holds none of those layouts, so when
    one of them goes -- its engine moved on to a new commit, or the index was closed and let
    go (``Archive.close()``, a worker forgetting a shard) -- a finalizer drops the view and
    with it the last reference to arrays and memory maps the snapshots no longer hold. At most
    ``keep`` views are kept (the least recently used goes first). Shared by threads.
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._views: dict[Key, tuple[Combined, list[weakref.finalize[Any, Any]]]] = {}  # least recently used first

    def __len__(self) -> int:
        return len(self._views)

    def clear(self) -> None:
        with self._lock:
            gone = list(self._views.values())
            self._views.clear()
        for _, finalizers in gone:
            for finalizer in finalizers:
                finalizer.detach()

    def get(self, parts: Sequence[ColumnarSnapshot], hidden: Sequence[Collection[str]]) -> Combined:
        """The view of ``parts`` hiding ``hidden``: the kept one, or a new one kept from now on."""
        key = (*(id(s.layout) for s in parts), *(frozenset(h) for h in hidden))
        # a key is only ever looked up while its parts are alive (the caller holds them), so an
        # entry found is of these very layouts: a dead layout's entry went with it
        with self._lock:
            found = self._views.pop(key, None)
            if found is not None:
                self._views[key] = found  # most recently used last
                found[0].uses += 1
                return found[0]
        view = Combined(parts, hidden)  # outside the lock: other threads' rounds go on meanwhile
        finalizers = [weakref.finalize(s.layout, self._drop, key) for s in parts]
        with self._lock:
            found = self._views.get(key)
            if found is None:
                self._views[key] = (view, finalizers)
                stale = list(self._views)[: max(len(self._views) - self.keep, 0)]  # never a negative bound
                evicted = [e for e in (self._views.pop(k, None) for k in stale) if e is not None]
            else:  # another thread made it meanwhile: use that one
                evicted = [(view, finalizers)]
                view = found[0]
        for _, gone in evicted:
            for finalizer in gone:
                finalizer.detach()
        return view

    def _drop(self, key: Key) -> None:
        # No lock: a finalizer runs whenever the collector does, possibly in a thread that holds
        # the lock. One dict.pop is atomic, and under the lock the dict is only read by single
        # C calls (list(), get, pop) that run no Python code, so no finalizer, in between.
        self._views.pop(key, None)


_KEPT = _Kept(KEEP)
"""This process's kept views (see :class:`_Kept`)."""


def combined(parts: Sequence[ColumnarSnapshot], hidden: Sequence[Collection[str]]) -> Combined:
    """The :class:`Combined` view of ``parts`` hiding ``hidden``, kept while those commits are in use."""
    return _KEPT.get(parts, hidden)


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
    view: Combined | None = None,
) -> list[RankedPage]:
    """Every shard's part of the first ``wanted`` matches of all ``snaps`` together, ranked in one pass.

    The arguments are those of :func:`searchlib._whoosh.shard.rank` (``hidden``: one set per
    shard; ``view``: their :func:`combined` view, if the caller holds it already). Returns one
    page per shard: its hits among the overall first ``wanted`` (so
    merging the pages gives the same page as merging every shard's own first ``wanted``),
    its facet counts and, with ``fetch``, its hits' articles. The total of every match is
    counted in the first page (the others count 0): a round's total is the sum of its pages'.
    """
    if view is None:
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
    chosen = [snaps[t] for t in targets]
    # every shard a target (no date filter pruned one): the view of them all keeps their sums
    view = combined(chosen, hidden) if len(chosen) > 1 and len(chosen) == len(snaps) else None
    stats = _summed_stats(snaps, plan, view) if scored else None
    if len(chosen) == 1:
        return [rank(chosen[0], plan, stats=stats, hidden=hidden[0], **options)]
    return rank_together(chosen, plan, stats=stats, hidden=hidden, view=view, **options)


SUMMED_KEPT = 4096
"""Plans whose summed statistics a :class:`Combined` view keeps (past this it starts over)."""
SUMMED_MAX_KEYS = 64
"""Most words, phrases and keywords a kept sum holds: a plan with broad prefixes (up to
``plan.MAX_PREFIX_TERMS`` words each) is summed again each time rather than kept, so a view's
sums stay a few MB whatever the queries."""


def _summed_stats(snaps: Sequence[ColumnarSnapshot], plan: p.Plan, view: Combined | None = None) -> Stats:
    """The statistics of ``plan`` summed over ``snaps``; kept by ``view`` (the view of these very
    snapshots, whose commits never change) for the next search of the same plan."""
    kept: dict[p.Plan, Stats] | None = None
    if view is not None:
        kept = view._lazy.get("summed_stats")
        if kept is None:
            kept = view._lazy["summed_stats"] = {}
        found = kept.get(plan)
        if found is not None:
            return found
    stats = Stats(0, {}, {})
    for snap in snaps:
        stats = stats.merged(snap.collect_stats(plan))
    if kept is not None and len(stats.doc_freqs) <= SUMMED_MAX_KEYS:
        if len(kept) >= SUMMED_KEPT:
            kept.clear()
        kept[plan] = stats
    return stats
