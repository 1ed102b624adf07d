"""Where an archive's task round trip goes: pickling a rank task and its result, and the pool's overhead.

Builds a 4-shard hash archive of the sample corpus, then times (medians of 50-200 runs) the
pickle round trip of one rank task's arguments and of its result, the same rank task in this
process, and, side by side on 2 worker processes each, an empty task, one rank task and a
round of 3 rank tasks (a 4-shard query whose caller ranks the fourth) on searchlib's shard
workers (``ProcessExecutor``: one pipe per worker, one message per worker a round) and on the
``concurrent.futures.ProcessPoolExecutor`` transport it replaced (``FuturesPool`` below).

    python benchmarks/archive_roundtrip.py
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import searchlib
from searchlib import query as q
from searchlib.archive import Archive, tasks
from searchlib.archive.executor import Job, ProcessExecutor
from searchlib.archive.ranking import summed_stats
from searchlib.models import Sort
from searchlib.querying import _filters


def _ms(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class FuturesPool:
    """The transport before session 5: a spawn-started ``ProcessPoolExecutor``, one future per shard task."""

    def __init__(self, workers: int) -> None:
        self._pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def run(self, jobs: list[Job]) -> list[object]:
        futures = [self._pool.submit(tasks.run_task, j.path, j.ranking, j.kind, j.args) for j in jobs]
        return [f.result() for f in futures]

    def close(self) -> None:
        self._pool.shutdown()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive.create(Path(tmp) / "a", shard_by="hash", shards=4, executor="serial")
        archive.ingest(searchlib.sample_corpus_path())
        m = archive.manifest
        query = "strike OR port talks"
        plan = archive.ranking.plan(q.parse(query), _filters(None, None, (), None))
        args = {
            "plan": plan,
            "query": query,
            "stats": summed_stats(archive, m, plan, query),
            "sort": Sort.SCORE,
            "wanted": 10,
            "collapse": False,
            "recency": None,
            "facets": None,
            "hidden": frozenset(),
            "fetch": True,
        }
        shard = m.shards[0]
        job = Job(shard, str(archive._shard_path(shard)), archive.ranking, "rank", args)
        sent = (job.path, job.ranking, job.kind, job.args)
        result = tasks.run_task(job.path, job.ranking, "rank", args)
        bare = tasks.run_task(job.path, job.ranking, "rank", {**args, "fetch": False})
        sent_ms = _ms(lambda: pickle.loads(pickle.dumps(sent)), 200)
        print(f"rank task arguments: {len(pickle.dumps(sent))} bytes, pickle round trip {sent_ms:.3f} ms")
        result_ms = _ms(lambda: pickle.loads(pickle.dumps(result)), 200)
        print(
            f"rank result: {len(pickle.dumps(result))} bytes with the page's articles, "
            f"{len(pickle.dumps(bare))} without; pickle round trip {result_ms:.3f} ms"
        )
        print(f"rank task in this process: {_ms(lambda: tasks.run_on(archive._shard(shard), 'rank', args), 50):.2f} ms")
        three = [Job(name, str(archive._shard_path(name)), archive.ranking, "rank", args) for name in m.shards[1:]]
        empty = Job(shard, job.path, archive.ranking, "fetch", {"ids": []})
        for label, pool in (("futures pool (before)", FuturesPool(2)), ("shard workers (after)", ProcessExecutor(2))):
            pool.run([empty, empty, *three])  # start both processes, open the shards
            print(f"{label}: empty task round trip {_ms(lambda: pool.run([empty]), 100):.2f} ms")  # noqa: B023
            print(f"{label}: one rank task {_ms(lambda: pool.run([job]), 100):.2f} ms")  # noqa: B023
            print(f"{label}: round of 3 rank tasks {_ms(lambda: pool.run(three), 100):.2f} ms")  # noqa: B023
            pool.close()
        archive.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
