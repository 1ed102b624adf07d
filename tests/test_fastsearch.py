"""The set-at-a-time evaluator must find exactly Whoosh's matches, with Whoosh's scores."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh import query as wq
from whoosh.searching import Searcher

from searchlib import Article, Index
from searchlib._whoosh import fastsearch
from searchlib._whoosh.scoring import BM25F

VOCABULARY = ["talk", "storm", "harbour", "vote", "council", "bank", "rate", "strike", "ceasefir", "minist", "absent"]


@pytest.fixture(scope="module")
def searcher() -> Iterator[Searcher]:
    """Three segments, repeated words (phrases), an update and a delete (deleted documents)."""
    rng = random.Random(11)
    words = ["talks", "storm", "harbour", "vote", "council", "bank", "rates", "strike", "ceasefire", "minister"]
    ix = Index.in_memory()
    for batch in range(3):
        ix.add(
            *(
                Article(id=f"{batch}-{n}", date="2024-01-01", body=" ".join(rng.choices(words, k=rng.randrange(3, 60))))
                for n in range(60)
            )
        )
    ix.add(Article(id="0-1", date="2024-01-02", body="talks storm talks storm harbour"))
    with ix.writer() as writer:
        writer.delete("1-5")
    with ix._backend.ix.searcher(weighting=BM25F(B=0.75, K1=1.2)) as raw:
        assert not raw.is_atomic() and len(raw.leaf_searchers()) >= 3
        yield raw
    ix.close()


def _term(word: str, boost: float) -> wq.Query:
    return wq.Term("body", word, boost=boost)


_boosts = st.sampled_from([1.0, 2.5])
_terms = st.builds(_term, st.sampled_from(VOCABULARY), _boosts)
_phrases = st.builds(
    lambda words, boost: wq.Phrase("body", words, boost=boost),
    st.lists(st.sampled_from(VOCABULARY[:4]), min_size=2, max_size=3),
    _boosts,
)
_queries = st.one_of(
    _terms,
    _phrases,
    st.builds(wq.And, st.lists(st.one_of(_terms, _phrases), min_size=2, max_size=3)),
    st.builds(wq.Or, st.lists(_terms, min_size=2, max_size=3)),
)


def _whoosh(searcher: Searcher, query: wq.Query, allowed: set[int] | None) -> dict[int, float]:
    collector = searcher.collector(limit=None, optimize=False, filter=allowed)
    searcher.search_with_collector(query, collector)
    return {int(d): float(s) for s, d in collector.results().top_n}


@given(_queries, st.one_of(st.none(), st.sets(st.integers(0, 200), max_size=80)))
def test_matches_and_scores_equal_whooshs(searcher: Searcher, query: wq.Query, allowed: set[int] | None) -> None:
    expected = _whoosh(searcher, query, allowed) if allowed != set() else {}  # Whoosh ignores an empty filter
    got = fastsearch.evaluate(searcher, query, allowed)
    assert got is not None
    assert got.keys() == expected.keys()
    for docnum, score in expected.items():
        assert math.isclose(got[docnum], score, rel_tol=1e-12), (docnum, got[docnum], score)


@pytest.mark.parametrize(
    "query",
    [
        wq.Prefix("body", "tal"),
        wq.Not(wq.Term("body", "talk")),
        wq.And([wq.Term("body", "talk"), wq.Or([wq.Term("body", "vote"), wq.Term("body", "bank")])]),
        wq.Term("id", "0-1"),
        wq.Or([wq.Term("body", "talk"), wq.Term("body", "vote")], scale=0.5),
        wq.Phrase("body", ["talk", "storm"], slop=3),
    ],
)
def test_other_shapes_are_left_to_whoosh(searcher: Searcher, query: wq.Query) -> None:
    assert fastsearch.evaluate(searcher, query, None) is None


def test_deleted_and_replaced_documents_never_match(searcher: Searcher) -> None:
    found = fastsearch.evaluate(searcher, wq.Term("body", "talk"), None)
    assert found is not None
    ids = {searcher.stored_fields(d)["id"] for d in found}
    assert "1-5" not in ids
    assert sum(1 for d in found if searcher.stored_fields(d)["id"] == "0-1") == 1


@pytest.mark.parametrize("fast", [True, False])
def test_or_totals_are_exact_on_both_paths(monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    """Whoosh's top-k collector drops OR branches that cannot reach the top; totals must not."""
    if not fast:
        monkeypatch.setattr(fastsearch, "evaluate", lambda *args: None)
    rng = random.Random(1)
    articles = []
    for n in range(2000):
        words = ["filler"] * rng.randrange(5, 200)
        words += ["alpha"] * rng.randrange(1, 6) if rng.random() < 0.15 else []
        words += ["beta"] * rng.randrange(1, 3) if rng.random() < 0.10 else []
        rng.shuffle(words)
        articles.append(Article(id=f"d{n}", date="2024-01-01", body=" ".join(words)))
    ix = Index.in_memory()
    ix.add(*articles)
    expected = sum(1 for a in articles if "alpha" in a.body or "beta" in a.body)
    assert ix.search("alpha OR beta", limit=10, highlight=None).total == expected
    assert ix.search("alpha OR beta OR gamma*", limit=10, highlight=None).total == expected


@pytest.mark.parametrize("word", VOCABULARY)
def test_term_docs_equal_whooshs(searcher: Searcher, word: str) -> None:
    assert fastsearch.term_docs(searcher, "body", word) == set(searcher.docs_for_query(wq.Term("body", word)))


@given(st.dictionaries(st.integers(0, 500), st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.5])), st.integers(0, 40))
def test_best_takes_highest_scores_then_lowest_docnums(matches: dict[int, float], count: int) -> None:
    expected = sorted(matches.items(), key=lambda pair: (-pair[1], pair[0]))[:count]
    assert fastsearch.best(matches, count) == expected


@given(st.lists(st.integers(0, 5_000), max_size=30).map(sorted))
def test_positions_decode_like_whoosh(positions: list[int]) -> None:
    from whoosh import formats

    encoded = formats.Positions().encode(positions)
    assert list(fastsearch._decode_positions(encoded)) == formats.Positions().decode_positions(encoded)


@given(st.lists(st.lists(st.integers(0, 70_000), max_size=1_200).map(sorted), max_size=12))
def test_many_positions_decode_like_whoosh(many: list[list[int]]) -> None:
    from whoosh import formats

    encoded = [formats.Positions().encode(positions) for positions in many]
    expected = [formats.Positions().decode_positions(value) for value in encoded]
    assert [list(p) for p in fastsearch._decode_many(encoded)] == expected
