"""An archive's ranking round: statistics summed over every shard, one round, one merge.

:func:`summed_stats` sums every shard's statistics for a plan (DFS query-then-fetch: the
scores equal one index's); :func:`ranked` has the shards the date filters leave rank their
matches with those sums and merges the best ``offset + limit`` by (score, article id);
:func:`merge_facets` adds the shards' facet counts. A round the dispatcher runs in this
process is one read of every shard: statistics summed, then the plan evaluated once over
all target shards' segments together with one top-k (:func:`searchlib.archive.tasks.rank_here`);
a round on the executor is one "rank" job per shard, with the sums computed here first -- or,
for a thin client (``local_share=False``, which opens no shard), taken from the statistics its
workers reported, cached per shard commit (:func:`thin_round`, :mod:`.statcache`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from searchlib import shards
from searchlib.archive import tasks
from searchlib.archive.executor import Job
from searchlib.archive.manifest import Manifest
from searchlib.archive.routing import shards_between
from searchlib.archive.statcache import StatsCache
from searchlib.engine import Stats
from searchlib.errors import ArchiveError
from searchlib.models import Article, DateBucket, FacetCount, Facets, Recency, Sort
from searchlib.plan import scored_leaves, shape_key

if TYPE_CHECKING:
    from searchlib.archive.archive import Archive

__all__ = ["FETCH_WITH_RANK", "STALE_ATTEMPTS", "merge_facets", "ranked", "summed_stats", "thin_round"]

FETCH_WITH_RANK = 200
"""Most articles (page end x shards ranked) the ranking round returns along with its hits;
larger pages fetch only the final page's articles in a separate round."""

STALE_ATTEMPTS = 8
"""Times a thin client's round is asked again because a shard had committed since its statistics were cached."""


def summed_stats(archive: Archive, m: Manifest, plan: Any, query: str) -> Stats:
    """The statistics of every shard in ``m``, summed, gathered in this process.

    Collecting them is a few dictionary look-ups per shard (each commit's snapshot keeps
    its document frequencies, counts and field lengths), far cheaper than a round of
    shard tasks, so only the ranking round goes to the executor.
    """
    stats = Stats(0, {}, {})
    for name in m.shards:
        stats = stats.merged(shards.run(archive._shard(name), "stats", {"plan": plan, "query": query}))
    return stats


def thin_round(
    archive: Archive,
    m: Manifest,
    plan: Any,
    query: str,
    targets: Sequence[str],
    job: Callable[[str, Stats | None], dict[str, Any]],
) -> list[shards.RankedPage]:
    """A thin client's ranking round, scored with cached statistics (:mod:`.statcache`).

    One round when every shard's statistics of the plan's leaves are cached: "rank" jobs on
    the targets and "stats_at" jobs on the other shards, each naming the commit its cached
    statistics came from; a shard at another commit replies with its statistics there instead,
    and the round is asked again with the new sums. Leaves not cached yet cost one "stats_at"
    round first. The sums are those :func:`summed_stats` collects, so the answers are too.
    """
    cache: StatsCache = archive._stats_cache
    leaves = list(dict.fromkeys(scored_leaves(plan.root)))
    others = [s for s in m.shards if s not in set(targets)]

    def round_jobs(stats: Stats, at: Mapping[str, shards.Commit]) -> list[Job]:
        checks = {"plan": plan, "query": query}
        return [
            *archive._jobs(targets, "rank", lambda s: {**job(s, stats), "expect": at[s]}),
            *archive._jobs(others, "stats_at", lambda s: {**checks, "expect": at[s]}),
        ]

    for _attempt in range(STALE_ATTEMPTS):
        missing = cache.missing(m.shards, leaves)
        if missing:  # first sight of a leaf (or a shard): its statistics, from the shards' workers
            cache.forget(m.shards)  # shards no longer in the manifest
            asked = archive._jobs(missing, "stats_at", lambda _s: {"plan": plan, "query": query, "expect": None})
            for name, found in zip(missing, archive._run(asked), strict=True):
                cache.store(name, found)
        summed = cache.summed(m.shards, leaves)
        if summed is None:
            continue
        jobs = round_jobs(*summed)
        replies = archive._run(jobs)
        stale = [(j.shard, r) for j, r in zip(jobs, replies, strict=True) if isinstance(r, shards.ShardStats)]
        if not stale:
            return replies[: len(targets)]
        for name, found in stale:
            cache.store(name, found)
    raise ArchiveError(
        f"the shards of the archive at {archive.root} committed during each of {STALE_ATTEMPTS} attempts to rank",
        path=archive.root,
    )


