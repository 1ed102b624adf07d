"""An archive's ranking round in the calling process: one pass over every shard against one task per shard.

Opens the one index and an archive that ``bench_archive.py`` built and kept (it never builds),
and times each query on four setups back to back, in one process, the order rotating from
query to query through every order (so all four see the same load on a shared machine):

- ``index``: the one index holding every article;
- ``together``: the archive as it searches in process (``searchlib.shards.rank_here``: one
  read of every shard, statistics summed, the plan evaluated once over all target shards'
  segments, one top-k);
- ``by_shard``: the same archive with the round replaced by what it was before: statistics
  gathered shard by shard, then one "rank" task per target shard (what a process pool or Dask
  worker runs), merged by the archive.
- ``decoding``: ``together`` as it was before session 6 (archive4): the kept combined view
  decodes each page's article ids segment by segment on every query rather than reading them
  from its column of every id (``searchlib._whoosh.multi.WHOLE_COLUMNS_FROM``).

Every query's total is checked equal on the four. Prints p50 ms per kind and the ratio to
the one index.

    python benchmarks/bench_archive_round.py --articles 100000 --archive hash --reps 3
    python benchmarks/bench_archive_round.py --quick      # builds nothing: skips without a kept build
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import searchlib
from benchmarks.bench_archive import _query_args
from benchmarks.common import DATA
from benchmarks.corpus import iter_docs
from benchmarks.queries import KINDS, generate_queries
from searchlib import shards
from searchlib._whoosh import multi
from searchlib.archive import tasks
from searchlib.engine import Stats


def by_shard(indexes: Sequence[Any], targets: Sequence[int], query: str, scored: bool, args: Any) -> list[Any]:
    """The round as before: statistics shard by shard, then a "rank" task on each target shard."""
    stats = None
    if scored:
        stats = Stats(0, {}, {})
        for index in indexes:
            stats = stats.merged(shards.run(index, "stats", {"plan": args[0]["plan"], "query": query}))
    return [shards.run(indexes[t], "rank", {**a, "stats": stats}) for t, a in zip(targets, args, strict=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--shards", type=int, default=4, help="shards of the kept hash archive")
    parser.add_argument("--archive", choices=["hash", "year"], default="hash")
    parser.add_argument("--per-kind", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="600 articles, 5 queries per kind, 1 pass")
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.per_kind, args.reps = 600, 5, 1
    found = sorted(DATA.glob(f"archive-bench-{args.articles}-s{args.seed}-h{args.shards}-f*"))
    corpus = DATA / f"corpus-text-{args.articles}-s{args.seed}"
    if not found or not corpus.is_dir():
        print(f"no kept build of {args.articles} articles under {DATA}: run bench_archive.py first; skipped")
        return 0
    work = found[-1]
    queries = generate_queries(iter_docs(corpus), args.seed, args.per_kind)
    index = searchlib.Index.open(work / "one")
    archive = searchlib.Archive.open(work / args.archive, executor="serial")
    together = tasks.rank_here

    def using(round_: Callable[..., Any]) -> Callable[[str, dict[str, Any]], Any]:
        def search(text: str, kwargs: dict[str, Any]) -> Any:
            tasks.rank_here = round_
            return archive.search(text, **kwargs)

        return search

    reused = multi.WHOLE_COLUMNS_FROM

    def decoding(text: str, kwargs: dict[str, Any]) -> Any:
        views = [view for view, _ in multi._KEPT._views.values()]
        columns = [view._lazy.pop("id", None) for view in views]  # as no round had built it
        multi.WHOLE_COLUMNS_FROM = sys.maxsize
        try:
            return using(together)(text, kwargs)
        finally:
            multi.WHOLE_COLUMNS_FROM = reused
            for view, column in zip(views, columns, strict=True):
                if column is not None:
                    view._lazy.setdefault("id", column)

    setups: dict[str, Callable[[str, dict[str, Any]], Any]] = {
        "index": lambda text, kwargs: index.search(text, **kwargs),
        "together": using(together),
        "decoding": decoding,
        "by_shard": using(by_shard),
    }
    try:
        for query in queries:  # warm pass, and the answers must agree
            text, kwargs = _query_args(query)
            totals = {name: search(text, kwargs).total for name, search in setups.items()}
            if len(set(totals.values())) != 1:
                raise SystemExit(f"totals differ for {text!r}: {totals}")
        ms: dict[str, dict[str, list[float]]] = {name: {k: [] for k in KINDS} for name in setups}
        names = list(setups)
        # every order in turn: each setup runs as often first, and after each other one (a
        # setup right after another on the same archive finds its data in the CPU caches)
        orders = list(itertools.permutations(names))
        turn = 0
        for _ in range(args.reps):
            for query in queries:
                text, kwargs = _query_args(query)
                turn += 1
                for name in orders[turn % len(orders)]:
                    started = time.perf_counter()
                    setups[name](text, kwargs)
                    ms[name][query.kind].append((time.perf_counter() - started) * 1000)
    finally:
        tasks.rank_here = together
        archive.close()
        index.close()
    print(f"{args.archive} archive of {work.name}: p50 ms (ratio to the one index)")
    print("| kind | index | together | decoding | by shard |")
    print("|---|---|---|---|---|")
    for kind in KINDS:
        p50 = {name: statistics.median(ms[name][kind]) for name in names if ms[name][kind]}
        if len(p50) < len(names):
            continue
        one = p50["index"]
        print(
            f"| {kind} | {one:.2f} | {p50['together']:.2f} ({p50['together'] / one:.2f}x) "
            f"| {p50['decoding']:.2f} ({p50['decoding'] / one:.2f}x) "
            f"| {p50['by_shard']:.2f} ({p50['by_shard'] / one:.2f}x) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
