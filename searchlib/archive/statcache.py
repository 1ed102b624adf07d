"""A thin client's statistics: every shard's, cached per commit, summed with no read of a shard.

A client that sends every shard task away (``local_share=False``) scores a query with the
statistics summed over every shard of the manifest, as any archive search does (DFS
query-then-fetch), but without opening a shard: it keeps, per shard, the statistics its
workers reported for each scored leaf (a word, phrase, keyword or prefix) together with the
commit they were read at (:class:`searchlib.shards.ShardStats`). A query whose leaves are all
cached is sent in **one** round: each "rank" job carries the sums and the commit its shard was
at (``expect``), and each shard the date filters leave out gets a "stats_at" job checking the
same; a shard at another commit ranks nothing and sends back its statistics at the commit it
reads instead, which replaces its cache entry, and the round is asked again. So the sums are
exact: a round's answers are used only when every shard of the manifest was at the commit its
cached statistics came from. A leaf seen for the first time (or a shard new to the manifest)
costs one "stats_at" round before the ranking round (:func:`searchlib.archive.ranking.ranked`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import attrs

from searchlib.engine import Stats
from searchlib.shards import Commit, ShardStats

__all__ = ["MAX_LEAVES", "StatsCache"]

MAX_LEAVES = 20_000
"""Leaves kept per shard; beyond it the shard's entry starts again empty (at the same commit)."""


@attrs.define
class _Entry:
    """One shard's cached statistics, all read at ``commit``."""

    commit: Commit
    doc_count: int
    field_lengths: dict[str, int]
    leaves: dict[Any, dict[Any, int]]


class StatsCache:
    """Shard name -> its statistics per scored leaf at one commit; shared by an archive's threads."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def missing(self, shards: Sequence[str], leaves: Sequence[Any]) -> list[str]:
        """The shards lacking the statistics of any of ``leaves``."""
        with self._lock:
            return [s for s in shards if (e := self._entries.get(s)) is None or any(f not in e.leaves for f in leaves)]

    def store(self, shard: str, found: ShardStats) -> None:
        """Keep ``found``: added to the shard's entry at the same commit, replacing one at another."""
        with self._lock:
            entry = self._entries.get(shard)
            if entry is None or entry.commit != found.commit or len(entry.leaves) >= MAX_LEAVES:
                entry = self._entries[shard] = _Entry(found.commit, found.doc_count, dict(found.field_lengths), {})
            entry.leaves.update((leaf, dict(freqs)) for leaf, freqs in found.leaves)

    def summed(self, shards: Sequence[str], leaves: Sequence[Any]) -> tuple[Stats, dict[str, Commit]] | None:
        """The statistics of ``leaves`` summed over ``shards`` and the commit each shard's came from.

        ``None`` if a shard lacks a leaf (another thread's reply may have replaced its entry
        since :meth:`missing`). Two leaves with the same key (a word boosted twice) count it once.
        """
        doc_count = 0
        lengths: dict[str, int] = {}
        freqs: dict[Any, int] = {}
        commits: dict[str, Commit] = {}
        with self._lock:
            for shard in shards:
                entry = self._entries.get(shard)
                if entry is None or any(leaf not in entry.leaves for leaf in leaves):
                    return None
                commits[shard] = entry.commit
                doc_count += entry.doc_count
                for name, n in entry.field_lengths.items():
                    lengths[name] = lengths.get(name, 0) + n
                mine: dict[Any, int] = {}
                for leaf in leaves:
                    mine.update(entry.leaves[leaf])
                for key, n in mine.items():
                    freqs[key] = freqs.get(key, 0) + n
        return Stats(doc_count, lengths, freqs), commits

    def forget(self, keep: Sequence[str]) -> None:
        """Drop the entries of shards no longer in the manifest."""
        with self._lock:
            for shard in set(self._entries) - set(keep):
                del self._entries[shard]