def ranked(
    archive: Archive,
    plan: Any,
    query: str,
    filters: Any,
    *,
    sort: Sort,
    offset: int,
    limit: int,
    collapse: bool,
    recency: Recency | None,
    bucket: DateBucket | None,
    hide: Mapping[str, frozenset[str]] | None = None,
    manifest: Manifest | None = None,
) -> tuple[int, list[tuple[float, Article, tuple[str, ...]]], Any]:
    """(total, the page's (score, article, copies), per-shard facet counts) of ``plan`` on one manifest.

    ``hide``: shard name -> more ids that shard must neither return nor count (besides
    the copies a move in flight made redundant). ``manifest``: the one the caller read just
    before (its alias table's), for the first attempt (``Archive._pinned``).
    """
    hide = hide or {}
    collapse_duplicates = collapse

    def compute(
        m: Manifest, fetched: dict[str, Article]
    ) -> tuple[int, list[tuple[float, str, int, tuple[str, ...], str]], Any]:
        """Rank on every target shard; with a small page, ``fetched`` gets the hits' articles."""
        targets = shards_between(m, filters.date_from, filters.date_to)
        if not targets:
            return 0, [], [] if bucket else None
        # a plan no leaf of which scores (a date range alone, filters) needs no statistics: the
        # shards it covers are all a round reads, here or on the executor
        scored = bool((sort is Sort.SCORE or recency is not None) and limit and scored_leaves(plan.root))
        cost = f"rank {shape_key(plan.root)}"  # rounds are timed per query shape (see .dispatch)
        here = archive._dispatch.runs_here(cost, len(targets))
        # a round run here returns only the overall best ``offset + limit`` hits, so their articles
        fetch = limit > 0 and (offset + limit) * (1 if here else len(targets)) <= FETCH_WITH_RANK

        def job(s: str, stats: Stats | None) -> dict[str, Any]:
            return {
                "plan": plan,
                "query": query,
                "stats": stats,
                "sort": sort,
                "wanted": offset + limit,
                "collapse": collapse_duplicates,
                "recency": recency,
                "facets": bucket,
                "hidden": m.hidden(s) | hide.get(s, frozenset()),
                "fetch": fetch,
            }

        pages: list[shards.RankedPage]
        if here:  # one pass over every shard, in one read
            names = list(m.shards)
            at = [names.index(s) for s in targets]
            indexes = [archive._shard(s) for s in names]
            jobs = [job(s, None) for s in targets]
            pages = archive._dispatch.timed_here(
                cost, len(targets), lambda: tasks.rank_here(indexes, at, query, scored, jobs)
            )
        elif scored and not archive.local_share:  # a thin client: no shard read here
            pages = thin_round(archive, m, plan, query, targets, job)
        else:
            stats = summed_stats(archive, m, plan, query) if scored else None
            pages = archive._run(archive._jobs(targets, "rank", lambda s: job(s, stats)), kind=cost, split=True)
        fetched.update((a.id, a) for p in pages for a in p.articles)
        merged = [(*hit, name) for name, p in zip(targets, pages, strict=True) for hit in p.hits]
        if sort is Sort.SCORE:
            merged.sort(key=lambda h: (-h[0], h[1]))
        elif sort is Sort.NEWEST:
            merged.sort(key=lambda h: (-h[2], h[1]))
        else:
            merged.sort(key=lambda h: (h[2], h[1]))
        return sum(p.total for p in pages), merged[offset : offset + limit], [p.facets for p in pages]

    def fetch(m: Manifest) -> tuple[int, list[tuple[float, Article, tuple[str, ...]]], Any]:
        found: dict[str, Article] = {}
        total, page_hits, counted = compute(m, found)
        by_shard: dict[str, list[str]] = {}
        for hit in page_hits:
            if hit[1] not in found:
                by_shard.setdefault(hit[4], []).append(hit[1])
        names = list(by_shard)
        fetched = archive._run(archive._jobs(names, "fetch", lambda s: {"ids": by_shard[s]})) if names else []
        for articles in fetched:
            found.update((a.id, a) for a in articles if a is not None)
        missing = [h[1] for h in page_hits if h[1] not in found]
        if missing:
            raise ArchiveError(f"articles {missing[:3]} vanished between ranking and fetching", path=archive.root)
        return total, [(h[0], found[h[1]], h[3]) for h in page_hits], counted

    return archive._pinned(fetch, manifest)  # type: ignore[no-any-return]


def merge_facets(parts: Sequence[Any], bucket: DateBucket, size: int) -> Facets:
    entities: dict[str, int] = {}
    display: dict[str, str] = {}
    dates: dict[str, int] = {}
    sources: dict[str, int] = {}
    for part in parts:
        if part is None:
            continue
        ents, names, ds, srcs = part
        for key, n in ents.items():
            entities[key] = entities.get(key, 0) + n
            display.setdefault(key, names[key])
        for key, n in ds.items():
            dates[key] = dates.get(key, 0) + n
        for key, n in srcs.items():
            sources[key] = sources.get(key, 0) + n

    def top(counter: dict[str, int], names: dict[str, str] | None = None) -> tuple[FacetCount, ...]:
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:size]
        return tuple(FacetCount(names[k] if names else k, n) for k, n in ranked)

    return Facets(
        entities=top(entities, display),
        dates=tuple(FacetCount(k, n) for k, n in sorted(dates.items())),
        sources=top(sources),
        date_bucket=bucket,
    )
