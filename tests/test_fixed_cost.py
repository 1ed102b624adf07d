"""A search's fixed cost cut without changing an answer: cached parses and plans, stored
articles rebuilt without re-validation, the alias table's usual case checked without a copy,
stored fields read straight from their column."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib import AliasTable, Article, Entity, EntityKind, HighlightOptions, Index, QuerySyntaxError
from searchlib import plan as pl
from searchlib import query as q
from searchlib._whoosh import schema as sch
from searchlib._whoosh import search as ws
from searchlib.models import stored_article
from searchlib.querying import make_hit

NAMES = st.text(alphabet="abcdefgh ÉéX-", min_size=1, max_size=12).filter(lambda s: s.strip() != "")


def _article(i: int, body: str, entities: list[Entity] | None = None, source: str | None = None) -> Article:
    return Article(id=f"d{i:03d}", date=dt.date(2024, 1, 1 + i % 28), body=body, entities=entities, source=source)


# --- stored articles -------------------------------------------------------------------------


@given(
    body=st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != ""),
    title=st.text(max_size=20),
    names=st.lists(st.tuples(NAMES, st.sampled_from(list(EntityKind)), st.lists(NAMES, max_size=2)), max_size=6),
    source=st.none() | st.text(max_size=8),
)
def test_an_article_read_back_equals_the_validated_one(
    body: str, title: str, names: list[tuple[str, EntityKind, list[str]]], source: str | None
) -> None:
    """What an index stores (the validated article's values) rebuilds the same article unvalidated."""
    try:
        entities = [Entity(n, k, a) for n, k, a in names]
        article = Article(
            id="x1", date=dt.date(2024, 2, 3), body=body, title=title or None, entities=entities, source=source
        )  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return  # not a valid article: nothing is stored
    meta = {
        "date": article.date.isoformat(),
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "entities": [[e.name, e.kind.value, list(e.aliases)] for e in article.entities or ()],
    }
    rebuilt = sch.to_article(article.id, meta, article.body.encode("utf-8"))
    assert rebuilt == article
    assert attrs.asdict(rebuilt) == attrs.asdict(article)  # every field is set
    assert hash(rebuilt) == hash(article)


def test_stored_article_sets_every_field_and_stays_frozen() -> None:
    made = stored_article(
        id="a", date=dt.date(2024, 1, 2), title="T", body="B", entities=(Entity("X"),), source=None, url=None
    )
    assert {f.name for f in attrs.fields(Article)} == set(attrs.asdict(made))
    assert made == Article(id="a", date=dt.date(2024, 1, 2), title="T", body="B", entities=["X"])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.title = "other"  # type: ignore[misc]
    assert attrs.evolve(made, title="U").title == "U"


def test_stored_entities_stay_unique_by_key() -> None:
    """The converter keeps the first of entities whose names fold alike; so does reading them back."""
    meta = {
        "date": "2024-01-02",
        "title": "T",
        "source": None,
        "url": None,
        "entities": [["Acme", "org", []], ["ACME", "org", []], ["Bo", "person", ["B."]]],
    }
    rebuilt = sch.to_article("a", meta, b"body")
    assert rebuilt.entity_names == ("Acme", "Bo")
    assert rebuilt == Article(
        id="a",
        date=dt.date(2024, 1, 2),
        title="T",
        body="body",
        entities=[Entity(*e[:2], e[2]) for e in meta["entities"]],
    )


@pytest.mark.parametrize("on_disk", [True, False])
def test_stored_fields_column_reads_what_whoosh_reads(tmp_path: Path, on_disk: bool) -> None:
    with Index.create(tmp_path / "ix") if on_disk else Index.in_memory() as ix:
        for start in (0, 6):  # two commits: two segments
            with ix.writer() as w:
                for i in range(start, start + 6):
                    w.add(_article(i, f"word{i} shared text", [Entity(f"Name {i}")]))
        ix.delete("d002")

        def check(snap: object) -> None:
            searcher = snap.searcher  # type: ignore[attr-defined]
            column = ws.stored_fields(searcher)
            assert column is ws.stored_fields(searcher)  # made once per searcher
            for docnum in range(searcher.doc_count_all()):
                assert column[docnum] == searcher.stored_fields(docnum)
            leaf = searcher.reader().leaf_readers()[0][0]
            reader = column._open(leaf)
            assert isinstance(reader, ws._DirectColumn) == on_disk  # in memory: Whoosh's own reader
            bodies = ws.body_column(searcher)
            assert isinstance(bodies._open(leaf), ws._DirectColumn) == on_disk
            assert [bodies[d] for d in range(12)] == [
                ws.column_reader(searcher.reader(), "body_text")[d] for d in range(12)
            ]
            if on_disk:  # a closed file is an error, never a read of whatever reuses its descriptor
                copy = ws._DirectColumn.__new__(ws._DirectColumn)
                for name in ws._DirectColumn.__slots__:
                    setattr(copy, name, getattr(reader, name))
                copy._file = open(tmp_path / "closed", "wb")  # noqa: SIM115
                copy._file.close()
                with pytest.raises(ValueError):
                    copy[0]

        ix._engine.read("test", check)
        assert [h.article.id for h in ix.search("shared", limit=20, highlight=None).hits] == sorted(
            f"d{i:03d}" for i in range(12) if i != 2
        )


# --- caches of parses and plans ----------------------------------------------------------------


def test_a_query_string_is_parsed_once() -> None:
    first = q.parse("alpha AND (beta OR title:gamma)")
    assert q.parse("alpha AND (beta OR title:gamma)") is first
    for _ in range(2):  # an error is raised every time, never cached as an answer
        with pytest.raises(QuerySyntaxError):
            q.parse("alpha AND (beta")


def test_plans_are_cached_by_query_filters_and_weights() -> None:
    node = q.parse("alpha beta")
    plan = pl.compile_plan(node, entities=("Acme",))
    assert pl.compile_plan(node, entities=("Acme",)) is plan
    assert pl.compile_plan(node, entities=["Acme"]) is plan  # type: ignore[arg-type]  # a list is taken as a tuple
    others = [
        pl.compile_plan(node),
        pl.compile_plan(node, entities=("Acme",), date_from=dt.date(2024, 1, 1)),
        pl.compile_plan(node, entities=("Acme",), source="wire"),
        pl.compile_plan(node, entities=("Acme",), title_boost=3.0),
        pl.compile_plan(node, entities=("Acme",), k1=2.0),
    ]
    assert all(other != plan for other in others)
    assert len(set(others)) == len(others)


def test_cached_plans_rank_like_fresh_ones_across_threads() -> None:
    ix = Index.in_memory()
    ix.add(*(_article(i, f"alpha {'beta ' * (i % 4)} text {i}") for i in range(30)))
    queries = ["alpha beta", "beta", "text AND alpha", '"alpha beta"', "bet*"]
    expected = {query: [(h.article.id, h.score) for h in ix.search(query, highlight=None).hits] for query in queries}
    found: list[bool] = []

    def worker() -> None:
        for _ in range(20):
            for query in queries:
                found.append(
                    [(h.article.id, h.score) for h in ix.search(query, highlight=None).hits] == expected[query]
                )

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found and all(found)
    ix.close()


# --- the alias table's usual case --------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t, ("Acme Corp", "Bo Li")),
        (lambda t: t.rename("Acme Corp", "Acme"), ("Acme", "Bo Li")),
        (lambda t: t.block("Bo Li"), ("Acme Corp",)),
        (lambda t: t.merge("Bo Li", "Acme Corp"), ("Acme Corp",)),
    ],
)
def test_show_is_apply(change: object, expected: tuple[str, ...]) -> None:
    table = change(AliasTable())  # type: ignore[operator]
    article = _article(1, "text", [Entity("Acme Corp", EntityKind.ORG), Entity("Bo Li", EntityKind.PERSON)])
    shown = table.show(article)
    assert shown.entities == table.apply(article.entities or ())
    assert shown.entity_names == expected
    assert (shown is article) == (expected == ("Acme Corp", "Bo Li"))  # unchanged: the same object, no copy


