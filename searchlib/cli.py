"""The ``searchlib`` command: its parser and the indexing and reading commands (index, search, repl, ...).

A thin layer over the public API. Shared helpers (exit statuses, colour, filters, errors) are in
:mod:`searchlib.cli_base`; stats, get, delete, entities, check and upgrade in :mod:`searchlib.cli_admin`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import attrs

from searchlib import __version__, cli_admin
from searchlib.archive import Archive, is_archive
from searchlib.archive.executor import ProcessExecutor
from searchlib.cli_base import (
    AUTO_PARALLEL_BYTES,
    EXIT_CHECK_PROBLEMS,
    EXIT_CLOSED_PIPE,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NO_MATCH,
    EXIT_NOTHING_INDEXED,
    EXIT_OK,
    EXIT_USAGE,
    ON_LOCAL,
    _bare_color,
    _color,
    _common_options,
    _dask,
    _error,
    _filters,
    _found,
    _open_any,
    _Parser,
    _print_json,
    _scheduler_ignored,
    _width,
    resolve_index_path,
)
from searchlib.display import (
    format_duplicates,
    format_facets,
    format_related,
    format_report,
    format_results,
    format_timeline,
)
from searchlib.entities import EntityExtractor, NoExtractor, RuleExtractor
from searchlib.errors import QuerySyntaxError, SearchlibError
from searchlib.index import DEFAULT_ROOT, Index
from searchlib.ingest import MAX_ARTICLE_CHARS, IngestProgress, IngestReport, iter_files
from searchlib.models import DateBucket, Recency, Results, Sort
from searchlib.render import neutralise_controls
from searchlib.repl import run_repl
from searchlib.sample import sample_corpus_path

__all__ = [
    "DEMO_QUERIES",
    "EXIT_CHECK_PROBLEMS",
    "EXIT_CLOSED_PIPE",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NOTHING_INDEXED",
    "EXIT_NO_MATCH",
    "EXIT_OK",
    "EXIT_USAGE",
    "main",
    "resolve_index_path",
]

DEMO_QUERIES = ("wage talks", '"interest rates"', "entity:HRB date:2025-05", "water rationing date:[2025-06 TO *]")


def _progress_bar(enabled: bool) -> tuple[Callable[[IngestProgress], None] | None, Callable[[], None]]:
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm  # type: ignore[import-untyped]

    bar = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, desc="indexing", file=sys.stderr)

    def update(event: IngestProgress) -> None:
        bar.total = event.bytes_total
        bar.n = event.bytes_done
        bar.set_postfix(files=f"{event.files_done}/{event.files_total}", articles=event.articles, refresh=False)
        bar.refresh()

    return update, bar.close


def _extractor(name: str, model: str) -> EntityExtractor:
    if name == "none":
        return NoExtractor()
    if name == "spacy":
        from searchlib.spacy_extractor import SpacyExtractor

        return SpacyExtractor(model=model)
    return RuleExtractor()


def _auto_workers(paths: Sequence[str]) -> int:
    total = 0
    for found in iter_files(paths):
        if isinstance(found, Path):
            with contextlib.suppress(OSError):
                total += found.stat().st_size
    return min(os.cpu_count() or 1, 4) if total > AUTO_PARALLEL_BYTES else 1


def _ingest_with_progress(ingest: Callable[..., IngestReport], args: argparse.Namespace) -> IngestReport:
    """Run an Index's or an Archive's ``ingest`` on the command's paths and options, with the progress bar."""
    progress, done = _progress_bar(not args.quiet and sys.stderr.isatty())
    try:
        report: IngestReport = ingest(
            args.paths,
            strict=args.strict,
            progress=progress,
            commit_every=args.commit_every,
            max_article_chars=args.max_article_chars or None,
            timeout=args.wait,
        )
        return report
    finally:
        done()


