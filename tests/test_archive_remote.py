"""A worker's share of a remote round (issue 13): its shards' "rank" jobs run together, one reply.

A worker (process pool or Dask actor) given "rank" jobs of one round on several shards it
holds runs them in one pass over all their segments (:func:`searchlib.archive.tasks.run_jobs`,
:func:`searchlib.shards.rank_given`) and sends back only its best ``wanted`` hits and their
articles, not ``wanted`` per shard: merged, the pages give the same answer as one page per
shard -- totals, hits in order, scores, copies, facet counts, hidden ids left out -- and an
error fails every job of the batch, never a partial answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from searchlib import Article, DateBucket, Index, Recency, Sort
from searchlib.archive import Archive, tasks
from searchlib.archive.executor import ProcessExecutor
from searchlib.archive.ranking import summed_stats
from searchlib.errors import QuerySyntaxError
from searchlib.querying import _filters, _parse

WORDS = ["strike", "port", "talks", "wages", "union", "ferry"]


def _articles(n: int) -> list[Article]:
    return [
        Article(
            id=f"a{(i * 37) % n:03d}",
            date=dt.date(2023, 1, 1) + dt.timedelta(days=(i * 13) % 300),
            title="report",
            body=f"{WORDS[i % 6]} {WORDS[(i * 5) % 6]} {WORDS[i % 4]}. {'ferry ' * (i % 3)}",
            source=["Wire", "Herald"][i % 2],
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, Index]]:
    root = tmp_path_factory.mktemp("remote")
    articles = _articles(150)
    with (
        Archive.create(root / "a", shard_by="hash", shards=4, executor="serial") as archive,
        Index.create(root / "one") as one,
    ):
        archive.add(*articles[:80])
        archive.add(*articles[80:])  # two segments per shard
        one.add(*articles)
        yield archive, one


def _jobs(archive: Archive, query: str, hidden: dict[str, frozenset[str]], **options: Any) -> list[Any]:
    m = archive.manifest
    plan = archive.ranking.plan(_parse(query, False)[0], _filters(None, None, (), None))
    stats = summed_stats(archive, m, plan, query)
    args = {
        "plan": plan,
        "query": query,
        "stats": stats,
        "sort": Sort.SCORE,
        "wanted": 6,
        "collapse": False,
        "recency": None,
        "facets": None,
        "fetch": True,
        **options,
    }
    return [
        (str(archive._shard_path(s)), archive.ranking, "rank", {**args, "hidden": hidden.get(s, frozenset())})
        for s in m.shards
    ]


def _merged(replies: list[Any], sort: Sort) -> tuple[int, list[Any], list[Any]]:
    pages = [value for ok, value in replies if ok]
    assert len(pages) == len(replies)
    hits = [hit for page in pages for hit in page.hits]
    if sort is Sort.SCORE:
        hits.sort(key=lambda h: (-h[0], h[1]))
    elif sort is Sort.NEWEST:
        hits.sort(key=lambda h: (-h[2], h[1]))
    else:
        hits.sort(key=lambda h: (h[2], h[1]))
    return sum(p.total for p in pages), hits, [p.facets for p in pages]


@pytest.mark.parametrize("query", ["ferry", "strike OR wages", '"port talks"', "union -ferry", ""])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"sort": Sort.NEWEST},
        {"sort": Sort.OLDEST, "wanted": 3},
        {"collapse": True},
        {"recency": Recency(dt.date(2023, 11, 1), half_life_days=30)},
        {"facets": DateBucket.MONTH},
        {"wanted": 0},
    ],
)
@pytest.mark.parametrize("hidden", [{}, {"h001": frozenset({"a005", "a040", "a077"})}])
def test_a_workers_batch_merges_to_what_one_job_per_shard_gives(
    built: tuple[Archive, Index], query: str, options: dict[str, Any], hidden: dict[str, frozenset[str]]
) -> None:
    archive, _one = built
    jobs = _jobs(archive, query, hidden, **options)
    by_shard = [(True, tasks.run_task(*job)) for job in jobs]
    batched = tasks.run_jobs(jobs)
    sort = options.get("sort", Sort.SCORE)
    total, hits, facets = _merged(batched, sort)
    want_total, want_hits, want_facets = _merged(by_shard, sort)
    wanted = options.get("wanted", 6)
    assert total == want_total
    assert [(h[1], h[2], h[3]) for h in hits[:wanted]] == [(h[1], h[2], h[3]) for h in want_hits[:wanted]]
    assert [h[0] for h in hits[:wanted]] == pytest.approx([h[0] for h in want_hits[:wanted]], rel=1e-9)
    assert len(hits) <= wanted  # the worker's best ``wanted`` only, not ``wanted`` per shard
    articles = [a for _ok, page in batched for a in page.articles]
    assert sorted(a.id for a in articles) == sorted(h[1] for h in hits)
    if options.get("facets"):
        assert _sum_facets(facets) == _sum_facets(want_facets)


def _sum_facets(parts: list[Any]) -> tuple[dict[str, int], ...]:
    sums: tuple[dict[str, int], ...] = ({}, {}, {})
    for part in parts:
        if part is None:
            continue
        for total, counts in zip(sums, (part[0], part[2], part[3]), strict=True):
            for key, n in counts.items():
                total[key] = total.get(key, 0) + n
    return sums


def test_only_jobs_of_one_round_run_together(built: tuple[Archive, Index]) -> None:
    archive, _one = built
    first = _jobs(archive, "ferry", {})
    other = _jobs(archive, "strike", {})
    mixed = [first[0], other[1], first[2], (first[3][0], archive.ranking, "fetch", {"ids": ["a001", "zzz"]})]
    replies = tasks.run_jobs(mixed)
    assert [ok for ok, _ in replies] == [True, True, True, True]
    alone = tasks.run_task(*other[1])
    assert replies[1][1] == alone  # a round of its own: ranked alone
    assert [a.id if a else None for a in replies[3][1]] == [a.id if a else None for a in tasks.run_task(*mixed[3])]
    together = tasks.run_jobs([first[0], first[2]])
    assert replies[0][1] == together[0][1] and replies[2][1] == together[1][1]


def test_an_error_fails_every_job_of_its_batch(built: tuple[Archive, Index], monkeypatch: pytest.MonkeyPatch) -> None:
    archive, _one = built
    jobs = _jobs(archive, "ferry", {})
    fetch = (jobs[0][0], archive.ranking, "fetch", {"ids": ["a001"]})

    def broken(*_args: Any) -> Any:
        raise QuerySyntaxError("bad", query="ferry", position=0)

    monkeypatch.setattr(tasks, "rank_given", broken)
    replies = tasks.run_jobs([*jobs[:3], fetch])
    assert [ok for ok, _ in replies] == [False, False, False, True]
    for _ok, (error, text) in replies[:3]:
        assert isinstance(error, QuerySyntaxError) and "broken" in text


@pytest.mark.parametrize("executor", ["process", "serial"])
def test_a_thin_client_answers_as_the_archive_in_process_and_one_index(
    built: tuple[Archive, Index], executor: str
) -> None:
    archive, one = built
    made = ProcessExecutor(2) if executor == "process" else executor
    with Archive.open(archive.root, executor=made, local_share=False) as remote:
        for query in ["ferry", "strike OR wages", "union -ferry", ""]:
            for kwargs in [{}, {"sort": Sort.NEWEST}, {"limit": 4, "offset": 3}, {"collapse_duplicates": True}]:
                got = remote.search(query, highlight=None, **kwargs)
                here = archive.search(query, highlight=None, **kwargs)
                assert got == here
                if "collapse_duplicates" in kwargs:
                    continue  # near-duplicates are grouped within a shard (README): not one index's groups
                want = one.search(query, highlight=None, **kwargs)
                assert got.total == want.total
                assert [h.article for h in got] == [h.article for h in want]
                assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=1e-6)
