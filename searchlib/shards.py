"""The engine-level shard API: what an archive asks of one index, or of several held at once.

An archive (:mod:`searchlib.archive`) is many ordinary indexes; everything it needs from
their storage goes through this module, in searchlib's own values (plans, statistics,
models, plain ids and counts), never a Whoosh or engine object -- so ``searchlib/archive/``
imports nothing from ``searchlib._whoosh`` (a test checks it), as the brief's one engine
interface wants. Below this seam: :mod:`searchlib._whoosh.shard` (one shard's part of a
query on its snapshot) and :mod:`searchlib._whoosh.multi` (a round over several shards'
snapshots in one pass).

:func:`run` answers one read task on one open index (a worker's or the caller's);
:func:`rank_here` runs a whole ranking round on every shard the caller holds open; the
helpers below are the engine's rules archives must share with one index (entity keys, date
keys and buckets, edit distance).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from searchlib._whoosh import multi
from searchlib._whoosh import shard as wsh
from searchlib._whoosh.analytics import bucket_labels
from searchlib._whoosh.schema import entity_key
from searchlib._whoosh.search import edit_distance
from searchlib._whoosh.shard import Commit, FacetParts, RankedPage, ShardStats, Spelling
from searchlib.index import Index

__all__ = [
    "Commit",
    "FacetParts",
    "RankedPage",
    "ShardStats",
    "Spelling",
    "bucket_labels",
    "edit_distance",
    "entity_key",
    "rank_given",
    "rank_here",
    "run",
]


def run(index: Index, kind: str, args: dict[str, Any]) -> Any:
    """Read task ``kind`` of an archive on one open shard index (a worker's cached one, or the archive's own).

    ``args`` are plain, picklable values (plans, sets of ids, searchlib's models); so is the
    result (:class:`RankedPage`, counts, articles, :class:`Spelling`, ids).
    """
    read = index._engine.read
    if kind == "stats":
        return index._guard(args["query"], lambda: read("archive stats", lambda snap: snap.collect_stats(args["plan"])))
    if kind == "stats_at":  # a thin client's statistics: None while the shard is at commit ``expect``
        plan, expect = args["plan"], args["expect"]
        at = lambda snap: wsh.stale_stats(snap, plan, expect)  # noqa: E731 - read's callback
        return index._guard(args["query"], lambda: read("archive stats", at))
    if kind == "rank":
        rest = {k: v for k, v in args.items() if k not in ("query", "expect")}
        if "expect" not in args:
            return index._guard(args["query"], lambda: read("archive search", lambda snap: wsh.rank(snap, **rest)))

        def checked(snap: Any) -> RankedPage | ShardStats:
            # ranked with a thin client's cached sums only if they hold this commit's statistics
            stale = wsh.stale_stats(snap, rest["plan"], args["expect"])
            return stale if stale is not None else wsh.rank(snap, **rest)

        return index._guard(args["query"], lambda: read("archive search", checked))
    if kind == "fetch":
        return read("archive fetch", lambda snap: snap.get_many(args["ids"]))
    if kind == "dates":
        return read(
            "archive timeline", lambda snap: wsh.date_counts(snap, args["plan"], args["hidden"], args["bucket"])
        )
    if kind == "related":
        return read("archive related", lambda snap: wsh.related_counts(snap, args["plan"], args["hidden"]))
    if kind == "background":
        return read("archive background", lambda snap: wsh.background(snap, args["keys"]))
    if kind == "info":
        return index.stats(), read("archive entities", wsh.entity_names)
    if kind == "duplicates":
        return read(
            "archive duplicates", lambda snap: wsh.duplicate_groups(snap, args["plan"], args["hidden"], args["size"])
        )
    if kind == "spelling":
        return read("archive suggest", lambda snap: wsh.spelling(snap, args["words"]))
    if kind == "get":
        return read("archive get", lambda snap: snap.get(args["id"]))
    if kind == "held":
        return read("archive ids", lambda snap: wsh.held(snap, args["ids"]))
    if kind == "live_ids":
        return read("check archive", wsh.live_ids)
    if kind == "like_terms":
        return read("more like this", lambda snap: wsh.like_terms(snap, args["id"], args["terms"]))
    if kind == "count":
        return read("archive count", lambda snap: len(wsh.matches(snap, args["plan"], args["hidden"])))
    raise ValueError(f"unknown shard task {kind!r}")


def rank_here(
    indexes: Sequence[Index], targets: Sequence[int], query: str, scored: bool, args: Sequence[dict[str, Any]]
) -> list[RankedPage]:
    """A whole ranking round in this process: a :class:`RankedPage` for each target, in order.

    ``indexes``: every shard of the manifest, held open by the archive; ``targets``: the
    positions of those the date filters leave, ``args[i]`` the "rank" job arguments of the
    i-th (their ``stats`` unused). One read holds every shard's latest commit: the
    statistics are summed over all of them (``scored``), then the targets are evaluated once
    over all their segments together, with one top-k (:func:`searchlib._whoosh.multi.rank_held`),
    the same answers as a "rank" job on each target.
    """
    first = args[0]
    options = {k: v for k, v in first.items() if k not in ("query", "hidden", "stats", "plan")}
    hidden = [a["hidden"] for a in args]
    plan = first["plan"]
    if not scored:  # no statistics to sum (the caller's ``scored`` is False for a plan that scores
        # nothing: a date range alone, filters), so only the target shards are read
        indexes, targets = [indexes[t] for t in targets], range(len(targets))
    engines = [index._engine for index in indexes]

    def held(snaps: list[Any]) -> list[Any]:
        return multi.rank_held(snaps, targets, plan, scored=scored, hidden=hidden, **options)

    return indexes[0]._guard(query, lambda: multi.read_together(engines, "archive search", held))


def rank_given(indexes: Sequence[Index], query: str, args: Sequence[dict[str, Any]]) -> list[RankedPage]:
    """Several "rank" jobs of one round (``args[i]`` for ``indexes[i]``, the same but ``hidden``) in one pass.

    What a worker holding several of a round's shards runs instead of a "rank" job on each:
    one read holds all their commits and the plan is evaluated once over all their segments
    with the round's ``stats`` (:func:`searchlib._whoosh.multi.rank_together`). Each page holds
    its shard's hits among the first ``wanted`` of these shards together, so merging the pages
    gives what merging every shard's own first ``wanted`` gives -- with fewer hits (and, with
    ``fetch``, fewer articles) to send back. With ``expect`` (a thin client's cached
    statistics, :mod:`searchlib.archive.statcache`): if any shard is not at the commit its
    ``expect`` names, nothing is ranked and each page is that shard's :class:`ShardStats` instead.
    """
    first = args[0]
    options = {k: v for k, v in first.items() if k not in ("query", "hidden", "plan", "expect")}
    hidden = [a["hidden"] for a in args]
    engines = [index._engine for index in indexes]

    def held(snaps: list[Any]) -> list[Any]:
        if "expect" in first:  # a thin client's cached sums: every shard must be at the commit they hold
            stale = [wsh.stale_stats(snap, first["plan"], a["expect"]) for snap, a in zip(snaps, args, strict=True)]
            if any(found is not None for found in stale):  # the round is asked again: every shard's statistics
                return [found or wsh.shard_stats(snap, first["plan"]) for found, snap in zip(stale, snaps, strict=True)]
        return multi.rank_together(snaps, first["plan"], hidden=hidden, **options)

    return indexes[0]._guard(query, lambda: multi.read_together(engines, "archive search", held))
