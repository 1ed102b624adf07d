"""Indexing benchmark: every engine indexes the same synthetic corpus in its own process.

Reports wall seconds, documents/s, MB/s of corpus text, peak RSS of the worker's process
tree (psutil polling every 20 ms, interpreter included), index size on disk, and for
searchlib the time to re-ingest the unchanged corpus (every article skipped). Ratios are
throughput relative to raw Whoosh and to tantivy from the same run.

    python -m benchmarks.bench_index --quick
    python benchmarks/bench_index.py --articles 10000 --seed 42
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common
from benchmarks.corpus import ensure_corpus
from benchmarks.engines import ENGINES

BUILD_STAMP = "build.json"


def index_root(corpus: Path) -> Path:
    return common.DATA / "indexes" / corpus.name


def build(engine: str, corpus: Path, commit_every: int | None = None) -> dict[str, Any]:
    """Build ``engine``'s index of ``corpus`` in a worker; returns the measurements."""
    index = index_root(corpus) / engine
    stamp = index_root(corpus) / f"{engine}.{BUILD_STAMP}"
    stamp.unlink(missing_ok=True)
    extra = ["--commit-every", str(commit_every)] if commit_every else []
    result, peak = common.run_worker(
        ["build", "--engine", engine, "--corpus", str(corpus), "--index", str(index), *extra]
    )
    result.update(peak_rss=peak, size=common.dir_size(index))
    stamp.write_text(json.dumps(result), "utf-8")
    return result


def ensure_index(engine: str, corpus: Path) -> Path:
    """The index directory of ``engine`` for ``corpus``, built (unmeasured) if missing.

    A searchlib index is rebuilt when searchlib's index format changed since it was built
    (not for every source edit: the stamp records the source digest it was built with).
    """
    stamp = index_root(corpus) / f"{engine}.{BUILD_STAMP}"
    try:
        built = json.loads(stamp.read_text("utf-8"))
    except (OSError, ValueError):
        built = {}
    stale = engine == "searchlib" and built.get("index_format") != common.index_format()
    if built.get("searchlib_digest") is None or stale:
        build(engine, corpus)
    return index_root(corpus) / engine


def built_with(engine: str, corpus: Path) -> str | None:
    """The searchlib source digest an engine's index of ``corpus`` was built with."""
    try:
        digest = json.loads((index_root(corpus) / f"{engine}.{BUILD_STAMP}").read_text("utf-8"))["searchlib_digest"]
    except (OSError, ValueError, KeyError):
        return None
    return str(digest)


def run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    corpus, info = ensure_corpus(common.DATA, args.articles, args.seed, args.format)
    engines, notes = common.available_engines(args.engines)
    engines = [e for e in engines if ENGINES[e].searches is None]  # search-only variants build nothing
    env = common.environment(info, args.seed)
    results: dict[str, dict[str, Any]] = {}
    for engine in engines:
        print(f"[index] {engine}: building {info['articles']} articles ...", file=sys.stderr, flush=True)
        results[engine] = build(engine, corpus, args.commit_every)
        print(f"[index] {engine}: {results[engine]['seconds']:.1f} s", file=sys.stderr, flush=True)
    reingest = None
    if "searchlib" in results:
        index = index_root(corpus) / "searchlib"
        try:
            reingest, peak = common.run_worker(
                ["reingest", "--engine", "searchlib", "--corpus", str(corpus), "--index", str(index)]
            )
            reingest["peak_rss"] = peak
        except RuntimeError as exc:
            notes.append(f"searchlib re-ingest failed: {str(exc).strip().splitlines()[-1]}")
    digests = {r.get("searchlib_digest") for r in results.values()} | {common.searchlib_digest()}
    if len(digests) > 1:
        notes.append(f"WARNING: searchlib's source changed during this run ({', '.join(sorted(digests))})")
    markdown = report(args, env, info, results, reingest, notes)
    return markdown, {"env": env, "corpus": info, "results": results, "reingest": reingest, "notes": notes}


