"""Where an archive's task round trip goes: pickling a rank task and its result, and the pool's overhead.

Builds a 4-shard hash archive of the sample corpus, then times (medians of 50-200 runs) the
pickle round trip of one rank task's arguments and of its result, the same rank task in this
process, and an empty task and the rank task on a 2-process pool.

    python benchmarks/archive_roundtrip.py
"""

from __future__ import annotations

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
        pool = ProcessExecutor(2)
        empty = Job(shard, job.path, archive.ranking, "fetch", {"ids": []})
        pool.run([empty, empty])  # start both processes
        print(f"pool, empty task round trip: {_ms(lambda: pool.run([empty]), 50):.2f} ms")
        print(f"pool, rank task: {_ms(lambda: pool.run([job]), 50):.2f} ms")
        pool.close()
        archive.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
