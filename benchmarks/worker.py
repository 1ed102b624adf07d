"""The measured side of every benchmark, run in its own process per engine.

The runners start ``python -m benchmarks.worker <op> ...`` so that each engine gets a fresh
interpreter (no shared caches, separate peak-memory accounting of its process tree). The
worker prints one JSON object on its last stdout line.

Operations:

* ``build``: index the corpus; reports wall seconds;
* ``reingest`` (searchlib only): ingest the same unchanged corpus again;
* ``search``: open the index (timed), run one warm-up pass over all supported queries,
  then ``--reps`` timed passes; reports per-query latencies, first-query time, top-10 ids,
  and for engines that highlight through the benchmark, milliseconds per highlighted hit.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import searchlib_digest
from benchmarks.engines import SearchlibEngine, get_engine
from benchmarks.queries import load_queries


def op_build(args: argparse.Namespace) -> dict[str, object]:
    engine = get_engine(args.engine)
    if args.commit_every and isinstance(engine, SearchlibEngine):
        engine.commit_every = args.commit_every
    started = time.perf_counter()
    extra = engine.build(args.corpus, args.index)
    return {"seconds": time.perf_counter() - started, **extra}


def op_reingest(args: argparse.Namespace) -> dict[str, object]:
    engine = get_engine(args.engine)
    if not isinstance(engine, SearchlibEngine):
        raise SystemExit("reingest is a searchlib feature")
    started = time.perf_counter()
    extra = engine.reingest(args.corpus, args.index)
    return {"seconds": time.perf_counter() - started, **extra}


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
"""How query latencies are timed: wall time, or the worker process's CPU time (steadier on a
machine other work shares)."""


def op_search(args: argparse.Namespace) -> dict[str, object]:
    queries = load_queries(args.queries)
    engine = get_engine(args.engine)
    started = time.perf_counter()
    engine.open(args.index)
    open_ms = (time.perf_counter() - started) * 1000
    supported = [(i, q) for i, q in enumerate(queries) if engine.supports(q)]
    first_ms = None
    top: dict[int, list[str]] = {}
    for i, query in supported:  # warm-up pass; also records the top-10 for agreement checks
        t0 = time.perf_counter()
        top[i] = engine.search(query)
        if first_ms is None:
            first_ms = (time.perf_counter() - t0) * 1000
    clock = CLOCKS[args.clock]
    latencies: dict[int, list[float]] = {i: [] for i, _ in supported}
    for _ in range(args.reps):
        for i, query in supported:
            t0 = clock()
            engine.search(query)
            latencies[i].append((clock() - t0) * 1000)
    result: dict[str, object] = {
        "open_ms": open_ms,
        "first_query_ms": first_ms,
        "latencies": {str(i): v for i, v in latencies.items()},
        "top": {str(i): v for i, v in top.items()},
    }
    if isinstance(engine, SearchlibEngine):
        result["highlight"] = _highlight_cost(engine, [q for _, q in supported if q.terms])
    engine.close()
    return result


def _highlight_cost(engine: SearchlibEngine, queries: list) -> dict[str, float]:
    """Extra milliseconds per hit that default highlighting adds to a search (mean and median over queries)."""
    plain = lit = 0.0
    hits = snippets = 0
    per_query: list[float] = []
    for query in queries:
        t0 = time.perf_counter()
        ids = engine.search(query)
        t1 = time.perf_counter()
        snippets += engine.search_highlighted(query)
        t2 = time.perf_counter()
        plain += t1 - t0
        lit += t2 - t1
        hits += len(ids)
        if ids:
            per_query.append(((t2 - t1) - (t1 - t0)) * 1000 / len(ids))
    per_hit = (lit - plain) * 1000 / hits if hits else 0.0
    median = statistics.median(per_query) if per_query else 0.0
    return {
        "ms_per_hit": per_hit,
        "median_ms_per_hit": median,
        "hits": hits,
        "snippets": snippets,
        "queries": len(queries),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("op", choices=("build", "reingest", "search"))
    parser.add_argument("--engine", required=True)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--commit-every", type=int, default=None)
    args = parser.parse_args(argv)
    ops = {"build": op_build, "reingest": op_reingest, "search": op_search}
    digest = searchlib_digest()
    result = ops[args.op](args)
    result["searchlib_digest"] = digest
    sys.stdout.flush()
    print("\n" + json.dumps(result))


if __name__ == "__main__":
    main()
