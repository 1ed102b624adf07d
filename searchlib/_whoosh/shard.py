"""One shard's part of an archive query, in plain values (no engine object leaves this module).

An archive (:mod:`searchlib.archive`) scores a query as Elasticsearch's DFS query-then-fetch
does: the statistics scoring depends on (:meth:`ColumnarSnapshot.collect_stats`) are summed
over every shard (:meth:`Stats.merged`), and every shard ranks its matches with the sums
(:func:`rank`, through the engine's ``evaluate(plan, stats)``), so a score is the float one
index holding every shard's articles would give. Everything here runs on the worker that holds the shard.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from searchlib._whoosh import analytics as wa
from searchlib._whoosh import keywords as kw
from searchlib._whoosh import schema as sch
from searchlib._whoosh import vocabulary as wv
from searchlib._whoosh.engine import ColumnarSnapshot
from searchlib._whoosh.vocabulary import Spelling, like_terms
from searchlib.engine import Stats
from searchlib.models import Article, DateBucket, Recency, Sort
from searchlib.plan import Plan, scored_leaves

__all__ = [
    "RankedPage",
    "ShardStats",
    "Spelling",
    "background",
    "date_counts",
    "duplicate_groups",
    "entity_names",
    "facet_parts",
    "held",
    "like_terms",
    "live_ids",
    "matches",
    "rank",
    "related_counts",
    "shard_stats",
    "spelling",
]

ALL = 1 << 40
"""A facet size that keeps every value (the archive cuts the merged counts)."""

FacetParts = tuple[dict[str, int], dict[str, str], dict[str, int], dict[str, int]]
"""(entity key -> count, entity key -> display name, date label -> count, source -> count)."""


@attrs.frozen
class RankedPage:
    """One shard's best matches and counts."""

    total: int
    hits: tuple[tuple[float, str, int, tuple[str, ...]], ...]
    """(score, article id, date key, ids of near-duplicate copies) in this shard's rank order."""
    facets: FacetParts | None
    articles: tuple[Article, ...] = ()
    """With ``fetch``: the stored article of each hit, in the same order (read from the same commit)."""


Commit = tuple[int, tuple[tuple[str, int], ...]]
"""What identifies the commit a snapshot reads: (generation, ((segment name, deleted documents), ...))."""


@attrs.frozen
class ShardStats:
    """One shard's statistics for a plan's scored leaves, at one commit (what a thin client caches).

    ``leaves``: (scored leaf, {stat key: documents holding it}) for each distinct scored leaf of
    the plan; a prefix leaf's keys are its expansions in this shard. Summed over every shard
    (:class:`searchlib.engine.Stats`), they are the statistics one index holding every shard's
    articles collects.
    """

    commit: Commit
    doc_count: int
    field_lengths: dict[str, int]
    leaves: tuple[tuple[Any, dict[Any, int]], ...]


def commit_of(snap: ColumnarSnapshot) -> Commit:
    """The commit ``snap`` reads: its generation and each segment's name and deletions.

    The segment names (random per segment) tell a shard folder made again apart from the
    one it replaced, though both count generations from 1.
    """
    reader = snap.searcher.reader()
    segments = tuple(
        (str(r._segment.segment_id()), int(r._segment.deleted_count()))
        for r, _offset in reader.leaf_readers()
        if hasattr(r, "_segment")
    )
    generation = reader.generation()
    return (int(generation) if isinstance(generation, int) else -1, segments)


def shard_stats(snap: ColumnarSnapshot, plan: Plan) -> ShardStats:
    """This shard's :class:`ShardStats` for ``plan`` (each scored leaf's keys found as the engine finds them)."""
    stats = snap.collect_stats(plan)
    leaves = []
    for leaf in dict.fromkeys(scored_leaves(plan.root)):
        keys = snap._stat_keys(attrs.evolve(plan, root=leaf))
        leaves.append((leaf, {key: stats.doc_freqs[key] for key in keys}))
    return ShardStats(commit_of(snap), stats.doc_count, dict(stats.field_lengths), tuple(leaves))


def stale_stats(snap: ColumnarSnapshot, plan: Plan, expect: Commit | None) -> ShardStats | None:
    """``None`` if ``snap`` reads commit ``expect``, else this shard's statistics at the commit it reads."""
    return None if expect is not None and commit_of(snap) == expect else shard_stats(snap, plan)


def _hidden_docs(snap: ColumnarSnapshot, hidden: Collection[str]) -> npt.NDArray[np.int64]:
    if not hidden or snap.size == 0:
        return np.zeros(0, dtype=np.int64)
    ids = snap.ids().astype(str)
    return np.flatnonzero(np.isin(ids, np.array(sorted(hidden), dtype=str)) & snap.live()).astype(np.int64)


def matches(snap: ColumnarSnapshot, plan: Plan, hidden: Collection[str]) -> npt.NDArray[np.int64]:
    """Every live match of ``plan`` except the ``hidden`` ids' documents."""
    docs = snap.matches(plan)
    gone = _hidden_docs(snap, hidden)
    return docs[~np.isin(docs, gone)] if len(gone) else docs


