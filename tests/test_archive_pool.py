"""The local process pool's transport (searchlib.archive.pool): rounds, affinity, failures, worker lifetime."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

import searchlib
from searchlib import Archive, ArchiveError, Index
from searchlib.archive.executor import Job, ProcessExecutor, SerialExecutor
from searchlib.archive.pool import ShardWorkers
from searchlib.archive.tasks import RemoteTraceback

QUERIES = ["strike", '"wage talks" OR port', "entity:HRB", "inflation date:2025-05"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Index]]:
    root = tmp_path_factory.mktemp("pool") / "a"
    with Archive.create(root, shard_by="hash", shards=4, executor="serial") as archive:
        archive.ingest(searchlib.sample_corpus_path())
    one = Index.in_memory()
    one.ingest(searchlib.sample_corpus_path())
    yield root, one
    one.close()


def _same(archive: Archive, one: Index) -> None:
    for query in QUERIES:
        got = archive.search(query, limit=7, highlight=None)
        want = one.search(query, limit=7, highlight=None)
        assert got.total == want.total
        assert [(h.article.id, round(h.score, 9)) for h in got] == [(h.article.id, round(h.score, 9)) for h in want]


@pytest.mark.parametrize("local_share", [True, False])
def test_pool_answers_as_one_index(built: tuple[Path, Index], local_share: bool) -> None:
    root, one = built
    with Archive.open(root, executor=ProcessExecutor(2), local_share=local_share) as archive:
        _same(archive, one)
        assert archive.facets("strike") == one.facets("strike")
        assert archive.timeline("strike") == one.timeline("strike")


def test_each_shard_stays_with_one_worker(built: tuple[Path, Index]) -> None:
    root, _one = built
    pool = ShardWorkers(2)
    try:
        jobs = [Job(s, str(root / "shards" / s), searchlib.Ranking(), "fetch", {"ids": []}) for s in ("h000", "h001")]
        jobs += [Job(s, str(root / "shards" / s), searchlib.Ranking(), "fetch", {"ids": []}) for s in ("h002", "h003")]
        assert pool.run(jobs) == [[], [], [], []]
        homes = dict(pool._home)
        assert sorted(homes.values()) == [0, 0, 1, 1]  # balanced: each worker owns two shards
        pool.run(jobs[::-1])
        assert pool._home == homes  # and keeps them
    finally:
        pool.close()


def test_a_task_error_passes_through_whole(built: tuple[Path, Index], tmp_path: Path) -> None:
    root, _one = built
    executor = ProcessExecutor(2)
    try:
        good = Job("h000", str(root / "shards" / "h000"), searchlib.Ranking(), "fetch", {"ids": []})
        with pytest.raises(ValueError, match="unknown shard task 'nope'"):
            executor.run([good, Job("h001", good.path, good.ranking, "nope", {})])
        missing = Job("h002", str(tmp_path / "nowhere"), good.ranking, "fetch", {"ids": []})
        with pytest.raises(searchlib.IndexNotFoundError) as caught:  # searchlib's own errors cross the pipe whole
            executor.run([missing, good])
        assert caught.value.path == Path(missing.path)
        assert isinstance(caught.value.__cause__, RemoteTraceback)
        assert executor.run([good]) == [[]]
    finally:
        executor.close()


def test_an_unexpected_task_error_keeps_the_workers_traceback(built: tuple[Path, Index]) -> None:
    root, _one = built
    executor = ProcessExecutor(1)
    try:  # a plan of the wrong type: an AttributeError deep in the worker, not an error raised on purpose
        bad = Job("h000", str(root / "shards" / "h000"), searchlib.Ranking(), "count", {"plan": "x", "hidden": None})
        with pytest.raises(AttributeError) as caught:
            executor.run([bad])
        assert_remote_traceback(caught.value, "AttributeError")
        local = [frame.filename for frame in traceback.extract_tb(caught.value.__traceback__)]
        assert not [f for f in local if f.endswith("shards.py")]  # the caller's frames: the worker's are in the cause
    finally:
        executor.close()


def assert_remote_traceback(exc: BaseException, kind: str) -> None:
    """``exc`` came from a worker with that worker's traceback (file, line, function) as its cause."""
    cause = exc.__cause__
    assert isinstance(cause, RemoteTraceback), repr(cause)
    text = str(cause)
    assert re.search(r'File ".*[/\\]searchlib[/\\]shards\.py", line \d+, in run\b', text), text
    assert re.search(r'File ".*[/\\]searchlib[/\\]_whoosh[/\\]evaluate\.py", line \d+, in __init__', text), text
    assert text.rstrip().endswith('"""') and f"{kind}: " in text


