"""Archive benchmark: one index against archives of shards, built from the same corpus.

Measures, side by side in one run: ingest throughput (one index with 1 and 2 ingest workers; a
4-shard hash archive built in this process, on the local process pool and on Dask; a
year-sharded archive on the pool), and query latency p50/p95 per kind for the one index and for the
archives searched on the local process pool, in-process ("serial") and on a Dask
LocalCluster (2 worker processes) when Dask is installed (every setup open at once, each query
timed on every setup back to back, so all see the same load); each archive setup also as
"-remote" (``local_share=False``: every shard task sent to the executor, none ranked in the
calling process), side by side. Date-range kinds touch only the
year shards their range covers (pruning); the others touch every shard. Every archive
answer is checked against the one index's total.

``-futures-remote`` setups run every shard task on the ``concurrent.futures`` transport that
session 5 replaced (:class:`FuturesPool`), to compare with ``-pool-remote`` (the shard workers).
Plain ``-pool`` and ``-dask`` setups let the archive run rounds in process when that has been
faster (:mod:`searchlib.archive.dispatch`); ``-remote`` ones send every task out. Dask runs
use one actor per worker; ``-dask-tasks-remote`` submits every shard task through the
scheduler instead (as before session 5).

Built indexes and archives are kept under ``benchmarks/data/archive-bench-N-sSEED-hK-fFORMAT/``
and reused by the next run with the same articles, seed, shards and index format (their build times are then
those recorded when they were built; ``--rebuild`` builds them again). ``--quick`` builds
in a temporary folder.

    python benchmarks/bench_archive.py --quick              # CI: 600 articles, 5 queries per kind
    python benchmarks/bench_archive.py --articles 20000 --per-kind 30
    python benchmarks/bench_archive.py --articles 100000 --per-kind 20 --reps 2 --query-builds-only
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import searchlib
import searchlib.upgrade
from benchmarks import common
from benchmarks.common import DATA, RESULTS
from benchmarks.corpus import ensure_corpus, iter_docs
from benchmarks.queries import KINDS, Query, generate_queries
from searchlib.archive import tasks
from searchlib.archive.executor import DaskExecutor, Job

TOP_K = 10


class FuturesPool:
    """The pool transport before session 5: a spawn-started ``ProcessPoolExecutor``, one future per shard task.

    Kept here (not in searchlib) to measure the shard workers against it in the same run.
    """

    def __init__(self, workers: int = 2) -> None:
        self._pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def run(self, jobs: list[Job]) -> list[Any]:
        futures = [self._pool.submit(tasks.run_task, j.path, j.ranking, j.kind, j.args) for j in jobs]
        return [f.result() for f in futures]

    def close(self) -> None:
        self._pool.shutdown()


def _query_args(query: Query) -> tuple[str, dict[str, Any]]:
    if query.op == "phrase":
        text = '"' + " ".join(query.terms) + '"'
    else:
        text = (" OR " if query.op == "or" else " AND ").join(query.terms)
    kwargs: dict[str, Any] = {"limit": TOP_K, "highlight": None}
    if query.date_from:
        kwargs["date_from"] = query.date_from
        kwargs["date_to"] = query.date_to or query.date_from
    if query.entity:
        kwargs["entities"] = [query.entity]
    return text, kwargs


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * pct / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _timed_build(make: Callable[[], Any], corpus: Path, **options: Any) -> tuple[Any, float]:
    target = make()
    started = time.perf_counter()
    report = target.ingest([corpus], commit_every=None, **options)
    seconds = time.perf_counter() - started
    assert report.skipped == 0, report.problems
    return target, seconds


def _measure_interleaved(
    targets: dict[str, Any], queries: list[Query], reps: int
) -> tuple[dict[str, dict[str, list[float]]], dict[str, list[int]]]:
    """Per setup: ms per kind and the totals, each query timed on every setup back to back.

    The machine is shared: timing one setup after another lets the load change between them
    (the one index measured quiet, an archive busy). Round-robin per query (the setups'
    order rotating from query to query) puts every setup under the same load, so the ratios
    to the one index are measured side by side.
    """
    timings: dict[str, dict[str, list[float]]] = {name: {k: [] for k in KINDS} for name in targets}
    totals: dict[str, list[int]] = {name: [] for name in targets}
    names = list(targets)
    for query in queries:  # warm pass (opens shards, starts workers, fills caches), untimed
        text, kwargs = _query_args(query)
        for name in names:
            totals[name].append(targets[name].search(text, **kwargs).total)
    turn = 0
    for _ in range(reps):
        for query in queries:
            text, kwargs = _query_args(query)
            turn += 1
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                started = time.perf_counter()
                targets[name].search(text, **kwargs)
                timings[name][query.kind].append((time.perf_counter() - started) * 1000)
    return timings, totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--per-kind", type=int, default=30, help="queries per kind")
    parser.add_argument("--reps", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--shards", type=int, default=4, help="shards of the hash archive")
    parser.add_argument("--no-dask", action="store_true", help="leave out the Dask LocalCluster runs")
    parser.add_argument(
        "--query-builds-only",
        action="store_true",
        help="build only what the query runs need (one index, the pool-built hash and year archives)",
    )
    parser.add_argument("--quick", action="store_true", help="600 articles, 5 queries per kind, 1 pass (CI)")
    parser.add_argument("--rebuild", action="store_true", help="build again even if a kept build exists")
    parser.add_argument("--no-futures", action="store_true", help="leave out the concurrent.futures pool runs")
    parser.add_argument(
        "--name", help="result file stem under results/ (default archive-full-N-sSEED, archive-quick-... with --quick)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.per_kind, args.reps = 600, 5, 1
    corpus, info = ensure_corpus(DATA, args.articles, args.seed)
    queries = generate_queries(iter_docs(corpus), args.seed, args.per_kind)
    if args.quick:
        work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    else:
        fmt = searchlib.upgrade.FORMAT_VERSION  # builds of another index format are not reused
        work = DATA / f"archive-bench-{args.articles}-s{args.seed}-h{args.shards}-f{fmt}"
        if args.rebuild:
            shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
    kept = _kept_builds(work)
    out: dict[str, Any] = {
        "env": common.environment(info, args.seed),
        "articles": args.articles,
        "seed": args.seed,
        "queries_per_kind": args.per_kind,
        "reps": args.reps,
        "cpus": os.cpu_count(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "build_seconds": {},
        "query_ms": {},
    }
    client = cluster = None
    if not args.no_dask:
        try:
            import distributed
        except ImportError:
            print("dask not installed: skipping the Dask runs", file=sys.stderr)
        else:
            cluster = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            )
            client = distributed.Client(cluster)
    try:
        builds = out["build_seconds"]

        def build(name: str, make: Callable[[], Any], **options: Any) -> None:
            """Build ``name`` (a folder under ``work``) unless a kept build of it exists."""
            if name in kept:
                builds[kept[name]["label"]] = kept[name]["seconds"]
                out.setdefault("reused_builds", []).append(name)
                return
            shutil.rmtree(work / name, ignore_errors=True)
            target, seconds = _timed_build(make, corpus, **options)
            label = _label(name, args.shards)
            builds[label] = seconds
            target.close()
            kept[name] = {"label": label, "seconds": seconds}
            if not args.quick:
                (work / "builds.json").write_text(json.dumps(kept, indent=1) + "\n")

        build("one", lambda: searchlib.Index.create(work / "one"))
        if not args.query_builds_only:
            build("two", lambda: searchlib.Index.create(work / "two"), workers=2)
            build(
                "hash-s",
                lambda: searchlib.Archive.create(
                    work / "hash-s", shard_by="hash", shards=args.shards, executor="serial"
                ),
            )
        build(
            "hash",
            lambda: searchlib.Archive.create(work / "hash", shard_by="hash", shards=args.shards, executor="process"),
        )
        if client is not None and not args.query_builds_only:
            build(
                "hash-d",
                lambda: searchlib.Archive.create(work / "hash-d", shard_by="hash", shards=args.shards, executor=client),
            )
        build("year", lambda: searchlib.Archive.create(work / "year", shard_by="year", executor="process"))
        with searchlib.Archive.open(work / "year", executor="serial") as yearly:
            out["year_shards"] = len(yearly.manifest.shards)
        index = searchlib.Index.open(work / "one")
        h = f"hash{args.shards}"
        setups: dict[str, Callable[[], Any]] = {
            "index": lambda: index,
            f"{h}-serial": lambda: searchlib.Archive.open(work / "hash", executor="serial"),
            f"{h}-pool": lambda: searchlib.Archive.open(work / "hash", executor="process"),
            f"{h}-pool-remote": lambda: searchlib.Archive.open(work / "hash", executor="process", local_share=False),
            "year-serial": lambda: searchlib.Archive.open(work / "year", executor="serial"),
            "year-pool": lambda: searchlib.Archive.open(work / "year", executor="process"),
            "year-pool-remote": lambda: searchlib.Archive.open(work / "year", executor="process", local_share=False),
        }
        if not args.no_futures:
            setups[f"{h}-futures-remote"] = lambda: searchlib.Archive.open(
                work / "hash", executor=FuturesPool(), local_share=False
            )
            setups["year-futures-remote"] = lambda: searchlib.Archive.open(
                work / "year", executor=FuturesPool(), local_share=False
            )
        if client is not None:
            setups[f"{h}-dask"] = lambda: searchlib.Archive.open(work / "hash", executor=client)
            setups[f"{h}-dask-remote"] = lambda: searchlib.Archive.open(
                work / "hash", executor=client, local_share=False
            )
            setups["year-dask"] = lambda: searchlib.Archive.open(work / "year", executor=client)
            setups["year-dask-remote"] = lambda: searchlib.Archive.open(
                work / "year", executor=client, local_share=False
            )
            if not args.no_futures:  # Dask tasks through the scheduler, as before the actors
                setups[f"{h}-dask-tasks-remote"] = lambda: searchlib.Archive.open(
                    work / "hash", executor=DaskExecutor(client, actors=False), local_share=False
                )
        opened = {name: open_it() for name, open_it in setups.items()}
        try:
            timings, totals = _measure_interleaved(opened, queries, args.reps)
        finally:
            for target in opened.values():
                if target is not index:
                    target.close()
        for name, per_kind in timings.items():
            if totals[name] != totals["index"]:
                raise SystemExit(f"{name}: totals differ from the one index's")
            out["query_ms"][name] = {
                kind: {"p50": statistics.median(v), "p95": percentile(v, 95)} for kind, v in per_kind.items() if v
            }
        index.close()
    finally:
        if client is not None and cluster is not None:
            client.close()
            cluster.close()
        if args.quick:
            shutil.rmtree(work, ignore_errors=True)
    markdown = report(out)
    print(markdown)
    stem = args.name or f"archive-{'quick' if args.quick else 'full'}-{args.articles}-s{args.seed}"
    md = write_report(out, stem, markdown)
    print(f"wrote {md} (and .json, -latency.png)")
    return 0


def _label(name: str, shards: int) -> str:
    return {
        "one": "index",
        "two": "index-2-workers",
        "hash-s": f"archive-hash{shards}-serial",
        "hash": f"archive-hash{shards}-pool",
        "hash-d": f"archive-hash{shards}-dask",
        "year": "archive-year-pool",
    }[name]


def _kept_builds(work: Path) -> dict[str, dict[str, Any]]:
    """Builds a previous run finished in ``work`` (name -> label and seconds); none for a fresh folder."""
    try:
        kept: dict[str, dict[str, Any]] = json.loads((work / "builds.json").read_text())
    except (OSError, ValueError):
        return {}
    return {name: v for name, v in kept.items() if (work / name).is_dir()}


def report(out: dict[str, Any]) -> str:
    """The run as markdown: machine and versions, builds, then query p50 / p95 per kind and setup."""
    n = out["articles"]
    lines = [f"# Archive benchmark: {n} articles, {out['queries_per_kind']} queries/kind x {out['reps']} passes", ""]
    if "env" in out:
        lines += [common.env_markdown(out["env"]), ""]
    else:
        lines += [f"- **date**: {out['date']}", f"- **cpus**: {out['cpus']}", ""]
    base = out["build_seconds"].get("index")
    rows = [
        [name, f"{seconds:.1f}", f"{n / seconds:.0f}", f"{base / seconds:.2f}x" if base else "n/a"]
        for name, seconds in out["build_seconds"].items()
    ]
    lines += [common.table(["build", "seconds", "articles/s", "vs one index"], rows), ""]
    setups = list(out["query_ms"])
    lines += ["query ms, p50 / p95 (ratio of p50 to the one index)", ""]
    rows = []
    for kind in KINDS:
        ref = out["query_ms"].get("index", {}).get(kind)
        if ref is None:
            continue
        cells = [kind]
        for name in setups:
            v = out["query_ms"][name][kind]
            cells.append(f"{v['p50']:.1f} / {v['p95']:.1f} ({v['p50'] / ref['p50']:.1f}x)")
        rows.append(cells)
    lines += [common.table(["kind", *setups], rows), ""]
    return "\n".join(lines)


def write_report(out: dict[str, Any], stem: str, markdown: str) -> Path:
    """``results/<stem>.md``, ``.json`` and a plot of each setup's p50 over the one index's, per kind."""
    md = common.write_result(stem, markdown + f"\n![p50 ratio]({stem}-latency.png)\n", out)
    kinds = [k for k in KINDS if k in out["query_ms"].get("index", {})]
    series = {
        name: [v[k]["p50"] / out["query_ms"]["index"][k]["p50"] if k in v else None for k in kinds]
        for name, v in out["query_ms"].items()
        if name != "index"
    }
    common.bar_chart(
        RESULTS / f"{stem}-latency.png",
        f"archive p50 / one index's p50 ({out['articles']} articles)",
        "ratio (1 = as fast as one index)",
        kinds,
        series,
    )
    return md


if __name__ == "__main__":
    sys.exit(main())
