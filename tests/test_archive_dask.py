"""The archive suite's core on a Dask LocalCluster with 2 worker processes (CI: under a minute).

Shards are built on the cluster (Python and CLI) and pinned to workers for queries (each keeps
its shards open); answers equal one index's; a worker killed mid-query never yields a partial
answer.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from searchlib import DateBucket, Index, Sort
from searchlib.archive import Archive
from searchlib.archive.executor import DaskExecutor
from searchlib.errors import ArchiveError

distributed = pytest.importorskip("distributed")

from test_archive import QUERIES, _article, assert_same_search  # noqa: E402
from test_archive_pool import assert_remote_traceback  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as lc,
        distributed.Client(lc) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def built(cluster: Any) -> Iterator[tuple[Archive, Index]]:
    articles = [_article(i, [i % 10, (i * 3) % 10, (i * 7) % 10], i * 23, [i % 4]) for i in range(40)]
    with tempfile.TemporaryDirectory() as tmp:
        ix = Index.in_memory()
        ix.add(*articles)
        archive = Archive.create(Path(tmp) / "a", shard_by="year", executor=cluster)
        archive.add(*articles)
        yield archive, ix
        archive.close()
        ix.close()


def test_dask_archive_equals_one_index(built: tuple[Archive, Index]) -> None:
    archive, ix = built
    assert isinstance(archive._executor, DaskExecutor)
    for query in QUERIES:
        assert_same_search(ix, archive, query, limit=5)
        assert_same_search(ix, archive, query, sort=Sort.NEWEST, offset=1, limit=3)
        assert archive.facets(query, size=3) == ix.facets(query, size=3)
    assert archive.timeline("strike", bucket=DateBucket.YEAR) == ix.timeline("strike", bucket=DateBucket.YEAR)
    assert archive.related_entities("ferry") == ix.related_entities("ferry")
    assert len(archive) == len(ix)


def test_dask_shards_stay_on_their_worker(built: tuple[Archive, Index], cluster: Any) -> None:
    archive, _ix = built
    archive.search("strike")
    opened = cluster.run(_opened_shards)
    per_worker = {worker: {Path(p).name for p in paths} for worker, paths in opened.items()}
    everywhere = [name for name in archive.manifest.shards if sum(name in s for s in per_worker.values()) > 1]
    assert not everywhere, per_worker  # each shard opened by one worker only
    # The first shard of a round runs in the calling process (it holds every shard open for
    # the statistics), the others on their workers.
    assert set().union(*per_worker.values()) == set(archive.manifest.shards[1:])


def _opened_shards() -> list[str]:
    from searchlib.archive import tasks

    return [key[0] for key in tasks._OPEN]


def test_dask_worker_death_is_an_error_never_partial(built: tuple[Archive, Index], cluster: Any) -> None:
    archive, ix = built
    with Archive.open(archive.root, executor=cluster, local_share=False) as remote:  # every task on the cluster
        assert remote.search("strike OR ferry").total == ix.search("strike OR ferry").total
        pids = cluster.run(os.getpid)
        victim = sorted(pids)[0]
        os.kill(pids[victim], signal.SIGKILL)
        try:
            got = remote.search("strike OR ferry", limit=5, highlight=None)
        except ArchiveError as exc:
            assert "Dask" in str(exc)
        else:  # the victim held none of this query's shards, or the scheduler had replaced it already
            assert got.total == ix.search("strike OR ferry").total
        cluster.wait_for_workers(2, timeout=30)  # the nanny restarts it
        deadline = time.monotonic() + 30
        while True:  # the next queries get whole answers (once the scheduler has noticed the loss)
            try:
                assert remote.search("ferry").total == ix.search("ferry").total
                break
            except ArchiveError:
                assert time.monotonic() < deadline
                time.sleep(0.5)
        assert remote.search("strike").total == ix.search("strike").total


@pytest.mark.parametrize("both_workers", [False, True], ids=["one-worker", "two-workers"])
def test_dask_actor_worker_killed_mid_query_is_an_archive_error(
    cluster: Any, tmp_path: Path, both_workers: bool
) -> None:
    """A worker killed while its actor holds part of a round: ArchiveError naming its shard.

    ``two-workers``: the round also has a job on the other worker (answered at once), so the
    replies are awaited together (``DaskExecutor._gather``) and the dead worker's call still
    fails the round. (The pids are asked for before the round: a worker whose actor ran a
    job on its event loop, ``separate_thread=False``, could not answer ``client.run`` while
    the job blocked -- why that option is not used.)
    """
    import searchlib
    from searchlib.archive.executor import Job

    folder = tmp_path / "stuck" / "shards" / "s"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "searchlib.json")  # opening this "shard" blocks: the query is in flight
    cluster.wait_for_workers(2, timeout=30)
    pids = cluster.run(os.getpid)
    executor = DaskExecutor(cluster)
    job = Job("s", str(folder), searchlib.Ranking(), "fetch", {"ids": ["x"]})
    workers = executor._workers(fresh=True)
    worker = executor._worker_for("s", workers)
    jobs = [job]
    if both_workers:  # a shard pinned to the other worker, which answers (with an error) at once
        other = next(f"t{i}" for i in range(100) if executor._worker_for(f"t{i}", workers) != worker)
        jobs.append(Job(other, str(tmp_path / "nowhere" / other), searchlib.Ranking(), "fetch", {"ids": []}))
    round_ = executor.start(jobs)
    time.sleep(0.5)
    os.kill(pids[worker], signal.SIGKILL)
    with pytest.raises(ArchiveError, match="Dask") as caught:
        round_.result()
    assert caught.value.shard == "s"
    cluster.wait_for_workers(2, timeout=30)


def test_dask_actor_task_errors_keep_the_workers_traceback(built: tuple[Archive, Index], cluster: Any) -> None:
    import searchlib
    from searchlib.archive.executor import Job

    archive, _ix = built
    cluster.wait_for_workers(2, timeout=30)
    executor = DaskExecutor(cluster)
    path = str(archive.root / "shards" / archive.manifest.shards[0])
    bad = Job("s", path, searchlib.Ranking(), "count", {"plan": "x", "hidden": None})  # fails deep in the worker
    with pytest.raises(AttributeError) as caught:
        executor.run([bad])
    assert_remote_traceback(caught.value, "AttributeError")
    missing = Job("m", path + "-nowhere", searchlib.Ranking(), "fetch", {"ids": []})  # raised on purpose
    with pytest.raises(searchlib.IndexNotFoundError) as lost:
        executor.run([missing])
    assert lost.value.path == Path(missing.path)
    assert "IndexNotFoundError" in str(lost.value.__cause__)


def test_dask_tasks_without_actors(built: tuple[Archive, Index], cluster: Any) -> None:
    archive, ix = built
    executor = DaskExecutor(cluster, actors=False)
    with Archive.open(archive.root, executor=executor, local_share=False) as remote:
        for query in QUERIES[:4]:
            assert_same_search(ix, remote, query, limit=5)


def test_dask_builds_the_shards(cluster: Any, tmp_path: Path, corpus_index: Index) -> None:
    import searchlib
    from tests.conftest import EXAMPLE

    with Archive.create(tmp_path / "b", shard_by="month", executor=cluster) as archive:
        report = archive.ingest([searchlib.sample_corpus_path(), EXAMPLE])
        assert report.added == len(corpus_index) == len(archive)
        for query in QUERIES[:4]:
            got = archive.search(query, limit=10, highlight=None)
            want = corpus_index.search(query, limit=10, highlight=None)
            assert [(h.article.id, round(h.score, 9)) for h in got] == [(h.article.id, round(h.score, 9)) for h in want]


@pytest.mark.parametrize("where", ["cluster", "local"])
def test_cli_builds_and_searches_on_the_scheduler(
    cluster: Any, tmp_path: Path, corpus_index: Index, where: str
) -> None:
    """``--scheduler ADDRESS`` (a running cluster) or ``--scheduler local`` (a LocalCluster of
    this machine's cores for the one command, closed after it)."""
    import io
    import json

    import searchlib
    from searchlib.cli import main

    address = cluster.scheduler.address if where == "cluster" else "local"
    target = str(tmp_path / "c")
    out = io.StringIO()
    code = main(
        ["index", target, str(searchlib.sample_corpus_path()), "--shard-by", "year", "--scheduler", address, "-q"],
        out=out,
    )
    assert code == 0 and "61 articles in 1 shard(s)" in out.getvalue()
    out = io.StringIO()
    assert main(["search", target, "strike", "--json", "--scheduler", address], out=out) == 0
    assert json.loads(out.getvalue())["total"] == corpus_index.search("strike", date_from="2025").total


def test_repl_and_serve_take_the_scheduler(
    cluster: Any, built: tuple[Archive, Index], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    import searchlib.web
    from searchlib import cli_base
    from searchlib.archive import open_any
    from searchlib.cli import main

    archive, ix = built
    address = cluster.scheduler.address
    made: list[DaskExecutor] = []
    real = cli_base._dask

    def recording(scheduler: str) -> DaskExecutor:
        made.append(real(scheduler))
        return made[-1]

    monkeypatch.setattr(cli_base, "_dask", recording)
    monkeypatch.setattr("sys.stdin", io.StringIO("ferry\n"))
    out = io.StringIO()
    assert main(["repl", str(archive.root), "--scheduler", address], out=out) == 0
    assert f"{ix.search('ferry').total} match(es)" in out.getvalue() and len(made) == 1

    served: list[int] = []

    def fake_serve(path: str, *, executor: Any, **options: Any) -> None:
        assert isinstance(executor, DaskExecutor)
        with open_any(path, executor=executor) as opened:
            assert isinstance(opened, Archive) and opened._executor is executor
            served.append(opened.search("ferry").total)

    pytest.importorskip("uvicorn")
    monkeypatch.setattr(searchlib.web, "serve", fake_serve)
    assert main(["serve", str(archive.root), "--scheduler", address], out=io.StringIO()) == 0
    assert served == [ix.search("ferry").total]
