"""Search benchmark: the same seeded queries against every engine's index of the same corpus.

Per query kind: p50/p95/p99 latency of a top-10 search (warm: one untimed pass first, then
``--reps`` timed passes, one query at a time in one thread) and queries per second; per
engine: index open time and first-query time; for searchlib, the extra milliseconds per
hit that default highlighting costs. Indexes missing for the corpus are built first
(unmeasured; run ``bench_index`` for build numbers).

    python -m benchmarks.bench_search --quick
    python benchmarks/bench_search.py --articles 10000 --seed 42
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common
from benchmarks.bench_index import built_with, cli_args, ensure_index
from benchmarks.corpus import Pools, ensure_corpus, iter_docs
from benchmarks.engines import ENGINES
from benchmarks.queries import KINDS, Query, generate_queries, save_queries


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * pct / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarise(queries: list[Query], raw: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per kind: p50/p95/p99 ms, qps and mean hits, from a worker's per-query latencies."""
    out: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        idx = [str(i) for i, q in enumerate(queries) if q.kind == kind and str(i) in raw["latencies"]]
        samples = [ms for i in idx for ms in raw["latencies"][i]]
        if not samples:
            continue
        out[kind] = {
            "p50": percentile(samples, 50),
            "p95": percentile(samples, 95),
            "p99": percentile(samples, 99),
            "qps": 1000 * len(samples) / sum(samples),
            "hits": statistics.mean(len(raw["top"][i]) for i in idx),
        }
    return out


def overlap(queries: list[Query], raw: dict[str, Any], ref: dict[str, Any] | None) -> dict[str, float]:
    """Per kind: mean share of the reference engine's top-10 ids that this engine also returned."""
    if ref is None:
        return {}
    out: dict[str, float] = {}
    for kind in KINDS:
        shares = []
        for i, q in enumerate(queries):
            a, b = raw["top"].get(str(i)), ref["top"].get(str(i))
            if q.kind == kind and a is not None and b:
                shares.append(len(set(a) & set(b)) / len(b))
        if shares:
            out[kind] = statistics.mean(shares)
    return out


def run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    corpus, info = ensure_corpus(common.DATA, args.articles, args.seed, args.format)
    engines, notes = common.available_engines(args.engines)
    engines = [e for e in engines if not ENGINES[e].index_only]  # variants share searchlib's index
    env = common.environment(info, args.seed)
    per_kind = args.per_kind or (4 if args.quick else 20)
    reps = args.reps or (2 if args.quick else 3)
    queries = generate_queries(iter_docs(corpus), args.seed, per_kind, Pools(args.seed))
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    qfile = common.RESULTS / f"{args.name}-queries.json"
    save_queries(queries, qfile)
    raws: dict[str, dict[str, Any]] = {}
    for engine in engines:
        index = ensure_index(ENGINES[engine].searches or engine, corpus)
        if engine == "searchlib" and built_with(engine, corpus) != common.searchlib_digest():
            notes.append(
                f"the searchlib index was built by searchlib {built_with(engine, corpus)} "
                f"(same index format {common.index_format()}) and searched by {common.searchlib_digest()}"
            )
        print(f"[search] {engine}: {len(queries)} queries x {reps} reps ...", file=sys.stderr, flush=True)
        timing = ["--reps", str(reps), "--clock", args.clock]
        raws[engine], _ = common.run_worker(
            ["search", "--engine", engine, "--index", str(index), "--queries", str(qfile), *timing]
        )
    digests = {r.get("searchlib_digest") for r in raws.values()} | {common.searchlib_digest()}
    if len(digests) > 1:
        notes.append(f"WARNING: searchlib's source changed during this run ({', '.join(sorted(map(str, digests)))})")
    stats = {e: summarise(queries, r) for e, r in raws.items()}
    agree = {e: overlap(queries, r, raws.get("whoosh")) for e, r in raws.items()}
    markdown = report(args, env, stats, agree, raws, notes, per_kind, reps)
    raw = {
        "env": env,
        "corpus": info,
        "per_kind": per_kind,
        "reps": reps,
        "stats": stats,
        "overlap": agree,
        "open_ms": {e: r["open_ms"] for e, r in raws.items()},
        "first_query_ms": {e: r["first_query_ms"] for e, r in raws.items()},
        "highlight": raws.get("searchlib", {}).get("highlight"),
        "notes": notes,
    }
    return markdown, raw


def _cell(stats: dict[str, dict[str, float]], engine: str, kind: str, key: str, digits: int = 1) -> str:
    value = stats[engine].get(kind, {}).get(key)
    return common.fmt(value, digits) if value is not None else "n/a"


