"""End to end, as a new user would: the example article and the sample corpus on disk, searched,
highlighted and faceted, then reopened."""

from __future__ import annotations

from pathlib import Path

import pytest

import searchlib
from searchlib import EntityKind, Index, render_html, render_plain

ISSUE_QUERIES = {
    "hostage talks": ("hostage", "talks"),
    '"Kerem Shalom"': ("Kerem Shalom",),
    "entity:Hamas": ("Hamas",),
    "date:2024-05": (),
    "Gallant date:[2024-05-01 TO 2024-05-31]": ("Gallant",),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, example_path: Path) -> Path:
    path = tmp_path_factory.mktemp("e2e") / "news"
    with Index.create(path) as ix:
        report = ix.ingest([example_path, searchlib.sample_corpus_path()])
        assert (report.files, report.added, report.skipped) == (9, 62, 0)
    return path


@pytest.mark.parametrize("query", list(ISSUE_QUERIES))
def test_each_issue_query_finds_the_example_with_matches_highlighted(index: Path, query: str) -> None:
    with Index.open(index) as ix:
        results = ix.search(query)
    example = [h for h in results if h.article.date.isoformat() == "2024-05-06"]
    assert len(example) == 1, [h.article.title for h in results]
    [hit] = example
    marked = {m.casefold() for s in (*hit.snippets, hit.title_snippet) if s for m in s.matches}
    for word in ISSUE_QUERIES[query]:
        assert any(word.casefold() in m for m in marked), (word, marked)
    if ISSUE_QUERIES[query]:
        assert "[" in render_plain(hit.snippets[0]) and "<mark>" in render_html(hit.snippets[0])


def test_the_example_names_its_people_organisations_and_places(index: Path) -> None:
    with Index.open(index) as ix:
        [hit] = ix.search('"Kerem Shalom"').hits
    kinds = {e.name: e.kind for e in hit.article.entities or ()}
    for person in ("Yoav Gallant", "Sami Abu Zuhri", "Lloyd Austin", "William Burns", "Petra De Sutter"):
        assert kinds[person] is EntityKind.PERSON
    for org in ("Hamas", "IDF", "CIA", "United Nations Relief and Works Agency", "Reuters"):
        assert kinds[org] is EntityKind.ORG
    for place in ("Rafah", "Gaza", "Israel", "Egypt", "Qatar", "Cairo", "Doha", "Kerem Shalom", "United States"):
        assert kinds[place] is EntityKind.PLACE


def test_facets_paging_and_sorting_over_the_corpus(index: Path) -> None:
    with Index.open(index) as ix:
        page1 = ix.search("talks", limit=3, facets=True)
        page2 = ix.search("talks", limit=3, page=2)
        newest = ix.search("talks", sort=searchlib.Sort.NEWEST, limit=50, highlight=None)
        stats = ix.stats()
    assert page1.total == page2.total > 6 and not {h.article.id for h in page1} & {h.article.id for h in page2}
    assert page1.facets is not None and sum(c.count for c in page1.facets.dates) == page1.total
    dates = [h.article.date for h in newest]
    assert dates == sorted(dates, reverse=True) and len(dates) == page1.total
    assert stats.documents == 62 and stats.first_date.isoformat() == "2024-05-06"  # type: ignore[union-attr]
