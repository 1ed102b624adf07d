"""Searching: ranking, fields, filters, sorting, paging, counts and facets."""

from __future__ import annotations

import datetime as dt
import math

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import Article, DateBucket, Index, Ranking, Sort


def ids(results: searchlib.Results) -> list[str]:
    return [h.article.id for h in results]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("talks", ["a", "b"]),
        ("talking", ["a", "b"]),
        ("hostage talks", ["a"]),
        ("hostage OR strike", ["a", "c"]),
        ("talks -rafah", ["a"]),
        ("talks NOT rafah", ["a"]),
        ('"talks resumed"', ["a"]),
        ('"resumed talks"', []),
        ("raf*", ["b"]),
        ("entity:gdansk", ["c"]),
        ('entity:"BALTIC dockworkers federation"', ["c"]),
        ("entity:baltic", []),
        ("source:wire", ["a"]),
        ("id:b", ["b"]),
        ("date:2024", ["a", "b"]),
        ("date:[2024-05-06 TO 2024-05-06]", ["a"]),
        ("date:[* TO 2023-12-31]", ["c"]),
        ("title:talks", ["a", "b"]),
        ("-talks", ["c"]),
        ("the", []),
    ],
)
def test_query_language(small_index: Index, query: str, expected: list[str]) -> None:
    results = small_index.search(query, sort=Sort.OLDEST)
    assert sorted(ids(results)) == expected
    assert results.total == len(expected)


def test_keyword_filters_match_query_syntax(small_index: Index) -> None:
    assert ids(small_index.search("talks", date_from="2024-06")) == ["b"]
    assert ids(small_index.search("talks", date_to=dt.date(2024, 5, 31))) == ["a"]
    assert ids(small_index.search("", entities=["Gdansk"])) == ["c"]
    assert ids(small_index.search("talks", source="HERALD")) == ["b"]
    with pytest.raises(ValueError, match="date_from"):
        small_index.search("x", date_from="May")
    with pytest.raises(TypeError):
        small_index.search("x", entities="Gdansk")


def test_sort_by_date_and_paging(small_index: Index) -> None:
    assert ids(small_index.search("", sort=Sort.NEWEST)) == ["b", "a", "c"]
    assert ids(small_index.search("", sort=Sort.OLDEST)) == ["c", "a", "b"]
    page2 = small_index.search("", sort=Sort.NEWEST, limit=2, page=2)
    assert ids(page2) == ["c"] and page2.offset == 2 and page2.total == 3 and not page2.has_more
    first = small_index.search("", sort=Sort.NEWEST, limit=2)
    assert first.has_more and first.page == 1 and [h.rank for h in first] == [1, 2]


def test_title_and_entity_matches_outrank_body_matches() -> None:
    ix = Index.in_memory()
    filler = " ".join(["Officials met again on the matter of the port."] * 3)
    ix.add(
        Article(id="body", date="2024-01-01", title="Port news", body=f"{filler} Rafah was mentioned once."),
        Article(id="title", date="2024-01-01", title="Rafah crossing reopens", body=f"{filler} Rafah too."),
        Article(id="entity", date="2024-01-01", title="Border", body=f"{filler} Rafah again.", entities=["Rafah"]),
    )
    assert ids(ix.search("rafah"))[-1] == "body"
    flat = Index.in_memory(ranking=attrs.evolve(Ranking(), title_boost=1.0, entity_boost=0.0))
    assert flat.ranking.title_boost == 1.0
    with pytest.raises(ValueError):
        Ranking(b=2.0)


@pytest.mark.parametrize(
    "weights",
    [
        {"title_boost": math.inf},
        {"body_boost": math.nan},
        {"entity_boost": 1e308},
        {"k1": math.inf},
        {"title_boost": -1.0},
    ],
)
def test_a_ranking_refuses_weights_that_would_make_scores_nan(weights: dict[str, float]) -> None:
    """Infinite or overflowing boosts gave NaN scores, which the two ranking paths order differently."""
    with pytest.raises(ValueError):
        Ranking(**weights)  # type: ignore[arg-type]


def test_facets_count_all_matches_not_just_the_page(corpus_index: Index) -> None:
    results = corpus_index.search("strike", limit=1, facets=True, facet_size=3)
    assert results.facets is not None and len(results.hits) == 1
    assert sum(c.count for c in results.facets.dates) == results.total
    assert len(results.facets.entities) == 3
    counts = [c.count for c in results.facets.entities]
    assert counts == sorted(counts, reverse=True)
    yearly = corpus_index.facets("", bucket=DateBucket.YEAR)
    assert {c.value: c.count for c in yearly.dates} == {"2024": 1, "2025": len(corpus_index) - 1}
    sources = {c.value for c in corpus_index.facets("").sources}
    assert len(sources) == 3


def test_total_is_exact_with_filters(corpus_index: Index) -> None:
    everything = corpus_index.search("", limit=0)
    may = corpus_index.search("", date_from="2025-05", date_to="2025-05", limit=1)
    manual = [
        a for a in (h.article for h in corpus_index.search("", limit=1000)) if a.date.month == 5 and a.date.year == 2025
    ]
    assert may.total == len(manual) and 0 < may.total < everything.total


def test_results_outlive_the_index() -> None:
    ix = Index.in_memory()
    ix.add(Article(id="1", date="2024-01-01", body="Hostage talks."))
    results = ix.search("talks")
    ix.close()
    assert results.hits[0].article.body == "Hostage talks." and results.hits[0].snippets
    with pytest.raises(searchlib.IndexClosedError):
        ix.search("talks")


def test_highlight_none_skips_snippets(small_index: Index) -> None:
    hit = small_index.search("talks", highlight=None).hits[0]
    assert hit.snippets == () and hit.title_snippet is None


_days = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


@settings(max_examples=25)
@given(
    days=st.lists(_days, min_size=1, max_size=15),
    bounds=st.tuples(st.one_of(st.none(), _days), st.one_of(st.none(), _days)),
)
def test_date_filters_agree_with_brute_force(
    days: list[dt.date], bounds: tuple[dt.date | None, dt.date | None]
) -> None:
    """Whoosh's unsigned numeric ranges returned wrong documents; this pins the fix."""
    start, end = bounds
    ix = Index.in_memory(extractor=searchlib.NoExtractor())
    ix.add(*(Article(id=str(i), date=d, body="news") for i, d in enumerate(days)))
    expected = sorted(str(i) for i, d in enumerate(days) if (start is None or d >= start) and (end is None or d <= end))
    assert sorted(ids(ix.search("news", date_from=start, date_to=end, limit=100))) == expected
    if start is not None and end is not None and start <= end:
        in_query = ix.search(f"news date:[{start.isoformat()} TO {end.isoformat()}]", limit=100)
        assert sorted(ids(in_query)) == expected
