"""Reading articles from files: the article text format, JSON Lines, directories, globs, ``.gz``.

Readers stream (constant memory per file) and never raise for a bad record: they yield an
:class:`IngestProblem` naming the file and line, and carry on with the next record.
"""

from __future__ import annotations

import codecs
import datetime as dt
import glob
import gzip
import io
import json
import os
import re
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import attrs

from searchlib._typecheck import typed
from searchlib.errors import IngestError
from searchlib.models import Article, Entity

__all__ = [
    "IngestProblem",
    "IngestProgress",
    "IngestReport",
    "iter_files",
    "parse_jsonl",
    "parse_text",
    "read_articles",
]

TEXT_SUFFIXES = frozenset({".txt", ".text", ".article", ".articles"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
_HEADER = re.compile(r"^\s*date[ \t]+(\S+)[ \t]*(.*)$", re.DOTALL)
_HEADER_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
MAX_ARTICLE_CHARS = 1_000_000
"""Default size limit of one article's body (about 200 times a long news article): longer
articles are skipped and reported, so one huge record cannot take the memory and query time
of the whole index. ``ingest(..., max_article_chars=None)`` lifts it."""
SNIFF_BYTES = 8192
"""Bytes read from the start of a file to recognise a byte-order mark or a binary file."""
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@attrs.frozen
class IngestProblem:
    """A record that was skipped: where it is and why."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"


@attrs.frozen
class IngestProgress:
    """Passed to a progress callback as files are read."""

    files_done: int
    files_total: int
    articles: int
    bytes_done: int
    bytes_total: int
    path: str


@attrs.frozen
class IngestReport:
    """What an ingest did. ``problems`` lists the first ``MAX_PROBLEMS``; ``skipped`` counts all."""

    files: int
    read: int
    added: int
    updated: int
    unchanged: int
    skipped: int
    problems: tuple[IngestProblem, ...]
    seconds: float
    merge_failures: tuple[str, ...] = ()
    """Background merges that failed and were dropped (nothing is lost: the segments stay unmerged)."""

    MAX_PROBLEMS = 1000

    @property
    def indexed(self) -> int:
        """Articles written (added or updated)."""
        return self.added + self.updated

    def summary(self) -> str:
        """One line in plain words."""
        return (
            f"{self.files} file(s), {self.read} article(s) read: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped in {self.seconds:.1f} s"
            + (
                f"; {len(self.merge_failures)} background merge(s) failed (segments left unmerged)"
                if self.merge_failures
                else ""
            )
        )


Record = Article | IngestProblem


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _format_of(path: Path) -> str:
    name = path.name[:-3] if path.suffix == ".gz" else path.name
    return "jsonl" if Path(name).suffix.lower() in JSONL_SUFFIXES else "text"


def _decode(raw: bytes, path: str, lineno: int) -> str | IngestProblem:
    try:
        text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        lone = raw[exc.start : exc.start + 1] == b"\xed" and raw[exc.start + 1 : exc.start + 2] >= b"\xa0"
        what = "a lone surrogate code point" if lone else "invalid UTF-8"
        return IngestProblem(path, lineno, f"{what} at byte {exc.start} of the line")
    if "\x00" in text:
        return IngestProblem(path, lineno, f"NUL character at column {text.index(chr(0)) + 1}")
    return text


def _lines(stream: Iterable[bytes], path: str) -> Iterator[tuple[int, bytes] | IngestProblem]:
    """Numbered raw lines; a truncated or corrupt gzip ends the file with a problem."""
    lineno = 0
    try:
        for lineno, raw in enumerate(stream, start=1):
            yield lineno, raw
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        yield IngestProblem(path, lineno + 1, f"file is truncated or corrupt ({exc.__class__.__name__}: {exc})")
    except UnicodeDecodeError as exc:
        reason = f"invalid {exc.encoding.upper()} ({exc.reason}); the rest of the file was skipped"
        yield IngestProblem(path, lineno + 1, reason)


class _Recoded:
    """The lines of a UTF-16 or UTF-32 stream (with a BOM), re-encoded as UTF-8 for the parsers."""

    def __init__(self, stream: IO[bytes], encoding: str) -> None:
        # Lone surrogates pass through to the parsers, which report their lines (as for UTF-8).
        self._text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogatepass", newline="")

    def __iter__(self) -> Iterator[bytes]:
        for line in self._text:
            yield line.encode("utf-8", "surrogatepass")


def sniff(stream: IO[bytes], path: str) -> Iterable[bytes] | IngestProblem:
    """The stream's lines as UTF-8 bytes, or a problem when the file is binary.

    A UTF-16 or UTF-32 file with a byte-order mark is decoded; without one, and for any file
    whose first ``SNIFF_BYTES`` are more than 10% NUL bytes or invalid UTF-8, the whole file
    is reported as binary (line 1) rather than as a heap of bad lines (or none).
    """
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return _Recoded(stream, encoding)
    if not head:
        return stream
    undecodable = head.decode("utf-8", "replace").count("\ufffd")
    nuls = head.count(0)
    if max(undecodable, nuls) * 10 > len(head):
        what = "UTF-16 or UTF-32 without a byte-order mark?" if nuls * 10 > len(head) else "not UTF-8 text"
        return IngestProblem(path, 1, f"binary file ({what}): skipped; articles must be UTF-8 text or JSON Lines")
    return stream


def _normalise_body(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines).strip()
    return _BLANKS.sub("\n\n", text)


def _too_long(path: str, line: int, limit: int) -> IngestProblem:
    return IngestProblem(path, line, f"article is longer than {limit:,} characters (max_article_chars): skipped")


def parse_text(stream: Iterable[bytes], path: str, *, max_chars: int | None = None) -> Iterator[Record]:
    """Articles in the text format: each starts on a line ``date YYYY-MM-DD <lead sentence>``.

    An article over ``max_chars`` characters is skipped and reported; its lines are not kept.
    """
    header_line = size = 0
    date: dt.date | None = None
    body: list[str] = []
    bad: IngestProblem | None = None
    preamble: int | None = None

    def finish() -> Iterator[Record]:
        if not header_line:
            return
        if bad is not None:
            yield bad
        elif date is None:  # pragma: no cover - a header always sets date or bad
            return
        else:
            text = _normalise_body(body)
            if not text:
                yield IngestProblem(path, header_line, "article has an empty body")
            else:
                yield Article(date=date, body=text)

    cut: IngestProblem | None = None  # the file ended early
    for item in _lines(stream, path):
        if isinstance(item, IngestProblem):
            if header_line and bad is None:
                bad = item
            else:
                cut = item
            break
        lineno, raw = item
        decoded = _decode(raw, path, lineno)
        line = decoded if isinstance(decoded, str) else raw.decode("utf-8", "replace")
        match = _HEADER.match(line)
        if match and _HEADER_DATE.fullmatch(match.group(1)):
            yield from finish()
            header_line, body, bad, size = lineno, [match.group(2)], None, len(match.group(2))
            try:
                date = dt.date.fromisoformat(_pad_date(match.group(1)))
            except ValueError:
                date = None
                bad = IngestProblem(path, lineno, f"impossible date {match.group(1)!r}")
            if isinstance(decoded, IngestProblem):
                bad = bad or decoded
            continue
        if isinstance(decoded, IngestProblem):
            bad = bad or decoded
            continue
        if not header_line:
            if line.strip() and preamble is None:
                preamble = lineno
            continue
        if bad is not None:
            continue
        size += len(line)
        if max_chars is not None and size > max_chars:
            bad, body = _too_long(path, header_line, max_chars), []
            continue
        body.append(line.rstrip("\r\n"))
    yield from finish()
    if cut is not None:
        yield cut
    if preamble is not None:
        yield IngestProblem(path, preamble, "text before the first 'date YYYY-MM-DD' line was skipped")


def _pad_date(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _no_nul(value: str, key: str) -> str:
    if "\x00" in value:
        raise ValueError(f"NUL character (\\u0000) in {key!r} at character {value.index(chr(0)) + 1}")
    return value


def _str_field(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "id":
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string, not {type(value).__name__}")
    return _no_nul(value, key)


def _entities_field(value: Any) -> list[Entity] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError(f"'entities' must be a list, not {type(value).__name__}")
    out = []
    for item in value:
        if isinstance(item, str) and item.strip():
            out.append(Entity(_no_nul(item, "entities")))
        elif isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip():
            out.append(Entity(_no_nul(item["name"], "entities"), item.get("kind") or "other"))
        else:
            raise ValueError(f"'entities' items must be names or {{name, kind}} objects, not {item!r}")
    return out


def article_from_json(obj: Any, *, max_chars: int | None = None) -> Article:
    """An Article from a JSON object; ``ValueError`` says what is wrong with it."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    raw_date = obj.get("date")
    if not isinstance(raw_date, str) or not raw_date.strip():
        raise ValueError("missing 'date' (a string YYYY-MM-DD)")
    try:
        date = dt.date.fromisoformat(raw_date.strip()[:10])
    except ValueError:
        raise ValueError(f"impossible date {raw_date!r}") from None
    body = _str_field(obj, "body") or _str_field(obj, "text")
    if body is None or not body.strip():
        raise ValueError("missing or empty 'body' (or 'text')")
    if max_chars is not None and len(body) > max_chars:
        raise ValueError(f"article is longer than {max_chars:,} characters (max_article_chars): skipped")
    fields: dict[str, Any] = {
        "date": date,
        "body": _normalise_body(body.split("\n")),
        "entities": _entities_field(obj.get("entities")),
        "source": _str_field(obj, "source"),
        "url": _str_field(obj, "url"),
    }
    for key in ("id", "title"):
        value = _str_field(obj, key)
        if value is not None and value.strip():
            fields[key] = value.strip()
    try:
        return Article(**fields)
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None


def parse_jsonl(stream: Iterable[bytes], path: str, *, max_chars: int | None = None) -> Iterator[Record]:
    """Articles from JSON Lines: one object per line with ``date`` and ``body``/``text``.

    A line too long to hold an article of ``max_chars`` characters is skipped unparsed.
    """
    for item in _lines(stream, path):
        if isinstance(item, IngestProblem):
            yield item
            return
        lineno, raw = item
        if max_chars is not None and len(raw) > 6 * max_chars + 65_536:  # \uXXXX escapes: 6 bytes a character
            yield _too_long(path, lineno, max_chars)
            continue
        decoded = _decode(raw, path, lineno)
        if isinstance(decoded, IngestProblem):
            yield decoded
            continue
        if not decoded.strip():
            continue
        try:
            obj = json.loads(decoded)
        except json.JSONDecodeError as exc:
            yield IngestProblem(path, lineno, f"invalid JSON at column {exc.colno}: {exc.msg}")
            continue
        except RecursionError:
            yield IngestProblem(path, lineno, "JSON nested too deeply")
            continue
        try:
            yield article_from_json(obj, max_chars=max_chars)
        except ValueError as exc:
            yield IngestProblem(path, lineno, str(exc))


_GLOB_CHARS = re.compile(r"[*?\[]")


def _is_input(path: Path) -> bool:
    """Files a directory walk picks up (``.json`` only when named explicitly: it is often not JSONL)."""
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    suffix = Path(name).suffix.lower()
    return suffix in TEXT_SUFFIXES or (suffix in JSONL_SUFFIXES and suffix != ".json")


STDIN_NAME = "-"
STDIN = Path(STDIN_NAME)
"""The path ``-`` stands for standard input: JSON Lines when it starts with ``{``, else the text format."""


STDIN_SPOOL_BYTES = 64 * 1024 * 1024
"""Standard input is copied to a temporary file (in memory up to this size) so it can be sniffed and reread."""


def _open_stdin() -> tuple[str, IO[bytes]]:
    """(format, a seekable copy of standard input): JSON Lines when it starts with ``{`` (after a BOM or blanks)."""
    copy: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=STDIN_SPOOL_BYTES)  # noqa: SIM115 - the caller closes it
    shutil.copyfileobj(sys.stdin.buffer, copy)
    copy.seek(0)
    head = copy.read(SNIFF_BYTES).lstrip(b"\xef\xbb\xbf \t\r\n")
    copy.seek(0)
    return ("jsonl" if head.startswith(b"{") else "text"), copy


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path | IngestProblem]:
    """Files named by ``paths``: files as given, directories recursively, globs expanded.

    Directories yield only files with a known suffix (``.txt``, ``.jsonl``, ``.ndjson``, each
    optionally ``.gz``); symbolic links to directories are not followed.
    """
    seen: set[str] = set()
    for given in paths:
        text = os.fspath(given)
        if text == STDIN_NAME:
            if text not in seen:
                seen.add(text)
                yield STDIN
            continue
        if _GLOB_CHARS.search(text) and not Path(text).exists():
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                yield IngestProblem(text, None, "no files match this pattern")
            candidates: Iterable[Path] = (Path(m) for m in matches)
        else:
            candidates = (Path(text),)
        for path in candidates:
            if path.is_dir():
                yield from _walk(path, seen)
            elif path.is_file():
                key = os.path.realpath(path)
                if key not in seen:
                    seen.add(key)
                    yield path
            else:
                yield IngestProblem(str(path), None, "no such file or directory")


