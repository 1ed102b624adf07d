"""Articles dated 0001-01-01 and 9999-12-31: filters, query syntax, facets and timelines all work."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest

import searchlib
from searchlib import Article, DateBucket, Index
from searchlib.repl import run_repl


@pytest.fixture(scope="module")
def ix() -> Iterator[Index]:
    with Index.in_memory() as index:
        index.add(
            Article(id="last", date="9999-12-31", body="common end of time"),
            Article(id="first", date="0001-01-01", body="common start of time"),
            Article(id="mid", date="2025-06-15", body="common middle"),
        )
        yield index


def _ids(results: searchlib.Results) -> set[str]:
    return {hit.article.id for hit in results}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"date_from": "9999-12"}, {"last"}),
        ({"date_from": "9999"}, {"last"}),
        ({"date_from": "9999-12-31"}, {"last"}),
        ({"date_to": "9999-12"}, {"first", "mid", "last"}),
        ({"date_to": "0001-01"}, {"first"}),
        ({"date_to": "0001"}, {"first"}),
        ({"date_from": dt.date.max, "date_to": dt.date.max}, {"last"}),
        ({"date_from": dt.date.min, "date_to": dt.date.min}, {"first"}),
    ],
)
def test_date_filters_at_the_ends(ix: Index, kwargs: dict[str, object], expected: set[str]) -> None:
    assert _ids(ix.search("common", **kwargs)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("common date:9999-12", {"last"}),
        ("common date:9999", {"last"}),
        ("date:9999-12-31", {"last"}),
        ("common date:[9999-12 TO *]", {"last"}),
        ("common date:[2025 TO 9999-12]", {"mid", "last"}),
        ("common date:[* TO 0001-01]", {"first"}),
        ("date:0001-01", {"first"}),
    ],
)
def test_date_syntax_at_the_ends(ix: Index, query: str, expected: set[str]) -> None:
    assert _ids(ix.search(query)) == expected


def test_parse_date_bound_covers_the_last_month() -> None:
    assert searchlib.query.parse_date_bound("9999-12") == (dt.date(9999, 12, 1), dt.date(9999, 12, 31))
    assert searchlib.query.parse_date_bound("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))


@pytest.mark.parametrize("bucket", list(DateBucket))
def test_timelines_at_the_ends(ix: Index, bucket: DateBucket) -> None:
    late = ix.timeline("common", bucket=bucket, date_from="9999-11-30")
    assert late.points[-1] == searchlib.FacetCount(bucket.label(dt.date.max), 1)
    early = ix.timeline("common", bucket=bucket, date_to="0001-01-03")
    assert early.points[0] == searchlib.FacetCount(bucket.label(dt.date.min), 1)
    whole = ix.timeline("common", bucket=bucket)
    assert whole.total == 3


@pytest.mark.parametrize("bucket", list(DateBucket))
def test_facets_at_the_ends(ix: Index, bucket: DateBucket) -> None:
    dates = ix.facets("common", bucket=bucket).dates
    assert {f.value for f in dates} >= {bucket.label(dt.date.min), bucket.label(dt.date.max)}


def test_repl_date_filter_and_timeline_at_the_end(ix: Index) -> None:
    out = io.StringIO()
    run_repl(ix, stdin=io.StringIO("common\n:date 9999-12\n:timeline day\n:quit\n"), stdout=out)
    text = out.getvalue()
    assert "9999-12-31" in text and "error" not in text.lower()


def test_stats_at_the_ends(ix: Index) -> None:
    stats = ix.stats()
    assert (stats.first_date, stats.last_date) == (dt.date.min, dt.date.max)
