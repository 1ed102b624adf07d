"""One searchlib engine in this process over a query set: p50 / p95 per kind (CPU time).

For comparing two versions of searchlib in alternation at the same load, without the worker
machinery: run it from each version's checkout in turn (that version on ``PYTHONPATH``),
several times, and compare the rounds side by side.

    for i in 1 2; do
      (cd BEFORE && PYTHONPATH=BEFORE python /path/to/bench_kinds.py --index INDEX --queries Q.json)
      (cd AFTER && PYTHONPATH=AFTER python benchmarks/bench_kinds.py --index INDEX --queries Q.json)
    done
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))  # the benchmarks package of the version being measured

from benchmarks.engines import ENGINES
from benchmarks.queries import KINDS, load_queries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--engine", default="searchlib-engine", help="searchlib-engine or searchlib (end to end)")
    parser.add_argument("--numba", action="store_true")
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args(argv)
    engine = ENGINES[args.engine]()
    engine.numba = args.numba  # type: ignore[attr-defined]
    engine.open(args.index)
    queries = load_queries(args.queries)
    for query in queries:  # warm-up pass
        engine.search(query)
    times: dict[str, list[float]] = {}
    for _ in range(args.reps):
        for query in queries:
            t0 = time.process_time()
            engine.search(query)
            times.setdefault(query.kind, []).append((time.process_time() - t0) * 1000)
    for kind in KINDS:
        found = sorted(times.get(kind, []))
        if found:
            p95 = found[min(len(found) - 1, round(0.95 * (len(found) - 1)))]
            print(f"{kind:10s} p50 {statistics.median(found):.3f}  p95 {p95:.3f}")


if __name__ == "__main__":
    main()
