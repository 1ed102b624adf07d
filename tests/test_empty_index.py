"""Every read of an index with no segments returns the empty answer.

An index has no segments when it was never filled, or when every article was deleted: a
commit drops a segment whose every document is deleted. Whoosh then reads it through an
``EmptyReader``, which has no columns; facets, duplicates and the date index read columns.
The same goes for an archive shard emptied by deletions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from searchlib import (
    Article,
    DateBucket,
    DocumentNotFoundError,
    Facets,
    Index,
    IndexProblem,
    NoExtractor,
    Recency,
    Sort,
    check_index,
)
from searchlib._whoosh import search as ws
from searchlib._whoosh.store import translate_read_errors
from searchlib.archive import Archive

BODY = "The storm closed the harbour and the bank stayed shut."


def _articles(year: int = 2025) -> list[Article]:
    return [
        Article(
            id=f"{year}-{i}",
            date=dt.date(year, 1 + i, 1 + i),
            title=f"Storm {i}",
            body=BODY if i < 3 else f"Harbour council vote number {i} on the storm budget.",
            source="Wire",
            entities=["Anna Weber", "Gdansk"],
        )
        for i in range(5)
    ]


@pytest.fixture(params=["disk", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    return tmp_path / "ix" if request.param == "disk" else None


@pytest.fixture(params=["never filled", "emptied by deletes"])
def empty_index(request: pytest.FixtureRequest, storage: Path | None) -> Iterator[Index]:
    ix = Index.in_memory(extractor=NoExtractor()) if storage is None else Index.create(storage, extractor=NoExtractor())
    with ix:
        if request.param == "emptied by deletes":
            ix.add(*_articles())
            assert ix.duplicates() and ix.facets("storm").entities  # something to lose
            assert ix.delete(*[a.id for a in _articles()]) == 5
        assert ix.stats().segments == 0
        yield ix


@pytest.mark.parametrize("query", ["storm", "", "storm OR council"])
def test_search_and_facets_of_an_index_without_segments(empty_index: Index, query: str) -> None:
    ix = empty_index
    results = ix.search(query, facets=True)
    assert (results.total, results.hits, results.facets) == (0, (), Facets())
    assert ix.facets(query, bucket=DateBucket.DAY) == Facets(date_bucket=DateBucket.DAY)
    dated = ix.search(query, date_from="2025-01", date_to="2025-12", facets=True, sort=Sort.NEWEST)
    assert (dated.total, dated.facets) == (0, Facets())
    assert ix.search(query, collapse_duplicates=True, recency=Recency(dt.date(2025, 6, 1))).total == 0
    assert ix.search(query, entities=["Anna Weber"], source="Wire").total == 0


def test_analytics_of_an_index_without_segments(empty_index: Index) -> None:
    ix = empty_index
    assert ix.duplicates() == ()
    assert ix.duplicates("storm", date_from="2025") == ()
    assert ix.timeline("storm").points == ()
    assert {p.count for p in ix.timeline("storm", date_from="2025-01", date_to="2025-03").points} == {0}
    assert ix.related_entities("storm") == ()
    assert ix.related_entities() == ()
    assert ix.suggest("storn") is None
    with pytest.raises(DocumentNotFoundError):
        ix.more_like_this("2025-0")


def test_lookups_stats_and_check_of_an_index_without_segments(empty_index: Index) -> None:
    ix = empty_index
    assert len(ix) == 0
    assert ix.get("2025-0") is None
    stats = ix.stats()
    assert (stats.documents, stats.segments, stats.first_date, stats.last_date, stats.entities) == (
        0,
        0,
        None,
        None,
        0,
    )
    assert ix.reextract() == 0
    if ix.path is not None:
        report = check_index(ix.path)
        assert report.ok and (report.documents, report.segments) == (0, 0)


def test_an_index_without_segments_can_be_filled_again(empty_index: Index) -> None:
    ix = empty_index
    ix.add(*_articles(2024))
    assert ix.facets("storm").entities[0].count == 5
    assert len(ix.duplicates()) == 1


@pytest.mark.parametrize("emptied", [["2023"], ["2023", "2024"]], ids=["one shard", "every shard"])
def test_an_archive_with_emptied_shards(tmp_path: Path, emptied: list[str]) -> None:
    with Archive.create(tmp_path / "a", shard_by="year", executor="serial") as archive:
        archive.add(*_articles(2023), *_articles(2024))
        assert len(archive.duplicates()) == 2
        archive.delete(*[a.id for year in emptied for a in _articles(int(year))])
        left = 10 - 5 * len(emptied)
        assert archive.stats().documents == left
        results = archive.search("storm", facets=True)
        assert results.total == left
        assert results.facets is not None and sum(f.count for f in results.facets.dates) == left
        assert sum(f.count for f in archive.facets("storm").dates) == left
        assert len(archive.duplicates()) == 2 - len(emptied)
        assert len(archive.duplicates("storm")) == 2 - len(emptied)
        assert sum(p.count for p in archive.timeline("storm").points) == left
        related = archive.related_entities("harbour")
        assert archive.suggest("storn") == ("storm" if left else None)
        assert archive.get("2023-0") is None
        with pytest.raises(DocumentNotFoundError):
            archive.more_like_this("2023-0")
        if left:
            assert {h.article.id for h in archive.more_like_this("2024-0")} == {"2024-3", "2024-4"}
        else:
            assert results.facets == Facets() and related == () and archive.stats().entities == 0
    assert check_index(tmp_path / "a").ok


def test_a_raw_not_implemented_error_of_the_backend_is_translated(tmp_path: Path) -> None:
    with (
        pytest.raises(IndexProblem, match=r"^facets failed reading the index at .*NotImplementedError in ") as info,
        translate_read_errors("facets", tmp_path),
    ):
        raise NotImplementedError
    assert info.value.path == tmp_path and "test_empty_index.py:" in str(info.value)
    assert isinstance(info.value.__cause__, NotImplementedError)


def test_whoosh_s_not_implemented_column_reaches_the_caller_as_an_index_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ws, "column_reader", lambda reader, name: reader.column_reader(name))  # as before the fix
    with Index.in_memory() as ix, pytest.raises(IndexProblem) as info:
        ix.duplicates()  # (reads the group column)
    assert str(info.value).startswith(
        "duplicates failed reading the index at <memory> (NotImplementedError in column_reader (whoosh/reading.py:"
    )
    assert "please report this bug" in str(info.value)
