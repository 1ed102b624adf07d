"""What every ``searchlib`` command shares: exit statuses, paths, colour, JSON output, filters, errors.

Split from :mod:`searchlib.cli` (which builds the parser and runs the reading commands) and
:mod:`searchlib.cli_admin` (maintenance commands); library code never imports it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence, Sized
from pathlib import Path
from typing import NoReturn, TextIO, TypedDict

from searchlib.archive import Archive, Searchable, is_archive, open_any
from searchlib.archive.executor import DaskExecutor
from searchlib.export import to_jsonable
from searchlib.index import DEFAULT_ROOT
from searchlib.query import parse_date_bound
from searchlib.render import neutralise_controls

__all__ = [
    "COLOR_CHOICES",
    "EXIT_CHECK_PROBLEMS",
    "EXIT_CLOSED_PIPE",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NOTHING_INDEXED",
    "EXIT_NO_MATCH",
    "EXIT_OK",
    "EXIT_USAGE",
    "resolve_index_path",
]

EXIT_OK = 0
EXIT_NO_MATCH = 1
EXIT_ERROR = 2
EXIT_USAGE = 2
EXIT_CHECK_PROBLEMS = 3
EXIT_NOTHING_INDEXED = 4
EXIT_INTERRUPTED = 130
EXIT_CLOSED_PIPE = 141
"""The exit statuses, one table for every command (README: CLI, exit statuses): search is
grep-like (0 matches, 1 no match, 2 error); usage errors are 2 as in grep."""

AUTO_PARALLEL_BYTES = 20 * 1024 * 1024
"""Inputs (or indexes to upgrade) larger than this get one worker per core (up to 4) by default."""


def resolve_index_path(name: str, root: Path = DEFAULT_ROOT) -> Path:
    """A bare name (``news``) lives under ``indexes/``; anything path-like is used as given."""
    if os.sep in name or "/" in name or name.startswith(".") or Path(name).is_absolute():
        return Path(name)
    return root / name


def _color(stream: TextIO, flag: bool | str | None) -> bool:
    """``--color always|never|auto`` (``--color`` alone: always; ``--no-color``: never).

    auto colours a terminal unless NO_COLOR is set.
    """
    if flag in (True, "always"):
        return True
    if flag in (False, "never"):
        return False
    return stream.isatty() and "NO_COLOR" not in os.environ


def _width(stream: TextIO) -> int | None:
    """The terminal's width when writing to one (output is wrapped to it), else ``None``."""
    return shutil.get_terminal_size().columns if stream.isatty() else None


def _print_json(out: TextIO, value: object) -> None:
    """One JSON document per line: a list prints as JSON Lines, one item per line."""
    data = to_jsonable(value)
    for item in data if isinstance(data, list) else [data]:
        out.write(json.dumps(item, ensure_ascii=False) + "\n")


class _Filters(TypedDict):
    date_from: str | None
    date_to: str | None
    entities: Sequence[str]
    source: str | None


def _filters(args: argparse.Namespace) -> _Filters:
    """The typed filter keywords shared by search, related, duplicates and timeline.

    Dates are checked here so that a bad one is reported by its option's name (``--from``).
    """
    for option, value in (("--from", args.date_from), ("--to", args.date_to)):
        if value is not None:
            try:
                parse_date_bound(value)
            except ValueError as exc:
                raise ValueError(f"{option}: {exc}") from None
    return {"date_from": args.date_from, "date_to": args.date_to, "entities": args.entity or (), "source": args.source}


def _open_any(args: argparse.Namespace) -> Searchable:
    """The index or archive named on the command line (archives on Dask with ``--scheduler``)."""
    path = resolve_index_path(args.index)
    scheduler = getattr(args, "scheduler", None)
    if scheduler is None or not is_archive(path):
        if scheduler is not None:
            _scheduler_ignored(path)
        return open_any(path)
    return Archive.open(path, executor=_dask(scheduler))


def _scheduler_ignored(path: Path) -> None:
    """``--scheduler`` given for a plain index: say so rather than silently search it here."""
    if path.exists():
        _error(f"warning: {path} is an index, not an archive: --scheduler is ignored (it runs an archive's shards)")


LOCAL_SCHEDULER = "local"
"""``--scheduler local``: a Dask cluster of this machine's cores, started for the one command."""
ON_LOCAL = " (local: one on this machine's cores, for this command)"
"""The end of every ``--scheduler`` option's help."""


def _dask(scheduler: str) -> DaskExecutor:
    """Shard tasks on the Dask scheduler at ``scheduler`` (``--scheduler``); the client closes with the archive.

    ``local`` starts a ``LocalCluster`` (one single-threaded worker process per core), which
    closes with the client: the same tasks as on a multi-machine cluster, no scheduler to run.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ImportError("--scheduler needs Dask: pip install 'searchlib[dask]'") from None
    if scheduler == LOCAL_SCHEDULER:
        client = Client(  # type: ignore[no-untyped-call]
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    else:
        client = Client(scheduler)  # type: ignore[no-untyped-call]
    return DaskExecutor(client, owns_client=True)


def _found(rows: Sized) -> int:
    """``grep``'s convention for the query commands: 0 when they found something, 1 when not."""
    return EXIT_OK if len(rows) else EXIT_NO_MATCH


class _Parser(argparse.ArgumentParser):
    """argparse with control characters of the arguments neutralised in its error messages."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {neutralise_controls(message)}\n")


COLOR_CHOICES = ("auto", "always", "never")


def _bare_color(argv: list[str]) -> list[str]:
    """``--color`` not followed by a choice means ``--color=always`` (so ``--color INDEX QUERY`` still works)."""
    out: list[str] = []
    for i, token in enumerate(argv):
        if token == "--":
            return out + argv[i:]
        following = argv[i + 1] if i + 1 < len(argv) else None
        out.append("--color=always" if token == "--color" and following not in COLOR_CHOICES else token)
    return out


def _common_options() -> tuple[_Parser, _Parser]:
    """Parent parsers: ``--color``/``--no-color`` (every command) and ``--json`` (every command that prints data)."""
    color = _Parser(add_help=False)
    color.add_argument(
        "--color",
        default="auto",
        choices=COLOR_CHOICES,
        help="ANSI colour: auto (a terminal without NO_COLOR; the default), always (also --color alone) or never",
    )
    color.add_argument("--no-color", dest="color", action="store_const", const="never", help="same as --color never")
    as_json = _Parser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON (JSON Lines where the output is a list)")
    return color, as_json


def _error(message: str) -> None:
    """One message to stderr, with any control characters from paths or queries neutralised."""
    print(f"searchlib: {neutralise_controls(message)}", file=sys.stderr)
