"""What the web server adds on top of the library: each endpoint timed against the Index call it wraps.

    python benchmarks/bench_web.py [--index indexes/demo] [--reps 30] [--quick]

Runs ``searchlib serve``'s app in a real uvicorn server on loopback and times whole HTTP
requests (client included) side by side with the direct library calls they mirror, for the same
queries in the same run; prints medians and ratios as a Markdown table. Needs the ``web`` extra.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

import searchlib
from searchlib.web import running

QUERIES = ("strike", "inflation", "entity:HRB", '"wage talks"', "water rationing date:[2025-06 TO *]")


def _median_ms(fn: Callable[[], object], reps: int) -> float:
    fn()  # warm
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--index", default="indexes/demo", help="index to serve (built from the sample corpus if missing)"
    )
    parser.add_argument("--reps", type=int, default=30, help="timed repetitions per query and endpoint")
    parser.add_argument("--quick", action="store_true", help="3 repetitions (CI)")
    args = parser.parse_args(argv)
    reps = 3 if args.quick else args.reps

    path = Path(args.index)
    if not path.exists():
        with searchlib.Index.create(path) as ix:
            ix.ingest(searchlib.sample_corpus_path())
    rows = []
    with searchlib.Index.open(path) as ix, running(ix) as base, httpx2.Client(base_url=base) as http:
        docs = len(ix)
        for q in QUERIES:
            pairs = [
                ("search (10 hits)", lambda q=q: ix.search(q), lambda q=q: http.get("/api/search", params={"q": q})),
                ("facets", lambda q=q: ix.facets(q), lambda q=q: http.get("/api/facets", params={"q": q})),
                ("timeline", lambda q=q: ix.timeline(q), lambda q=q: http.get("/api/timeline", params={"q": q})),
                (
                    "search page (hits, facets, timeline)",
                    lambda q=q: (ix.search(q, facets=True, facet_size=12), ix.timeline(q)),
                    lambda q=q: http.get("/", params={"q": q}),
                ),
            ]
            for name, direct, served in pairs:
                assert served().status_code == 200  # type: ignore[attr-defined]
                lib, web = _median_ms(direct, reps), _median_ms(served, reps)
                rows.append((q, name, lib, web))
    print(f"searchlib {searchlib.__version__}, {docs} articles in {path}, median of {reps} runs each\n")
    print("| query | endpoint | library ms | over HTTP ms | ratio |")
    print("|---|---|---:|---:|---:|")
    for q, name, lib, web in rows:
        print(f"| `{q}` | {name} | {lib:.2f} | {web:.2f} | {web / lib:.1f}x |")
    overhead = statistics.median(web - lib for _q, _n, lib, web in rows)
    print(f"\nmedian added per request: {overhead:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
