"""Run the indexing and the search benchmark on the same corpus, one after the other.

    python benchmarks/run_all.py --quick                 # CI: ~300 articles, well under a minute
    python benchmarks/run_all.py --articles 10000 --seed 42

Writes ``benchmarks/results/<name>-index.md``, ``<name>-search.md`` (plus JSON and PNG
plots) and prints both markdown reports.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_index, bench_search, common


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_args(parser)
    bench_search.add_search_args(parser)
    args = common.resolve(parser.parse_args(argv))
    started = time.perf_counter()
    index_md, index_raw = bench_index.run(args)
    index_path = common.write_result(f"{args.name}-index", index_md, index_raw)
    search_md, search_raw = bench_search.run(args)
    search_path = common.write_result(f"{args.name}-search", search_md, search_raw)
    print(index_md)
    print()
    print(search_md)
    elapsed = time.perf_counter() - started
    print(
        f"\nwritten: {index_path.relative_to(common.ROOT)}, {search_path.relative_to(common.ROOT)} ({elapsed:.0f} s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