def report(
    args: argparse.Namespace,
    env: dict[str, str],
    info: dict[str, Any],
    results: dict[str, dict[str, Any]],
    reingest: dict[str, Any] | None,
    notes: list[str],
) -> str:
    n, mb = info["articles"], info["bytes"] / 1e6
    rate = {e: n / r["seconds"] for e, r in results.items()}
    rows = []
    for engine, r in results.items():
        rows.append(
            [
                engine,
                common.fmt(r["seconds"], 2),
                common.fmt(rate[engine]),
                common.fmt(mb / r["seconds"], 2),
                common.fmt(r["peak_rss"] / 2**20) if r["peak_rss"] else "n/a",
                common.fmt(r["size"] / 2**20, 1),
                common.ratio(rate[engine], rate.get("whoosh")),
                common.ratio(rate[engine], rate.get("tantivy")),
            ]
        )
    headers = ["engine", "wall s", "docs/s", "MB/s", "peak RSS MB", "index MB", "docs/s vs whoosh", "docs/s vs tantivy"]
    parts = [
        f"# Indexing benchmark: {args.name}",
        "",
        f"Command: `python benchmarks/bench_index.py {cli_args(args)}`",
        "",
        common.env_markdown(env),
        "",
        common.table(headers, rows),
    ]
    if reingest is not None:
        parts += [
            "",
            f"searchlib re-ingest of the unchanged corpus: {reingest['seconds']:.2f} s "
            f"({n / reingest['seconds']:,.0f} docs/s; {reingest['unchanged']} unchanged, "
            f"{reingest['added']} added, {reingest['updated']} updated); "
            f"vs its first ingest: {reingest['seconds'] / results['searchlib']['seconds']:.2f}x the time "
            f"({results['searchlib']['seconds'] / reingest['seconds']:.1f}x faster).",
        ]
    if "searchlib" in results and "searchlib-2w" in results:
        parts += [
            "",
            f"searchlib parallel ingest: workers=2 indexes {rate['searchlib-2w'] / rate['searchlib']:.2f}x "
            f"as many docs/s as workers=1 ({common.fmt(rate['searchlib-2w'])} vs {common.fmt(rate['searchlib'])}).",
        ]
    if "searchlib" in results and "searchlib-nofsync" in results:
        with_sync, without = results["searchlib"]["seconds"], results["searchlib-nofsync"]["seconds"]
        parts += [
            "",
            f"Durability cost (fsync on every commit): searchlib takes {with_sync / without:.2f}x the wall time "
            f"of searchlib-nofsync ({with_sync:.2f} s vs {without:.2f} s, workers=1 both; "
            f"{100 * (with_sync - without) / with_sync:+.1f}% of the durable run).",
        ]
    parts += ["", "Ratios > 1 mean faster than the reference. Peak RSS includes the Python interpreter."]
    if notes:
        parts += ["", *[f"- {note}" for note in notes]]
    plot = common.RESULTS / f"{args.name}-index-throughput.png"
    if common.bar_chart(
        plot,
        f"Indexing throughput ({n:,} articles)",
        "documents / second",
        ["docs/s"],
        {e: [rate[e]] for e in results},
        log=True,
    ):
        parts += ["", f"![throughput]({plot.name})"]
    return "\n".join(parts)


def cli_args(args: argparse.Namespace) -> str:
    if args.quick:
        return "--quick"
    live = " --live" if args.live else ""
    commits = f" --commit-every {args.commit_every}" if args.commit_every else ""
    return f"--articles {args.articles} --seed {args.seed} --format {args.format}{live}{commits}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_args(parser)
    args = common.resolve(parser.parse_args(argv))
    markdown, raw = run(args)
    path = common.write_result(f"{args.name}-index", markdown, raw)
    print(markdown)
    print(f"\nwritten: {path.relative_to(common.ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