def cmd_index_archive(args: argparse.Namespace, out: TextIO) -> int:
    """``index --shard-by``, or ``index`` into an existing archive: shards built in parallel.

    On the local process pool (``--workers N`` processes, default one per core), or on the
    Dask cluster at ``--scheduler ADDRESS``.
    """
    path = resolve_index_path(args.index)
    extractor = _extractor(args.extractor, args.spacy_model)
    executor = _dask(args.scheduler) if args.scheduler else ProcessExecutor(args.workers or None)
    if args.overwrite or not is_archive(path):
        archive = Archive.create(
            path,
            shard_by=args.shard_by or "year",
            shards=args.shards,
            overwrite=args.overwrite,
            extractor=extractor,
            executor=executor,
        )
    else:
        archive = Archive.open(path, extractor=extractor, executor=executor)
    with archive:
        report = _ingest_with_progress(archive.ingest, args)
        out.write(format_report(report) + "\n")
        shards = len(archive.manifest.shards)
        out.write(neutralise_controls(f"archive {path}: {len(archive)} articles in {shards} shard(s)") + "\n")
    if report.read == 0:
        _error("nothing indexed: every record was skipped or the files hold no articles; see the problems above")
        return EXIT_NOTHING_INDEXED
    return EXIT_OK


def cmd_index(args: argparse.Namespace, out: TextIO) -> int:
    path = resolve_index_path(args.index)
    found = list(iter_files(args.paths))
    if not any(isinstance(f, Path) for f in found):
        problems = "; ".join(str(p) for p in found[:5])
        _error(f"nothing to index: no input files ({problems}); usage: searchlib index INDEX PATH...")
        return EXIT_NOTHING_INDEXED
    if args.shard_by or is_archive(path):
        return cmd_index_archive(args, out)
    if args.scheduler:
        _error(
            f"--scheduler builds an archive's shards on Dask, and {path} is not an archive: "
            "add --shard-by year|month|hash to build one (or leave out --scheduler for one index)"
        )
        return EXIT_USAGE
    extractor = _extractor(args.extractor, args.spacy_model)
    if args.overwrite:
        ix = Index.create(path, overwrite=True, extractor=extractor)
    else:
        ix = Index.open(path, create=True, extractor=extractor)
    with ix:
        report = _ingest_with_progress(
            functools.partial(ix.ingest, workers=args.workers or _auto_workers(args.paths)), args
        )
        if args.json:
            _print_json(out, report)
        else:
            out.write(format_report(report) + "\n")
            out.write(neutralise_controls(f"index {path}: {len(ix)} articles") + "\n")
    if report.read == 0:
        what = f"every record was skipped ({report.skipped})" if report.skipped else "the files hold no articles"
        _error(f"nothing indexed: {what}; see the problems above")
        return EXIT_NOTHING_INDEXED
    return EXIT_OK


def _results_json(results: Results) -> str:
    def encode(value: object) -> object:
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        return str(value)

    return json.dumps(attrs.asdict(results), default=encode, ensure_ascii=False, indent=2)


def cmd_search(args: argparse.Namespace, out: TextIO) -> int:
    with _open_any(args) as ix:
        results = ix.search(
            args.query,
            **_filters(args),
            sort=Sort(args.sort),
            limit=args.limit,
            page=args.page,
            facets=args.facets,
            facet_bucket=DateBucket(args.bucket),
            collapse_duplicates=args.collapse,
            recency=Recency(args.now, half_life_days=args.recent) if args.recent else None,
        )
        suggestion = ix.suggest(args.query) if results.total == 0 and isinstance(ix, Index) else None
    status = EXIT_OK if results.total else EXIT_NO_MATCH
    if args.json:
        out.write(_results_json(results) + "\n")
        return status
    out.write(format_results(results, color=_color(out, args.color), width=_width(out)) + "\n")
    if suggestion:
        out.write(neutralise_controls(f"Did you mean: {suggestion}") + "\n")
    if results.facets is not None:
        out.write("\n" + format_facets(results.facets) + "\n")
    return status


COMPLETION_ENTITIES = 500
"""How many of the index's most frequent entity names the REPL completes."""


def cmd_repl(args: argparse.Namespace, out: TextIO) -> int:
    with _open_any(args) as ix:
        interactive = sys.stdin.isatty() and out is sys.stdout
        reader = None
        if interactive:  # history across sessions, completion, Ctrl-C clears the line
            from searchlib.lineedit import line_reader

            names = [f.value for f in ix.facets("", size=COMPLETION_ENTITIES).entities]
            reader = line_reader(names, history=Path(args.history) if args.history else None)
        run_repl(
            ix,
            stdin=sys.stdin,
            stdout=out,
            color=_color(out, args.color),
            limit=args.limit,
            interactive=interactive,
            reader=reader,
            width=_width(out),
        )
    return 0


