"""Every match of a query as CSV or JSON Lines, streamed a batch at a time; JSON values of the attrs types.

Used by ``searchlib export`` and by the web server's export links and JSON API. Exports page
through the results in batches of ``EXPORT_BATCH`` (without snippets), so memory stays flat
however many articles match; each batch is one search, so a commit landing during a long
export can shift later batches (export from an index nobody writes to for an exact snapshot).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import enum
import io
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal

import attrs

from searchlib.archive import Searchable
from searchlib.models import Article, Sort

__all__ = ["CSV_COLUMNS", "EXPORT_BATCH", "ExportFormat", "article_json", "export_lines", "to_jsonable"]

EXPORT_BATCH = 500
"""Articles fetched per search while exporting."""

CSV_COLUMNS = ("rank", "score", "id", "date", "title", "source", "url", "entities", "body")
"""Columns of a CSV export; ``entities`` is ``name (kind)`` joined with ``; ``."""

ExportFormat = Literal["csv", "jsonl"]


def _value(_inst: object, _field: object, value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def to_jsonable(value: Any) -> Any:
    """Plain JSON data (dicts, lists, strings, numbers) for an attrs value or a sequence of them.

    Field names are the attrs fields'; dates become ISO strings, enums their values.
    """
    if attrs.has(type(value)):
        return attrs.asdict(value, value_serializer=_value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return _value(None, None, value)


def article_json(article: Article) -> dict[str, Any]:
    """An article as JSON data; ``entities`` is always a list."""
    data: dict[str, Any] = to_jsonable(article)
    data["entities"] = data["entities"] or []
    return data


def export_lines(
    ix: Searchable,
    query: str = "",
    *,
    fmt: ExportFormat = "jsonl",
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    entities: Sequence[str] = (),
    source: str | None = None,
    sort: Sort = Sort.SCORE,
    collapse_duplicates: bool = False,
    lenient: bool = False,
    batch: int = EXPORT_BATCH,
    guard: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> Iterator[str]:
    """Yield every match of ``query`` as text lines (each ending in ``\\n``): a CSV header then rows, or JSON Lines.

    The query is parsed before the first line is yielded, so a bad query raises at once.
    JSON Lines rows are the article's fields plus ``rank`` and ``score``. ``guard()`` is entered
    around each batch's search (the web server passes its index lock).
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"export format must be 'csv' or 'jsonl', not {fmt!r}")
    if batch < 1:
        raise ValueError("batch must be at least 1")

    def page(offset: int) -> tuple[int, list[tuple[int, float, Article]]]:
        with guard():
            results = ix.search(
                query,
                date_from=date_from,
                date_to=date_to,
                entities=entities,
                source=source,
                sort=sort,
                offset=offset,
                limit=batch,
                highlight=None,
                collapse_duplicates=collapse_duplicates,
                lenient=lenient,
            )
        return results.total, [(h.rank, h.score, h.article) for h in results]

    first_total, first = page(0)  # raises on a bad query before anything streams
    return _stream(first_total, first, page, fmt, batch)


def _stream(
    total: int,
    rows: list[tuple[int, float, Article]],
    page: Callable[[int], tuple[int, list[tuple[int, float, Article]]]],
    fmt: ExportFormat,
    batch: int,
) -> Iterator[str]:
    if fmt == "csv":
        yield _csv_line(CSV_COLUMNS)
    offset = 0
    while rows:
        for rank, score, article in rows:
            if fmt == "csv":
                entities = "; ".join(f"{e.name} ({e.kind.value})" for e in article.entities or ())
                yield _csv_line(
                    (
                        str(rank),
                        f"{score:.4f}",
                        article.id,
                        article.date.isoformat(),
                        article.title,
                        article.source or "",
                        article.url or "",
                        entities,
                        article.body,
                    )
                )
            else:
                row = {"rank": rank, "score": round(score, 4), **article_json(article)}
                yield json.dumps(row, ensure_ascii=False) + "\n"
        offset += batch
        if offset >= total:
            break
        total, rows = page(offset)


def _csv_line(values: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()