def test_show_keeps_an_article_whose_entities_equal_cached_ones() -> None:
    """Articles read back from the index carry fresh Entity objects equal to those seen before:
    the table's cache is keyed by value, so they take the no-copy path too."""
    table = AliasTable().rename("Bo Li", "Li Bo")
    first = _article(1, "text", [Entity("Acme Corp", EntityKind.ORG), Entity("Bo Li", EntityKind.PERSON)])
    again = _article(2, "text", [Entity("Acme Corp", EntityKind.ORG)])
    renamed = _article(3, "text", [Entity("Bo Li", EntityKind.PERSON)])
    table.show(first)  # caches both entities (objects other than ``again``'s and ``renamed``'s)
    assert table.show(again) is again
    shown = table.show(renamed)
    assert shown is not renamed and shown.entity_names == ("Li Bo",)


# --- hits ------------------------------------------------------------------------------------------


def test_a_hit_carries_its_copies_with_or_without_highlighting() -> None:
    article = _article(1, "alpha text")
    plain = make_hit(1, 2.5, article, None, None, copies=("d009",))
    assert (plain.rank, plain.score, plain.copies, plain.snippets) == (1, 2.5, ("d009",), ())
    with pytest.raises(ValueError, match="matchers"):
        make_hit(1, 2.5, article, None, HighlightOptions())


def test_search_without_highlighting_returns_the_same_hits(small_index: Index) -> None:
    marked = small_index.search("talks", collapse_duplicates=True)
    plain = small_index.search("talks", highlight=None, collapse_duplicates=True)
    assert [(h.article, h.score, h.rank, h.copies) for h in plain.hits] == [
        (h.article, h.score, h.rank, h.copies) for h in marked.hits
    ]
    assert all(h.snippets for h in marked.hits) and not any(h.snippets for h in plain.hits)
    assert all(type(h.score) is float for h in plain.hits)


# --- argument checks ------------------------------------------------------------------------------


def test_argument_checks_remember_passing_types_only(small_index: Index) -> None:
    """A type that passed once is not checked again; a wrong one is still refused every time,
    and checks that look at the value (sequences, enum names) always look."""
    for _ in range(2):
        assert small_index.search("talks", limit=5, highlight=None).total == 2
        with pytest.raises(TypeError, match="limit must be int"):
            small_index.search("talks", limit="5")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="limit must be int"):
            small_index.search("talks", limit=True)
        with pytest.raises(TypeError, match="entities"):
            small_index.search("talks", entities=[3])  # type: ignore[list-item]
        assert small_index.search("talks", entities=["Gdansk"], highlight=None).total == 0
        assert small_index.search("talks", sort="newest", highlight=None).hits[0].article.id == "b"  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="sort"):
            small_index.search("talks", sort="sideways")  # type: ignore[arg-type]