def cmd_related(args: argparse.Namespace, out: TextIO) -> int:
    with _open_any(args) as ix:
        found = ix.related_entities(
            args.query,
            size=args.size,
            **_filters(args),
        )
    status = _found(found)
    if args.json:
        _print_json(out, list(found))
        return status
    out.write(format_related(found) + "\n")
    return status


def cmd_retag(args: argparse.Namespace, out: TextIO) -> int:
    with Index.open(resolve_index_path(args.index)) as ix:
        count = ix.reextract(_extractor(args.extractor, args.spacy_model), timeout=args.wait)
    if args.json:
        out.write(json.dumps({"retagged": count}) + "\n")
        return 0
    out.write(f"re-tagged {count} article(s)\n")
    return 0


def cmd_similar(args: argparse.Namespace, out: TextIO) -> int:
    with _open_any(args) as ix:
        results = ix.more_like_this(args.id, limit=args.limit)
    status = _found(results)
    if args.json:
        out.write(_results_json(results) + "\n")
        return status
    out.write(format_results(results, color=_color(out, args.color), width=_width(out)) + "\n")
    return status


def cmd_duplicates(args: argparse.Namespace, out: TextIO) -> int:
    with _open_any(args) as ix:
        found = ix.duplicates(
            args.query,
            size=args.size,
            **_filters(args),
        )
    status = _found(found)
    if args.json:
        _print_json(out, list(found))
        return status
    out.write(format_duplicates(found) + "\n")
    return status


