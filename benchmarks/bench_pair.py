"""Engines interleaved query by query in one process: latency ratios that load swings cannot skew.

``bench_search.py`` runs each engine in its own worker, one after the other; on a machine
shared with other work the load can change between them and move one engine's figures but
not the other's. Here every engine opens its index in this one process and each query runs
on every engine in turn (the order rotating), timed by the same clock, so both see the same
load at the same moment; the table gives p50 / p95 per kind and each engine's p50 over the
first engine's.

    python benchmarks/bench_pair.py --index-dir benchmarks/data/indexes/corpus-text-100000-s42 \\
        --queries benchmarks/results/engine6-100000-s42-queries.json --engines tantivy,searchlib-engine

``--numba`` loads the ``fast`` extra's kernels for every searchlib engine (one process holds one
kernel state); without it they run on the numpy path.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.engines import ENGINES
from benchmarks.queries import KINDS, load_queries

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True, help="folder holding one index per engine")
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--engines", default="tantivy,searchlib-engine")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu")
    parser.add_argument("--numba", action="store_true", help="searchlib engines use the fast extra's kernels")
    parser.add_argument(
        "--first-sight",
        action="store_true",
        help="searchlib keeps no word's prepared kernel calls or block bounds between searches "
        "(every query is timed as if never seen, though each runs more than once)",
    )
    args = parser.parse_args(argv)
    if args.first_sight:
        from searchlib._whoosh import andtop

        andtop.MAX_KEPT_WORDS = 0
    names = args.engines.split(",")
    engines = []
    for name in names:
        engine = ENGINES[name]()
        if hasattr(engine, "numba"):
            engine.numba = args.numba
        engine.open(args.index_dir / (ENGINES[name].searches or name))
        engines.append(engine)
    queries = load_queries(args.queries)
    for query in queries:  # warm-up pass
        for engine in engines:
            engine.search(query)
    clock = CLOCKS[args.clock]
    times: dict[tuple[str, str], list[float]] = {}
    for rep in range(args.reps):
        for i, query in enumerate(queries):
            for j in range(len(engines)):
                at = (i + j + rep) % len(engines)  # each engine first as often as the others
                t0 = clock()
                engines[at].search(query)
                times.setdefault((names[at], query.kind), []).append((clock() - t0) * 1000)
    header = ["kind", *(f"{n} p50 / p95 ms" for n in names), *(f"{n} / {names[0]} p50" for n in names[1:])]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for kind in KINDS:
        if (names[0], kind) not in times:
            continue
        p50s = [statistics.median(times[(n, kind)]) for n in names]
        cells = [f"{p50:.3f} / {percentile(times[(n, kind)], 95):.2f}" for n, p50 in zip(names, p50s, strict=True)]
        ratios = [f"{p50 / p50s[0]:.2f}x" for p50 in p50s[1:]]
        print("| " + " | ".join([kind, *cells, *ratios]) + " |")


if __name__ == "__main__":
    main()