def report(
    args: argparse.Namespace,
    env: dict[str, str],
    stats: dict[str, dict[str, dict[str, float]]],
    agree: dict[str, dict[str, float]],
    raws: dict[str, dict[str, Any]],
    notes: list[str],
    per_kind: int,
    reps: int,
) -> str:
    engines = list(stats)
    kinds = [k for k in KINDS if any(k in s for s in stats.values())]
    lat_rows = [
        [k, *(" / ".join(_cell(stats, e, k, p, 2) for p in ("p50", "p95", "p99")) for e in engines)] for k in kinds
    ]
    qps_rows = [[k, *(_cell(stats, e, k, "qps", 0) for e in engines)] for k in kinds]
    parts = [
        f"# Search benchmark: {args.name}",
        "",
        f"Command: `python benchmarks/bench_search.py {cli_args(args)}{_search_flags(args)}`",
        "",
        common.env_markdown(env),
        f"- **queries**: {per_kind} per kind x {reps} timed reps after one warm-up pass; top 10; one thread",
        "",
        f"## Latency ms (p50 / p95 / p99, {'CPU time of the worker process' if args.clock == 'cpu' else 'wall time'})",
        "",
        common.table(["kind", *engines], lat_rows),
        "",
        "searchlib computes the exact total number of matches on every search (`Results.total`); "
        "the raw Whoosh runner does not (it only collects the top 10).",
        "",
        "## Queries per second (sequential)",
        "",
        common.table(["kind", *engines], qps_rows),
    ]
    for ref in ("whoosh", "tantivy"):
        if ref not in stats:
            continue
        rows = []
        for k in kinds:
            base = stats[ref].get(k, {}).get("p50")
            rows.append(
                [
                    k,
                    *(
                        common.ratio(base, stats[e].get(k, {}).get("p50")) if k in stats[e] and base else "n/a"
                        for e in engines
                    ),
                ]
            )
        parts += [
            "",
            f"## p50 speed relative to {ref} ({ref} p50 / engine p50; >1 = faster than {ref})",
            "",
            common.table(["kind", *engines], rows),
        ]
    if agree.get("whoosh"):
        rows = [
            [k, *(common.fmt(100 * agree[e][k], 0) + "%" if k in agree[e] else "n/a" for e in engines)] for k in kinds
        ]
        hits = [[k, *(_cell(stats, e, k, "hits", 1) for e in engines)] for k in kinds]
        parts += [
            "",
            "## Top-10 overlap with raw Whoosh (sanity check, not a quality measure)",
            "",
            common.table(["kind", *engines], rows),
            "",
            "## Mean hits returned (of 10)",
            "",
            common.table(["kind", *engines], hits),
        ]
    open_rows = [[e, common.fmt(r["open_ms"], 1), common.fmt(r["first_query_ms"], 1)] for e, r in raws.items()]
    parts += ["", "## Opening the index", "", common.table(["engine", "open ms", "first query ms"], open_rows)]
    hl = raws.get("searchlib", {}).get("highlight")
    if hl:
        parts += [
            "",
            f"searchlib highlighting (default `HighlightOptions()`): median {hl.get('median_ms_per_hit', 0.0):.2f} ms "
            f"per hit over queries, mean {hl['ms_per_hit']:.2f} ms "
            f"({hl['hits']} hits, {hl['snippets']} snippets over {hl['queries']} text queries).",
        ]
    lacks = [
        [e, "; ".join(f"{k}: {why}" for k, why in ENGINES[e].lacks.items()) or "-", ENGINES[e].notes] for e in engines
    ]
    parts += ["", "## What each engine lacks (n/a cells)", "", common.table(["engine", "lacks", "notes"], lacks)]
    if notes:
        parts += ["", *[f"- {note}" for note in notes]]
    lat_png = common.RESULTS / f"{args.name}-search-latency.png"
    qps_png = common.RESULTS / f"{args.name}-search-qps.png"
    series = {e: [stats[e].get(k, {}).get("p50") for k in kinds] for e in engines}
    if common.bar_chart(lat_png, "Search latency p50 by query kind", "ms (log scale)", kinds, series, log=True):
        qps = {e: [stats[e].get(k, {}).get("qps") for k in kinds] for e in engines}
        common.bar_chart(qps_png, "Search throughput by query kind", "queries/s (log scale)", kinds, qps, log=True)
        parts += ["", f"![latency]({lat_png.name})", "", f"![qps]({qps_png.name})"]
    return "\n".join(parts)


def add_search_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--per-kind", type=int, default=0, help="queries per kind (default 20; quick 4)")
    parser.add_argument("--reps", type=int, default=0, help="timed passes (default 3; quick 2)")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time queries by wall clock (default) or by the worker's CPU time (steadier on a shared machine)",
    )


def _search_flags(args: argparse.Namespace) -> str:
    """The search options of the command line (the engines, queries per kind, reps, clock) as given."""
    engines = getattr(args, "engines", None)
    flags = f" --engines {','.join(engines)}" if engines else ""
    flags += f" --per-kind {args.per_kind}" if args.per_kind else ""
    flags += f" --reps {args.reps}" if args.reps else ""
    return flags + (" --clock cpu" if args.clock == "cpu" else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_args(parser)
    add_search_args(parser)
    args = common.resolve(parser.parse_args(argv))
    markdown, raw = run(args)
    path = common.write_result(f"{args.name}-search", markdown, raw)
    print(markdown)
    print(f"\nwritten: {path.relative_to(common.ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