def cmd_timeline(args: argparse.Namespace, out: TextIO) -> int:
    with _open_any(args) as ix:
        found = ix.timeline(
            args.query,
            bucket=DateBucket(args.bucket),
            **_filters(args),
        )
    if args.json:
        _print_json(out, found)
    else:
        out.write(format_timeline(found) + "\n")
    if args.png:
        from searchlib.plot import plot_timeline

        message = neutralise_controls(f"wrote {plot_timeline(found, args.png)}")
        print(message, file=sys.stderr) if args.json else out.write(message + "\n")
    return EXIT_OK if found.total else EXIT_NO_MATCH


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    path = Path(args.root) / "demo"
    color = _color(out, args.color)
    with Index.create(path, overwrite=True) as ix:
        report = ix.ingest(sample_corpus_path())
        out.write(neutralise_controls(f"Built {path} from the sample corpus: {format_report(report)}") + "\n")
        for query in DEMO_QUERIES:
            out.write(f"\n=== searchlib search demo '{query}'\n\n")
            out.write(format_results(ix.search(query, limit=3), color=color) + "\n")
        out.write("\n=== facets of 'strike'\n\n" + format_facets(ix.facets("strike", size=5)) + "\n")
    out.write(f"\nTry it yourself: searchlib repl {path}\n")
    return 0


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from searchlib.web import serve
    except ImportError as exc:
        raise ImportError(f"searchlib serve needs the web extra: pip install 'searchlib[web]' ({exc})") from exc
    from searchlib.web.server import is_loopback

    path = resolve_index_path(args.index)
    if not path.exists():
        raise SearchlibError(f"no index at {path}")
    if not is_loopback(args.host):
        print(f"searchlib: warning: serving {path} to the network on {args.host}", file=sys.stderr)
        if not args.allow_host and args.host in ("0.0.0.0", "::"):
            print(
                "searchlib: only requests naming a loopback host are answered: add --allow-host NAME "
                "for each name clients use to reach this machine",
                file=sys.stderr,
            )
    out.write(f"Serving {path} at http://{args.host}:{args.port}/ (read-only; Ctrl-C stops)\n")
    out.flush()
    if args.scheduler and not is_archive(path):
        _scheduler_ignored(path)
    executor = _dask(args.scheduler) if args.scheduler and is_archive(path) else "serial"
    serve(path, host=args.host, port=args.port, allowed_hosts=args.allow_host or (), executor=executor)
    return 0


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    from searchlib.export import export_lines

    with _open_any(args) as ix:
        lines = export_lines(
            ix,
            args.query,
            fmt=args.format,
            **_filters(args),
            sort=Sort(args.sort),
            collapse_duplicates=args.collapse,
        )
        if args.output and args.output != "-":
            count = 0
            with open(args.output, "w", encoding="utf-8", newline="") as f:
                for line in lines:
                    f.write(line)
                    count += 1
            rows = count - 1 if args.format == "csv" else count
            print(f"wrote {rows} article(s) to {args.output}", file=sys.stderr)
        else:
            for line in lines:
                out.write(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="searchlib", description="Index and search news articles.")
    parser.add_argument("--version", action="version", version=f"searchlib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    index_help = "index directory, or a bare name under indexes/"

    color, as_json = _common_options()
    p = sub.add_parser(
        "index", parents=[color, as_json], help="add articles from files, directories or globs to an index"
    )
    p.add_argument("index", help=index_help)
    p.add_argument(
        "paths", nargs="+", help="article text files, .jsonl files, directories or globs (.gz too); - reads stdin"
    )
    p.add_argument("--strict", action="store_true", help="stop at the first bad record")
    p.add_argument("--overwrite", action="store_true", help="replace the index instead of adding to it")
    p.add_argument("--commit-every", type=int, default=10_000, metavar="N", help="commit every N articles")
    p.add_argument(
        "--max-article-chars",
        type=int,
        default=MAX_ARTICLE_CHARS,
        metavar="N",
        help=f"skip (and report) articles longer than N characters (default {MAX_ARTICLE_CHARS:,}; 0: no limit)",
    )
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait for another writer's lock")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--shard-by", choices=["year", "month", "hash"], help="build a sharded archive (see README: archives)"
    )
    p.add_argument("--shards", type=int, default=4, metavar="N", help="number of shards with --shard-by hash")
    p.add_argument("--extractor", choices=["rules", "spacy", "none"], default="rules", help="entity extractor")
    p.add_argument("--spacy-model", default="en_core_web_sm", help="installed spaCy model for --extractor spacy")
    p.add_argument(
        "--workers", type=int, default=0, metavar="N", help="indexing processes (default: one per core for >20 MB)"
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="build an archive's shards on this Dask scheduler" + ON_LOCAL)
    p.set_defaults(func=cmd_index)

    filters = _Parser(add_help=False)
    filters.add_argument("--from", dest="date_from", metavar="DATE", help="earliest date (YYYY[-MM[-DD]])")
    filters.add_argument("--to", dest="date_to", metavar="DATE", help="latest date (YYYY[-MM[-DD]])")
    filters.add_argument("--entity", action="append", metavar="NAME", help="require an entity (repeatable)")
    filters.add_argument("--source", metavar="NAME", help="only articles from this source (case-insensitive)")
    filters.add_argument("--scheduler", metavar="ADDRESS", help="search an archive on this Dask scheduler" + ON_LOCAL)

    p = sub.add_parser(
        "search", parents=[color, as_json, filters], help="run one query and print ranked, highlighted hits"
    )
    p.add_argument("index", help=index_help)
    p.add_argument("query", help="query string (see README: query syntax)")
    p.add_argument("-n", "--limit", type=int, default=10, help="hits per page (default: 10)")
    p.add_argument("--page", type=int, default=None, help="1-based page of hits to print")
    p.add_argument("--sort", choices=[s.value for s in Sort], default=Sort.SCORE.value, help="order of hits")
    p.add_argument("--facets", action="store_true", help="also print facets over all matches")
    p.add_argument(
        "--bucket", choices=[b.value for b in DateBucket], default=DateBucket.MONTH.value, help="date buckets"
    )
    p.add_argument("--collapse", action="store_true", help="one hit per group of near-duplicates")
    p.add_argument("--recent", type=float, metavar="DAYS", help="favour recent articles: half-life in days")
    p.add_argument("--now", default=dt.date.today().isoformat(), metavar="DATE", help="reference date for --recent")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("repl", parents=[color], help="interactive queries")
    p.add_argument("index", nargs="?", default="demo", help=index_help + " (default: demo)")
    p.add_argument("-n", "--limit", type=int, default=5, help="hits per page (default: 5)")
    p.add_argument(
        "--history",
        metavar="FILE",
        help="history file (default: $SEARCHLIB_HISTORY or ~/.local/state/searchlib/history)",
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="search an archive on this Dask scheduler" + ON_LOCAL)
    p.set_defaults(func=cmd_repl)

    p = sub.add_parser("related", parents=[color, as_json, filters], help="entities that appear most with a query")
    p.add_argument("index", help=index_help)
    p.add_argument("query", help='query string, e.g. entity:Hamas or "wage talks"')
    p.add_argument("-n", "--size", type=int, default=10, help="how many entities (default: 10)")
    p.set_defaults(func=cmd_related)

    p = sub.add_parser(
        "retag", parents=[color, as_json], help="re-extract entities from the stored text with another extractor"
    )
    p.add_argument("index", help=index_help)
    p.add_argument("--extractor", choices=["rules", "spacy", "none"], default="rules", help="entity extractor")
    p.add_argument("--spacy-model", default="en_core_web_sm", help="installed spaCy model for --extractor spacy")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait for another writer's lock")
    p.set_defaults(func=cmd_retag)

    p = sub.add_parser("similar", parents=[color, as_json], help="articles most like a given one (more like this)")
    p.add_argument("index", help=index_help)
    p.add_argument("id", help="the article's id (shown with every hit)")
    p.add_argument("-n", "--limit", type=int, default=10, help="how many articles (default: 10)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="search an archive on this Dask scheduler" + ON_LOCAL)
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("duplicates", parents=[color, as_json, filters], help="groups of near-duplicate articles")
    p.add_argument("index", help=index_help)
    p.add_argument("query", nargs="?", default="", help="only groups with an article matching this query")
    p.add_argument("-n", "--size", type=int, default=20, help="how many groups (default: 20)")
    p.set_defaults(func=cmd_duplicates)

    p = sub.add_parser("timeline", parents=[color, as_json, filters], help="matches per day, month or year")
    p.add_argument("index", help=index_help)
    p.add_argument("query", help="query string")
    p.add_argument(
        "--bucket", choices=[b.value for b in DateBucket], default=DateBucket.MONTH.value, help="date buckets"
    )
    p.add_argument("--png", metavar="FILE", help="also draw a bar chart (needs searchlib[plot])")
    p.set_defaults(func=cmd_timeline)

    cli_admin.add_commands(sub, color, as_json, index_help)

    p = sub.add_parser(
        "serve", parents=[color], help="browse and search an index in a web browser (needs searchlib[web])"
    )
    p.add_argument("index", help=index_help)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    p.add_argument(
        "--allow-host",
        action="append",
        metavar="NAME",
        help="also accept this Host header (repeatable; e.g. a reverse proxy's name)",
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="search an archive on this Dask scheduler" + ON_LOCAL)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("export", parents=[color, filters], help="every match of a query as CSV or JSON Lines")
    p.add_argument("index", help=index_help)
    p.add_argument("query", nargs="?", default="", help="query string (default: every article)")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="output format (default: jsonl)")
    p.add_argument("--sort", choices=[s.value for s in Sort], default=Sort.SCORE.value, help="order of rows")
    p.add_argument("--collapse", action="store_true", help="one row per group of near-duplicates")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", parents=[color], help="index the bundled sample corpus and run example queries")
    p.add_argument("--root", default=str(DEFAULT_ROOT), help="where to put the demo index (default: indexes/)")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Entry point; returns the exit status (the EXIT_* table above)."""
    args = build_parser().parse_args(_bare_color(sys.argv[1:] if argv is None else list(argv)))
    stream = out if out is not None else sys.stdout
    try:
        status = int(args.func(args, stream))
        stream.flush()
        return status
    except BrokenPipeError:
        # The reader went away (searchlib demo | head -1): stop quietly, as a SIGPIPE'd tool
        # would. Point stdout at /dev/null so that Python's flush at exit cannot complain.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    except QuerySyntaxError as exc:
        _error(f"query error: {exc.reason} at position {exc.position}\n{exc.pointer()}")
        return EXIT_ERROR
    except (SearchlibError, ValueError, ImportError, OSError) as exc:
        _error(f"error: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
