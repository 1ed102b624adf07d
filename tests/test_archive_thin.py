"""A thin client's statistics (issue 13): cached per shard commit, one round once cached, always exact.

A client with ``local_share=False`` opens no shard: it asks the workers for a query's
statistics the first time it sees its words ("stats_at" jobs), caches them per shard with the
commit they were read at, and from then on ranks in one round whose jobs name those commits.
A shard that committed since replies with its new statistics instead of ranking, and the round
is asked again: the answers always equal one index's (searchlib/archive/statcache.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_archive import QUERIES, _article, _build, articles_strategy, assert_same_search

from searchlib import Article, Index, Sort
from searchlib.archive import Archive, ranking, tasks
from searchlib.errors import ArchiveError
from searchlib.shards import ShardStats


class _Worker:
    """An executor standing for one worker holding every shard: a round is one ``run_jobs`` call."""

    def __init__(self) -> None:
        self.rounds: list[list[tuple[str, str]]] = []
        self.replies: list[list[Any]] = []

    def run(self, jobs: Any) -> list[Any]:
        self.rounds.append([(j.kind, j.shard) for j in jobs])
        replies = tasks.run_jobs([(j.path, j.ranking, j.kind, j.args) for j in jobs])
        tasks.raise_first_failure([(i, value) for i, (ok, value) in enumerate(replies) if not ok])
        self.replies.append([value for _ok, value in replies])
        return self.replies[-1]

    def close(self) -> None:
        pass


SCORED = [q for q in QUERIES if q]


@pytest.mark.parametrize(("scheme", "shards"), [("hash", 3), ("year", 0)])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(articles=articles_strategy, data=st.data())
def test_thin_client_equals_one_index_cold_and_warm(
    scheme: str, shards: int, articles: list[Article], data: st.DataObject
) -> None:
    query = data.draw(st.sampled_from(SCORED))
    with tempfile.TemporaryDirectory() as tmp, Index.in_memory() as ix:
        ix.add(*articles)
        _build(Path(tmp) / "a", scheme, shards, articles).close()
        worker = _Worker()
        with Archive.open(Path(tmp) / "a", executor=worker, local_share=False) as thin:
            for options in ({"offset": 2, "limit": 3}, {"date_from": "2024-02-10", "limit": 5}):
                assert_same_search(ix, thin, query, **options)  # cold the first time
                worker.rounds.clear()
                assert_same_search(ix, thin, query, **options)  # warm: one round (none if no shard is left)
                assert len(worker.rounds) <= 1 and all(r[0][0] == "rank" for r in worker.rounds)
            worker.rounds.clear()
            assert_same_search(ix, thin, query, sort=Sort.NEWEST, limit=4)  # by date: nothing to score
            assert {kind for r in worker.rounds for kind, _s in r} == {"rank"}
            assert thin._shards == {}


def test_a_commit_invalidates_the_cached_statistics(tmp_path: Path) -> None:
    articles = [_article(i, [0, i % 5, (i * 3) % 10], i * 40, [i % 3]) for i in range(24)]
    with _build(tmp_path / "a", "hash", 3, articles) as writer, Index.in_memory() as ix:
        ix.add(*articles)
        worker = _Worker()
        with Archive.open(tmp_path / "a", executor=worker, local_share=False) as thin:
            for query in SCORED:
                assert_same_search(ix, thin, query, limit=4)
            worker.rounds.clear()
            assert_same_search(ix, thin, "strike", limit=4)
            assert len(worker.rounds) == 1  # cached
            # another process's writer adds to one shard and deletes from another: new commits
            late = [_article(100 + i, [0, 0, 1], 200 + i, [1]) for i in range(3)]
            writer.add(*late)
            ix.add(*late)
            assert writer.delete("a003") == 1 and ix.delete("a003") == 1
            for query in SCORED:
                worker.rounds.clear()
                worker.replies.clear()
                assert_same_search(ix, thin, query, limit=4)
                stale = [r for replies in worker.replies for r in replies if isinstance(r, ShardStats)]
                if query == SCORED[0]:  # the first query after the commits: stale shards answered
                    assert stale and len(worker.rounds) >= 2  # with their statistics, asked again
            worker.rounds.clear()
            assert_same_search(ix, thin, "strike", limit=4)
            assert len(worker.rounds) == 1  # cached again


def test_a_worker_holding_several_shards_ranks_none_with_stale_sums(tmp_path: Path) -> None:
    """``run_jobs`` batches a round's "rank" jobs on one worker: one stale shard sends back every one's statistics."""
    articles = [_article(i, [0, i % 5], i * 40, []) for i in range(12)]
    with _build(tmp_path / "a", "hash", 3, articles) as writer:
        worker = _Worker()
        with Archive.open(tmp_path / "a", executor=worker, local_share=False) as thin:
            thin.search("strike")
            rank_round = worker.rounds[-1]
            assert [kind for kind, _s in rank_round] == ["rank"] * 3
            writer.add(_article(50, [0, 1], 3, []))  # one shard commits
            worker.replies.clear()
            thin.search("strike")
            first = worker.replies[0]
            assert all(isinstance(r, ShardStats) for r in first)  # nothing ranked on the stale sums
            assert not any(isinstance(r, ShardStats) for r in worker.replies[-1])


def test_shards_committing_on_every_round_is_an_archive_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles = [_article(i, [0, i % 5], i * 40, []) for i in range(6)]
    with _build(tmp_path / "a", "hash", 2, articles) as writer:
        worker = _Worker()
        real = worker.run

        def committing(jobs: Any) -> Any:
            if any(j.kind == "rank" for j in jobs):
                writer.add(_article(900 + len(worker.rounds), [0], 1, []))
            return real(jobs)

        worker.run = committing  # type: ignore[method-assign]
        with Archive.open(tmp_path / "a", executor=worker, local_share=False) as thin:
            with pytest.raises(ArchiveError, match="committed during each of"):
                thin.search("strike")
            assert len([r for r in worker.rounds if r[0][0] == "rank"]) == ranking.STALE_ATTEMPTS


def test_thin_client_on_the_process_pool_follows_commits(tmp_path: Path) -> None:
    """Pool workers keep their shards open: they see another writer's commit and report it."""
    from searchlib.archive.executor import ProcessExecutor

    articles = [_article(i, [0, i % 5, (i * 7) % 10], i * 30, [i % 4]) for i in range(30)]
    with _build(tmp_path / "a", "year", 0, articles) as writer, Index.in_memory() as ix:
        ix.add(*articles)
        with Archive.open(tmp_path / "a", executor=ProcessExecutor(2), local_share=False) as thin:
            for query in SCORED[:4]:
                assert_same_search(ix, thin, query, limit=4)
            late = [_article(200 + i, [0, 3], 400 + i, [2]) for i in range(4)]
            writer.add(*late)
            ix.add(*late)
            for query in SCORED[:4]:
                assert_same_search(ix, thin, query, limit=4)
                assert_same_search(ix, thin, query, date_from="2024-01-01", date_to="2024-12-31", limit=4)
            assert thin._shards == {}