def _blocking_job(tmp_path: Path) -> Job:
    """A fetch on a 'shard' whose searchlib.json is a FIFO: opening it blocks until the test ends it."""
    folder = tmp_path / "stuck" / "shards" / "s"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "searchlib.json")
    return Job("s", str(folder), searchlib.Ranking(), "fetch", {"ids": ["x"]})


def test_a_worker_killed_mid_query_is_an_archive_error(built: tuple[Path, Index], tmp_path: Path) -> None:
    root, _one = built
    executor = ProcessExecutor(2)
    try:
        good = Job("h000", str(root / "shards" / "h000"), searchlib.Ranking(), "fetch", {"ids": ["wire-0011"]})
        assert executor.run([good])[0][0] is not None  # the pool is running
        round_ = executor.start([good, _blocking_job(tmp_path)])
        victim = executor._pool._workers[executor._pool._home["s"]]
        assert victim is not None
        time.sleep(0.2)  # the worker is inside the blocked open
        os.kill(victim.process.pid, signal.SIGKILL)
        with pytest.raises(ArchiveError, match="worker process died") as caught:
            round_.result()
        assert caught.value.shard == "s"
        # The next round gets a fresh worker and a whole answer.
        found = executor.run([good, good])
        assert [a.id for part in found for a in part] == ["wire-0011", "wire-0011"]
    finally:
        executor.close()


def test_a_worker_dead_between_queries_is_replaced(built: tuple[Path, Index]) -> None:
    root, one = built
    executor = ProcessExecutor(2)
    with Archive.open(root, executor=executor, local_share=False) as archive:
        _same(archive, one)
        before = executor.pids()
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        for worker in executor._pool._workers:
            assert worker is not None
            worker.process.join(10)
        _same(archive, one)
        assert not set(before) & set(executor.pids())


def test_an_abandoned_round_leaves_no_stale_answers(built: tuple[Path, Index]) -> None:
    root, _one = built
    executor = ProcessExecutor(1)
    try:
        ids = ["wire-0011", "wire-0012", "wire-0003"]
        shards = ("h000", "h001", "h002", "h003")
        jobs = [Job(s, str(root / "shards" / s), searchlib.Ranking(), "fetch", {"ids": ids}) for s in shards]
        executor.start(jobs).cancel()  # its replies arrive later and must not answer the next round
        swapped = [Job(j.shard, j.path, j.ranking, j.kind, {"ids": ids[::-1]}) for j in jobs]
        assert executor.run(swapped) == SerialExecutor().run(swapped)
    finally:
        executor.close()


def _gone(pid: int) -> bool:
    """No such process, or a zombie waiting for a reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


SCRIPT = """
import sys, time
from searchlib.archive.executor import Job, ProcessExecutor, SerialExecutor
import searchlib
executor = ProcessExecutor(2)
jobs = [Job(s, sys.argv[1] + "/shards/" + s, searchlib.Ranking(), "fetch", {"ids": []}) for s in ("h000", "h001")]
executor.run(jobs)
print(*executor.pids(), flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_die_with_their_parent(built: tuple[Path, Index]) -> None:
    root, _one = built
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    parent = subprocess.Popen([sys.executable, "-c", SCRIPT, str(root)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and not any(_gone(p) for p in pids)
    finally:
        parent.kill()
        parent.wait(30)
    deadline = time.monotonic() + 30
    while not all(_gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(p) for p in pids)
