"""One searchlib code, two builds of one corpus, interleaved query by query: does a format change a query's time?

``bench_pair.py`` compares engines in one process; comparing two index formats that way needs
two runs (one per index), which a shared machine's load skews. Here both indexes (say, the same
build before and after ``searchlib upgrade`` rewrote its sidecars) are open in this one process
with one code, and each query runs on both in turn (the order alternating), optionally with
tantivy too, timed by the same clock. The table gives p50 / p95 per kind and B / A. Usage::

    python benchmarks/bench_two_indexes.py --a v5=/tmp/bench7/.../corpus-text-100000-s42/searchlib-2w \\
        --b v6=benchmarks/data/indexes/corpus-text-100000-s42/searchlib \\
        --queries benchmarks/results/engine6-100000-s42-queries.json --kinds phrase --reps 3 [--numba] [--tantivy DIR]

Only reads: opening an index of an older sidecar version reads it as it is (nothing is rewritten).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_pair import CLOCKS, percentile
from benchmarks.engines import ENGINES
from benchmarks.queries import KINDS, load_queries


def _labelled(text: str) -> tuple[str, Path]:
    label, _, path = text.partition("=")
    if not path:
        raise argparse.ArgumentTypeError(f"expected LABEL=PATH, got {text!r}")
    return label, Path(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=_labelled, required=True, help="LABEL=INDEX (the baseline)")
    parser.add_argument("--b", type=_labelled, required=True, help="LABEL=INDEX")
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated query kinds")
    parser.add_argument("--engine", default="searchlib-engine", choices=("searchlib-engine", "searchlib"))
    parser.add_argument("--tantivy", type=Path, help="tantivy's index of the same corpus, timed alongside")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu")
    parser.add_argument("--numba", action="store_true", help="searchlib uses the fast extra's kernels")
    args = parser.parse_args(argv)
    runners: list[tuple[str, Any]] = []
    for label, path in (args.a, args.b):
        engine = ENGINES[args.engine]()
        engine.numba = args.numba
        engine.open(path)
        runners.append((label, engine))
    if args.tantivy is not None:
        engine = ENGINES["tantivy"]()
        engine.open(args.tantivy)
        runners.append(("tantivy", engine))
    kinds = args.kinds.split(",")
    queries = [query for query in load_queries(args.queries) if query.kind in kinds]
    for query in queries:  # warm-up pass
        for _, engine in runners:
            engine.search(query)
    clock = CLOCKS[args.clock]
    times: dict[tuple[str, str], list[float]] = {}
    for rep in range(args.reps):
        for i, query in enumerate(queries):
            for j in range(len(runners)):
                label, engine = runners[(i + j + rep) % len(runners)]
                start = clock()
                engine.search(query)
                times.setdefault((label, query.kind), []).append((clock() - start) * 1000)
    labels = [label for label, _ in runners]
    header = ["kind", *(f"{label} p50 / p95 ms" for label in labels), f"{labels[1]} / {labels[0]} p50"]
    if args.tantivy is not None:
        header += [f"{labels[0]} / tantivy p50", f"{labels[1]} / tantivy p50"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for kind in kinds:
        if (labels[0], kind) not in times:
            continue
        p50 = {label: statistics.median(times[(label, kind)]) for label in labels}
        cells = [f"{p50[label]:.3f} / {percentile(times[(label, kind)], 95):.2f}" for label in labels]
        ratios = [f"{p50[labels[1]] / p50[labels[0]]:.2f}x"]
        if args.tantivy is not None:
            ratios += [f"{p50[label] / p50['tantivy']:.2f}x" for label in labels[:2]]
        print("| " + " | ".join([kind, *cells, *ratios]) + " |")


if __name__ == "__main__":
    main()