def _walk(root: Path, seen: set[str]) -> Iterator[Path | IngestProblem]:
    def on_error(exc: OSError) -> None:
        errors.append(IngestProblem(str(exc.filename or root), None, f"cannot read directory: {exc.strerror}"))

    errors: list[IngestProblem] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if _is_input(path) and path.is_file():
                key = os.path.realpath(path)
                if key not in seen:
                    seen.add(key)
                    yield path
        yield from errors
        errors.clear()


def check_max_chars(value: object) -> None:
    """``TypeError``/``ValueError`` unless ``value`` is a positive int or None."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"max_article_chars must be an int or None, not {type(value).__name__}")
    if isinstance(value, int) and value < 1:
        raise ValueError("max_article_chars must be at least 1")


def keep_problem(record: IngestProblem, problems: list[IngestProblem], *, strict: bool) -> None:
    """A skipped record: raise it as an :class:`IngestError` under ``strict``, else keep it in
    ``problems`` (up to ``IngestReport.MAX_PROBLEMS``, so a huge bad input stays small)."""
    if strict:
        raise IngestError(record.reason, path=record.path, line=record.line)
    if len(problems) < IngestReport.MAX_PROBLEMS:
        problems.append(record)


@typed
def read_articles(
    paths: Iterable[str | os.PathLike[str]],
    *,
    progress: Callable[[IngestProgress], None] | None = None,
    max_article_chars: int | None = MAX_ARTICLE_CHARS,
) -> Iterator[Record]:
    """Every article (or problem) in ``paths``, in file order.

    UTF-8 is read as is, UTF-16 and UTF-32 with a byte-order mark are decoded, binary files
    are reported whole; articles over ``max_article_chars`` characters are skipped and reported.
    """
    check_max_chars(max_article_chars)
    found = list(iter_files(paths))
    files = [f for f in found if isinstance(f, Path)]
    yield from (p for p in found if isinstance(p, IngestProblem))
    sizes = []
    for f in files:
        try:
            sizes.append(0 if f is STDIN else f.stat().st_size)
        except OSError:
            sizes.append(0)
    total_bytes, done_bytes, articles = sum(sizes), 0, 0
    for number, (path, size) in enumerate(zip(files, sizes, strict=True), start=1):
        name = "<stdin>" if path is STDIN else str(path)
        try:
            if path is STDIN:
                fmt, opened = _open_stdin()
            else:
                fmt, opened = _format_of(path), _open_binary(path)
            parser = parse_jsonl if fmt == "jsonl" else parse_text
            with opened as stream:
                lines = sniff(stream, name)
                if isinstance(lines, IngestProblem):
                    yield lines
                    lines = ()
                for record in parser(lines, name, max_chars=max_article_chars):
                    if isinstance(record, Article):
                        articles += 1
                        if progress is not None and articles % 500 == 0:
                            progress(IngestProgress(number - 1, len(files), articles, done_bytes, total_bytes, name))
                    yield record
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            yield IngestProblem(name, 1, f"file is truncated or corrupt ({exc.__class__.__name__}: {exc})")
        except OSError as exc:
            yield IngestProblem(name, None, f"cannot read file: {exc.strerror or exc}")
        done_bytes += size
        if progress is not None:
            progress(IngestProgress(number, len(files), articles, done_bytes, total_bytes, name))