def rank(
    snap: ColumnarSnapshot,
    plan: Plan,
    *,
    stats: Stats | None,
    sort: Sort,
    wanted: int,
    collapse: bool,
    recency: Recency | None,
    facets: DateBucket | None,
    hidden: Collection[str],
    fetch: bool = False,
) -> RankedPage:
    """The first ``wanted`` matches in ``sort`` order, scored with the archive's ``stats``.

    ``hidden`` ids (copies an article move has made redundant) are neither returned nor
    counted: they are masked out before ranking (a one-shard :class:`searchlib._whoosh.multi.Combined`
    view), so a near-duplicate group whose first member is hidden is shown by its next, and
    the answer is the one a round ranked over several shards together gives.
    ``fetch``: also return the hits' stored articles, saving the archive a separate fetching
    round (it asks for them when the page is small).
    """
    if len(_hidden_docs(snap, hidden)):
        from searchlib._whoosh import multi  # it builds on this module

        return multi.rank_together(
            [snap],
            plan,
            stats=stats,
            sort=sort,
            wanted=wanted,
            collapse=collapse,
            recency=recency,
            facets=facets,
            hidden=[hidden],
            fetch=fetch,
        )[0]
    ranked = snap.evaluate(plan, stats, sort=sort, offset=0, limit=wanted, collapse=collapse, recency=recency)
    articles = tuple(snap.articles(ranked.docnums.tolist())) if fetch and len(ranked.docnums) else ()
    # the fetched articles carry their ids: no decoding of the id column, as one index's search
    ids: Any = [a.id for a in articles] if articles else snap.ids_of(ranked.docnums)
    dates = snap.dates()[ranked.docnums]
    copies = ranked.copies or ((),) * len(ranked.docnums)
    hits = [
        (float(score), str(ids[i]), int(dates[i]), tuple(copies[i])) for i, score in enumerate(ranked.scores.tolist())
    ]
    counted = facet_parts(snap, snap.matches(plan), facets) if facets is not None else None
    return RankedPage(ranked.total, tuple(hits), counted, articles)


def facet_parts(snap: ColumnarSnapshot, docs: npt.NDArray[np.int64], bucket: DateBucket) -> FacetParts:
    """Entity, date and source counts over ``docs`` (this shard's document numbers), every value kept."""
    if not len(docs):
        return {}, {}, {}, {}
    found = snap.facets(docs, bucket, ALL)
    entities = {sch.entity_key(f.value): f.count for f in found.entities}
    names = {sch.entity_key(f.value): f.value for f in found.entities}
    return entities, names, {f.value: f.count for f in found.dates}, {f.value: f.count for f in found.sources}


def date_counts(snap: ColumnarSnapshot, plan: Plan, hidden: Collection[str], bucket: DateBucket) -> dict[str, int]:
    """Matches per date bucket label."""
    docs = matches(snap, plan, hidden)
    return snap.date_counts(docs, bucket) if len(docs) else {}


def related_counts(
    snap: ColumnarSnapshot, plan: Plan, hidden: Collection[str]
) -> tuple[int, dict[str, int], dict[str, str], dict[str, set[str]]]:
    """(matches, entity key -> matching documents, display names, alias keys)."""
    docs = matches(snap, plan, hidden)
    if not len(docs):
        return 0, {}, {}, {}
    counts, display, aliases = wa.entity_counts(snap.table_parts(docs))
    return len(docs), dict(counts), display, aliases


def background(snap: ColumnarSnapshot, keys: Sequence[str]) -> tuple[int, dict[str, int]]:
    """(live documents, live documents naming each entity key)."""
    if snap.size == 0:
        return 0, dict.fromkeys(keys, 0)
    return snap.doc_count(), {key: kw.live_doc_frequency(snap.segments, "entity", key) for key in keys}


def entity_names(snap: ColumnarSnapshot) -> dict[str, str]:
    """Entity key -> stored name, over the entities of live documents (for ``stats().entities``)."""
    return wa.entity_names(snap.table_parts())


def live_ids(snap: ColumnarSnapshot) -> list[tuple[str, Any]]:
    """(id, date) of every live document (for checking an archive's routing)."""
    if snap.size == 0:
        return []
    ids, dates, live = snap.ids(), snap.dates(), snap.live()
    return [(str(ids[d]), sch.key_date(int(dates[d]))) for d in np.flatnonzero(live).tolist()]


def held(snap: ColumnarSnapshot, ids: Sequence[str]) -> list[str]:
    """Which of ``ids`` this shard's live documents hold (an archive build's move detection)."""
    if snap.size == 0 or not ids:
        return []
    mine = snap.ids().astype(str)[snap.live()]
    return [str(i) for i in np.intersect1d(mine, np.array(ids, dtype=str))]


def duplicate_groups(
    snap: ColumnarSnapshot, plan: Plan | None, hidden: Collection[str], size: int
) -> list[list[Article]]:
    """This shard's near-duplicate groups touching ``plan``'s matches (every group: ``None``), largest first.

    ``hidden`` ids are left out of their groups; a group left with one member is dropped.
    """
    docs = None if plan is None else matches(snap, plan, hidden)
    groups = snap.duplicate_groups(docs, size + len(hidden))
    kept = [[a for a in g if a.id not in hidden] for g in groups]
    return [g for g in kept if len(g) > 1][:size]


def spelling(snap: ColumnarSnapshot, words: Sequence[str]) -> dict[str, Spelling]:
    """For each word: held by this shard, or its closest indexed word (edit distance, documents, stem, written form)."""
    return wv.spelling(snap, words)
