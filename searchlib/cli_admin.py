"""Maintenance commands of ``searchlib``: stats, get, delete, entities (the alias table), check, upgrade.

Each ``cmd_*`` takes the parsed arguments and the output stream and returns an exit status;
:func:`add_commands` registers them on the main parser (:mod:`searchlib.cli`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from searchlib.archive import Archive, is_archive, open_any
from searchlib.check import check_index
from searchlib.cli_base import (
    EXIT_CHECK_PROBLEMS,
    EXIT_NO_MATCH,
    EXIT_OK,
    ON_LOCAL,
    _error,
    _open_any,
    _print_json,
    resolve_index_path,
)
from searchlib.display import format_article, format_stats
from searchlib.export import article_json, to_jsonable
from searchlib.index import Index
from searchlib.render import neutralise_controls

__all__ = ["add_commands"]


def cmd_stats(args: argparse.Namespace, out: TextIO) -> int:
    with _open_any(args) as ix:
        stats = ix.stats()
    if args.json:
        _print_json(out, stats)
        return 0
    out.write(format_stats(stats) + "\n")
    return 0


def cmd_entities(args: argparse.Namespace, out: TextIO) -> int:
    """``entities list|merge|rename|block|unblock``: show or curate the index's (or archive's) alias table."""
    path = resolve_index_path(args.index)
    with Archive.open(path, executor="serial") if is_archive(path) else Index.open(path) as ix:
        if args.action == "merge":
            ix.merge_entities(args.name, args.target, timeout=args.wait)
            out.write(f"merged {args.name!r} into {args.target!r}\n")
        elif args.action == "rename":
            ix.rename_entity(args.name, args.target, timeout=args.wait)
            out.write(f"renamed {args.name!r} to {args.target!r}\n")
        elif args.action in ("block", "unblock"):
            (ix.block_entity if args.action == "block" else ix.unblock_entity)(args.name, timeout=args.wait)
            out.write(f"{args.action}ed {args.name!r}\n")
        else:
            rows = ix.aliases.rows()
            for kind, name, target in rows:
                out.write(f"{kind:8} {name}" + (f" -> {target}" if target else "") + "\n")
            if not rows:
                out.write("the alias table is empty\n")
    return 0


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    report = check_index(resolve_index_path(args.index), repair=args.repair)
    if args.json:
        _print_json(out, {**to_jsonable(report), "ok": report.ok})
    else:
        out.write(neutralise_controls(report.summary()) + "\n")
    return EXIT_OK if report.ok or report.repairs else EXIT_CHECK_PROBLEMS


def cmd_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    path = resolve_index_path(args.index)
    # no --workers: chosen per index by its size (one per core, up to 4, over 20 MB)
    report = Index.upgrade(path, workers=args.workers or None)
    if args.json:
        indexes = [{"index": name, "from_format": old, "articles": count} for name, old, count in report.indexes]
        summary = {
            "path": str(report.path),
            "format": report.format,
            "upgraded": report.upgraded,
            "sidecars": report.sidecars,
        }
        _print_json(out, {**summary, "articles": report.articles, "indexes": indexes})
    else:
        out.write(neutralise_controls(report.summary()) + "\n")
    return EXIT_OK


def cmd_get(args: argparse.Namespace, out: TextIO) -> int:
    with _open_any(args) as ix:
        article = ix.get(args.id)
    if article is None:
        _error(f"no article with id {args.id!r}")
        return EXIT_NO_MATCH
    if args.json:
        out.write(json.dumps(article_json(article), ensure_ascii=False) + "\n")
    else:
        out.write(format_article(article) + "\n")
    return 0


def cmd_delete(args: argparse.Namespace, out: TextIO) -> int:
    with open_any(resolve_index_path(args.index)) as ix:
        deleted = ix.delete(*args.ids)
    if args.json:
        out.write(json.dumps({"deleted": deleted, "requested": len(set(args.ids))}) + "\n")
    else:
        out.write(f"deleted {deleted} of {len(set(args.ids))} article(s)\n")
    return 0


def add_commands(sub: Any, color: argparse.ArgumentParser, as_json: argparse.ArgumentParser, index_help: str) -> None:
    """Register entities, stats, check, upgrade, get and delete on the main parser's subcommands."""
    p = sub.add_parser("entities", help="list or curate the alias table: merge, rename, block entities")
    actions = p.add_subparsers(dest="action", required=True)
    for action, helptext, target in (
        ("list", "learned and curated aliases", None),
        ("merge", "make NAME another name of TARGET's entity", "TARGET"),
        ("rename", "show NAME's entity as NEW_NAME", "NEW_NAME"),
        ("block", "hide a false entity from facets and hits", None),
        ("unblock", "undo block", None),
    ):
        a = actions.add_parser(action, help=helptext)
        a.add_argument("index", help=index_help)
        if action != "list":
            a.add_argument("name", help="entity name as shown or as extracted")
        if target:
            a.add_argument("target", metavar=target)
        a.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait for another writer's lock")
        a.set_defaults(func=cmd_entities)

    p = sub.add_parser("stats", parents=[color, as_json], help="facts about an index")
    p.add_argument("index", help=index_help)
    p.add_argument("--scheduler", metavar="ADDRESS", help="read an archive on this Dask scheduler" + ON_LOCAL)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "check", parents=[color, as_json], help="verify an index: segments, counts, duplicate ids, orphan files, locks"
    )
    p.add_argument("index", help=index_help)
    p.add_argument("--repair", action="store_true", help="remove orphans and duplicate copies, rewrite older sidecars")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "upgrade",
        parents=[color, as_json],
        help="rebuild an index (or each shard of an archive) of an older format in the current one",
        description="Rebuild an index built by an older searchlib in the current index format, from its "
        "stored articles: their entities and near-duplicate groups are kept, nothing is re-extracted. "
        "The new index is built next to the old one (there must be disk space for a second copy) and "
        "swapped in atomically; the old one stays readable until then. An index already in the current "
        "format only gets the columnar sidecars older code wrote rewritten (faster first queries). An "
        "archive's shards are upgraded one by one.",
    )
    p.add_argument("index", help=index_help + " (or an archive)")
    p.add_argument(
        "--workers", type=int, default=0, metavar="N", help="rebuilding processes (default: one per core for >20 MB)"
    )
    p.set_defaults(func=cmd_upgrade)

    p = sub.add_parser("get", parents=[color, as_json], help="print one article by its id")
    p.add_argument("index", help=index_help)
    p.add_argument("id", help="the article's id (shown with every hit)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="read an archive on this Dask scheduler" + ON_LOCAL)
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("delete", parents=[color, as_json], help="delete articles by id, in one commit")
    p.add_argument("index", help=index_help)
    p.add_argument("ids", nargs="+", metavar="ID", help="ids of the articles to delete")
    p.set_defaults(func=cmd_delete)
