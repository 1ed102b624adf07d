"""Two searchlib versions on one index and one query set, in one run: before/after ratios per kind.

Each version is a source snapshot ``benchmarks/data/snapshots/<digest>/`` (every benchmark run
copies the searchlib it measures there); the search worker runs on each in turn, engine only
(``searchlib-engine``) and end to end (``searchlib``), timed by CPU time by default (``--clock``).
Both versions must read the index's format. Prints a markdown table of p50 / p95 per kind and
the after / before ratio of the p50s.

    python benchmarks/bench_before_after.py --index benchmarks/data/indexes/corpus-text-30000-s42/searchlib \\
        --queries benchmarks/results/query-30000-s42-cpu-queries.json --before 916075efc4ad --after edfde874aee1
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common
from benchmarks.queries import KINDS, load_queries

ENGINES = ("searchlib-engine", "searchlib")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--before", required=True, help="snapshot digest of the old version")
    parser.add_argument("--after", required=True, help="snapshot digest of the new version")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="cpu")
    args = parser.parse_args(argv)
    args.index, args.queries = args.index.resolve(), args.queries.resolve()  # workers run in the snapshot
    queries = load_queries(args.queries)
    latencies: dict[tuple[str, str, str], list[float]] = {}
    for version in ("before", "after"):
        common._SNAPSHOT = common.DATA / "snapshots" / getattr(args, version)
        for engine in ENGINES:
            print(f"[before/after] {version} {engine} ...", file=sys.stderr, flush=True)
            timing = ["--reps", str(args.reps), "--clock", args.clock]
            raw, _ = common.run_worker(
                ["search", "--engine", engine, "--index", str(args.index), "--queries", str(args.queries), *timing]
            )
            for i, query in enumerate(queries):
                latencies.setdefault((version, engine, query.kind), []).extend(raw["latencies"][str(i)])
    header = ["kind"]
    for engine in ENGINES:
        header += [f"{engine} before p50 / p95 ms", f"{engine} after p50 / p95 ms", "after / before p50"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for kind in KINDS:
        row = [kind]
        for engine in ENGINES:
            old, new = latencies[("before", engine, kind)], latencies[("after", engine, kind)]
            row += [
                f"{statistics.median(old):.2f} / {percentile(old, 95):.2f}",
                f"{statistics.median(new):.2f} / {percentile(new, 95):.2f}",
                f"{statistics.median(new) / statistics.median(old):.2f}",
            ]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
