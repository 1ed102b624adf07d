"""A thin client's cached statistics (``local_share=False``): one round warm, two at first sight, vs local.

Opens the one index and the hash and year archives that ``bench_archive.py`` built and kept (it
never builds), each archive on the local process pool and (unless ``--no-dask``) on a Dask
LocalCluster of 2 workers, every archive as a thin client in three ways:

- ``cached``: as it searches now: a query's statistics come from the workers the first time its
  words are seen, cached per shard commit; then one round (``searchlib/archive/statcache.py``);
- ``local``: the same archive code with the statistics read from this process's own handles on
  every shard (what a thin client did before session 8: ``archive.local_share = True`` on an
  archive whose dispatcher still sends every job away);
- ``first``: ``cached`` with its cache emptied before every query (first sight: a statistics
  round, then the ranking round).

One untimed pass warms every setup, then each query is timed on every setup in a random order
(seeded: every setup as often right after each other one; the Dask setups share workers and
shards, so a fixed order favours whichever runs second). Totals are checked equal. Prints p50
ms per kind and, per archive setup, the ratios cached / local and first / cached.

    python benchmarks/bench_archive_thin.py --articles 100000 --per-kind 10 --reps 3
    python benchmarks/bench_archive_thin.py --quick      # builds nothing: skips without a kept build
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import searchlib
import searchlib.upgrade
from benchmarks.bench_archive import _query_args
from benchmarks.common import DATA
from benchmarks.corpus import iter_docs
from benchmarks.queries import KINDS, generate_queries
from searchlib.archive.statcache import StatsCache

WAYS = ("local", "cached", "first")


class _FirstSight:
    """An archive whose statistics cache is emptied before every search."""

    def __init__(self, archive: searchlib.Archive) -> None:
        self.archive = archive

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.archive._stats_cache = StatsCache()
        return self.archive.search(*args, **kwargs)

    def close(self) -> None:
        self.archive.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--shards", type=int, default=4, help="shards of the kept hash archive")
    parser.add_argument("--per-kind", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3, help="timed passes (after one untimed)")
    parser.add_argument("--no-dask", action="store_true", help="leave out the Dask LocalCluster setups")
    parser.add_argument("--quick", action="store_true", help="600 articles, 5 queries per kind, 1 pass")
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.per_kind, args.reps = 600, 5, 1
    fmt = searchlib.upgrade.FORMAT_VERSION  # builds of another index format cannot be opened
    work = DATA / f"archive-bench-{args.articles}-s{args.seed}-h{args.shards}-f{fmt}"
    corpus = DATA / f"corpus-text-{args.articles}-s{args.seed}"
    if not (work / "one").is_dir() or not corpus.is_dir():
        print(f"no kept build of {args.articles} articles in format {fmt} under {DATA}: run bench_archive.py; skipped")
        return 0
    queries = generate_queries(iter_docs(corpus), args.seed, args.per_kind)
    client = cluster = None
    if not args.no_dask:
        try:
            import distributed
        except ImportError:
            print("dask not installed: leaving out the Dask setups", file=sys.stderr)
        else:
            cluster = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            )
            client = distributed.Client(cluster)
    setups: dict[str, Any] = {"index": searchlib.Index.open(work / "one")}
    try:
        for folder, label in (("hash", f"hash{args.shards}"), ("year", "year")):
            for name, executor in (("pool", "process"), ("dask", client)):
                if executor is None:
                    continue
                group = f"{label}-{name}-remote"
                setups[f"{group} cached"] = searchlib.Archive.open(work / folder, executor=executor, local_share=False)
                local = searchlib.Archive.open(work / folder, executor=executor, local_share=False)
                local.local_share = True  # statistics from local shards; the dispatcher still sends every job away
                setups[f"{group} local"] = local
                first = searchlib.Archive.open(work / folder, executor=executor, local_share=False)
                setups[f"{group} first"] = _FirstSight(first)
        names = list(setups)
        rng = random.Random(args.seed)
        timings: dict[str, dict[str, list[float]]] = {n: {k: [] for k in KINDS} for n in names}
        for rep in range(args.reps + 1):  # pass 0 warms every setup: pages, workers' shards, caches
            for query in queries:
                text, kwargs = _query_args(query)
                totals = set()
                for name in rng.sample(names, len(names)):
                    started = time.perf_counter()
                    totals.add(setups[name].search(text, **kwargs).total)
                    if rep:
                        timings[name][query.kind].append((time.perf_counter() - started) * 1000)
                if len(totals) != 1:
                    raise SystemExit(f"totals differ for {text!r}: {totals}")
    finally:
        for target in setups.values():
            target.close()
        if client is not None and cluster is not None:
            client.close()
            cluster.close()
    p50 = {n: {k: statistics.median(v) for k, v in per.items() if v} for n, per in timings.items()}
    groups = list(dict.fromkeys(n.rsplit(" ", 1)[0] for n in names if n != "index"))
    print(f"thin clients of {work.name}: p50 ms local / cached / first (ratio to the one index)")
    print("| kind | index | " + " | ".join(groups) + " |")
    print("|---|---|" + "---|" * len(groups))
    for kind in KINDS:
        if kind not in p50["index"]:
            continue
        ref = p50["index"][kind]
        cells = []
        for g in groups:
            ms = [p50[f"{g} {way}"][kind] for way in WAYS]
            cells.append(" / ".join(f"{v:.2f}" for v in ms) + " (" + " / ".join(f"{v / ref:.1f}x" for v in ms) + ")")
        print(f"| {kind} | {ref:.2f} | " + " | ".join(cells) + " |")
    print("\nper setup, over the kinds: median (range) of cached / local and of first / cached")
    for g in groups:
        kinds = [k for k in KINDS if k in p50["index"]]
        warm = [p50[f"{g} cached"][k] / p50[f"{g} local"][k] for k in kinds]
        cold = [p50[f"{g} first"][k] / p50[f"{g} cached"][k] for k in kinds]
        print(
            f"- {g}: cached / local {statistics.median(warm):.2f} ({min(warm):.2f}-{max(warm):.2f}), "
            f"first / cached {statistics.median(cold):.2f} ({min(cold):.2f}-{max(cold):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
