"""Analytics count live documents only: after updates, deletes and re-tagging nothing deleted shows."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

import searchlib
from searchlib import Article, Index


def _corpus(ix: Index) -> None:
    ix.ingest(searchlib.sample_corpus_path())


def _retag(ix: Index) -> None:
    ix.reextract(searchlib.RuleExtractor())


def _update_all(ix: Index) -> None:
    # the source records, not hits: a hit shows entities through the alias table (a view)
    articles = [a for a in searchlib.read_articles([searchlib.sample_corpus_path()]) if isinstance(a, Article)]
    with ix.writer() as w:
        for article in articles:
            w.update(article)


def _readd_unchanged(ix: Index) -> None:
    ids = {hit.article.id for hit in ix.search("entity:HRB", limit=10_000, highlight=None)}
    ix.add(
        *[
            a
            for a in searchlib.read_articles([searchlib.sample_corpus_path()])
            if isinstance(a, Article) and a.id in ids
        ]
    )


@pytest.mark.parametrize("change", [_retag, _update_all, _readd_unchanged], ids=["retag", "update", "re-add"])
def test_related_background_ignores_replaced_copies(change: Callable[[Index], None]) -> None:
    with Index.in_memory() as ix:
        _corpus(ix)
        before = ix.related_entities("entity:HRB", size=5)
        stats = ix.stats()
        change(ix)
        assert ix.related_entities("entity:HRB", size=5) == before
        assert attrs.evolve(ix.stats(), generation=stats.generation, segments=stats.segments) == attrs.evolve(
            stats, size_bytes=ix.stats().size_bytes
        )


def test_related_background_drops_deleted_articles() -> None:
    with Index.in_memory() as ix:
        _corpus(ix)
        row = next(r for r in ix.related_entities("entity:HRB", size=20) if r.name == "Tallinn")
        tallinn = [h.article.id for h in ix.search("entity:Tallinn -entity:HRB", limit=100, highlight=None)]
        assert tallinn and row.background > row.count
        ix.delete(*tallinn)
        after = next(r for r in ix.related_entities("entity:HRB", size=20) if r.name == "Tallinn")
        assert (after.count, after.background) == (row.count, row.background - len(tallinn))


def _facet_entities(ix: Index) -> set[str]:
    return {f.value for f in ix.facets("", size=100_000).entities}


def test_stats_agree_with_facets_after_deletes_and_retag() -> None:
    with Index.in_memory() as ix:
        _corpus(ix)
        assert ix.stats().entities == len(_facet_entities(ix))
        named = len(_facet_entities(ix))
        gone = [h.article.id for h in ix.search("entity:HRB", limit=100, highlight=None)]
        ix.delete(*gone)
        _retag(ix)
        stats = ix.stats()
        assert stats.entities == len(_facet_entities(ix))
        assert stats.documents == len(ix) == sum(f.count for f in ix.facets("", size=100_000).dates)
        assert stats.entities < named


def test_stats_dates_follow_deletes() -> None:
    with Index.in_memory() as ix:
        ix.add(
            Article(id="old", date="2001-01-01", body="Oldest one in Riga."),
            Article(id="mid", date="2010-06-01", body="Middle one."),
            Article(id="new", date="2020-12-31", body="Newest one."),
        )
        ix.delete("old", "new")
        stats = ix.stats()
        assert (str(stats.first_date), str(stats.last_date), stats.documents) == ("2010-06-01", "2010-06-01", 1)
        assert stats.entities == len(_facet_entities(ix)) == 0
