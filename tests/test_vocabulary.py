"""More like this and "did you mean" read the columns (format 9: Whoosh holds no text postings).

Key terms are checked against a brute-force Bo1 (Whoosh's ``Expander`` formula) computed from
the articles; more like this leaves the article and its copies out and ranks by score; did you
mean only offers words a live article holds.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import Article, Index, NoExtractor, analysis
from searchlib._whoosh import schema as sch
from searchlib._whoosh import vocabulary

WORDS = ["harbour", "council", "storm", "budget", "minister", "striking", "tariffs", "Gdańsk", "ferry", "quay"]


def _articles(seed: int, n: int) -> list[Article]:
    rng = random.Random(seed)
    return [
        Article(
            id=f"a{i}",
            date=f"2024-0{1 + i % 9}-01",
            title=" ".join(rng.choices(WORDS, k=2)),
            body=" ".join(rng.choices(WORDS, weights=range(1, len(WORDS) + 1), k=rng.randrange(3, 40))) + ".",
        )
        for i in range(n)
    ]


def _bo1(articles: list[Article], text: str, numterms: int) -> list[tuple[str, float]]:
    """Whoosh's Bo1 key terms (normalised), from the indexed bodies of ``articles``."""
    collection: Counter[str] = Counter()
    for a in articles:
        for term, positions in analysis.positions(sch.indexed_body(a, ())).items():
            collection[term] += len(positions)
    n = len(articles)
    mine = {t: len(p) for t, p in analysis.positions(text).items()}
    scores = {}
    for term, weight in mine.items():
        if collection[term]:
            f = collection[term] / n
            scores[term] = weight * math.log2((1 + f) / f) + math.log2(1 + f)
    best = max(scores.values())
    f = best / n
    norm = best * math.log2((1 + f) / f) + math.log2(1 + f)
    ranked = sorted(((s / norm, t) for t, s in scores.items()), key=lambda x: (-x[0], x[1]))
    return [(t, w) for w, t in ranked[:numterms]]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 8))
def test_key_terms_equal_a_brute_force_bo1(seed: int, commits: int, numterms: int) -> None:
    articles = _articles(seed, 24)
    with Index.in_memory(extractor=NoExtractor()) as ix:
        step = -(-len(articles) // commits)
        for start in range(0, len(articles), step):  # several segments
            ix.add(*articles[start : start + step])
        got = ix._engine.read("t", lambda snap: vocabulary.key_terms(snap, articles[3].body, numterms))
    want = _bo1(articles, articles[3].body, numterms)
    assert [t for t, _ in got] == [t for t, _ in want]
    assert [round(w, 9) for _, w in got] == [round(w, 9) for _, w in want]


@pytest.mark.parametrize("on_disk", [False, True])
def test_more_like_this_leaves_out_the_article_and_its_copies(tmp_path: Path, on_disk: bool) -> None:
    articles = _articles(7, 30)
    copy = Article(id="copy", date="2024-05-02", title=articles[0].title, body=articles[0].body)
    with Index.create(tmp_path / "ix") if on_disk else Index.in_memory() as ix:
        ix.add(*articles[:15])
        ix.add(*articles[15:], copy)
        ix.delete("a9")
        similar = ix.more_like_this("a0", limit=40, highlight=None)
        ids = [h.article.id for h in similar]
        assert ids and not {"a0", "copy", "a9"} & set(ids)
        scores = [h.score for h in similar]
        assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
        assert ix.more_like_this("a0", limit=2, highlight=None).hits == similar.hits[:2]


def test_suggest_offers_only_words_live_articles_hold() -> None:
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(
            Article(id="1", date="2024-01-01", body="The harbour council met."),
            Article(id="2", date="2024-01-01", body="Harbor talks again at the harbour."),
            Article(id="3", date="2024-01-01", body="A quayside meeting."),
        )
        assert ix.suggest("harbr") == "harbor"  # one edit from "harbor": closer than "harbour"
        assert ix.suggest("quaysid") == "quayside"
        ix.delete("2")
        assert ix.suggest("harbr") == "harbour"  # "harbor" is held by no live article any more
        assert ix.suggest("harbour council") is None
        ix.delete("3")
        assert ix.suggest("quaysid") is None
