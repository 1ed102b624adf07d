"""More like this, did you mean, and recency ranking."""

from __future__ import annotations

import datetime as dt
import io

import pytest

import searchlib
from searchlib import Article, Index, Recency
from searchlib.cli import main
from searchlib.repl import run_repl


def test_more_like_this_finds_the_same_story_and_skips_copies(corpus_index: Index) -> None:
    results = corpus_index.more_like_this("wire-0012", limit=3)
    assert results.query == "like:wire-0012" and len(results.hits) == 3
    assert all("Quillbright" in h.article.body or "QuillStore" in h.article.body for h in results)
    ids = {h.article.id for h in results}
    assert "wire-0012" not in ids
    original = corpus_index.duplicates("Quillbright")[0].original.id
    assert original not in ids  # a near-duplicate is not "more like this", it is the same article
    assert results.hits[0].snippets and results.hits[0].snippets[0].spans
    with pytest.raises(searchlib.DocumentNotFoundError):
        corpus_index.more_like_this("no-such-id")


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        ("inflaton", "inflation"),
        ("water rationning", "water rationing"),
        ("negotations date:2025", "negotiations date:2025"),
        ("Quilbright", "quillbright"),
        ("strike", None),
        ('"wage talks"', None),
        ("entity:Hamass", None),  # entity names are exact: not corrected
    ],
)
def test_did_you_mean(corpus_index: Index, query: str, suggestion: str | None) -> None:
    assert corpus_index.suggest(query) == suggestion


def test_recency_decays_older_articles() -> None:
    ix = Index.in_memory()
    ix.add(
        Article(id="old", date="2024-01-01", title="Rafah rafah rafah", body="Rafah crossing. Rafah again."),
        Article(id="new", date="2024-06-01", body="A note that mentions Rafah once among many other words here."),
    )
    assert [h.article.id for h in ix.search("rafah")] == ["old", "new"]
    recent = ix.search("rafah", recency=Recency("2024-06-01", half_life_days=7))
    assert [h.article.id for h in recent] == ["new", "old"]
    assert Recency(dt.date(2024, 6, 1), half_life_days=10).factor(dt.date(2024, 5, 22)) == pytest.approx(0.5)
    assert Recency("2024-06-01").factor(dt.date(2024, 7, 1)) == 1.0
    with pytest.raises(ValueError):
        Recency("2024-06-01", half_life_days=0)


def test_repl_like_recent_and_did_you_mean(corpus_index: Index) -> None:
    out = io.StringIO()
    script = "inflaton\ninflation\n:like 1\n:recent 14 2025-07-31\n:filters\n:recent off\n"
    run_repl(corpus_index, stdin=io.StringIO(script), stdout=out, limit=2)
    text = out.getvalue()
    assert "No matches.\nDid you mean: inflation" in text
    assert "recency half-life 14 days before 2025-07-31" in text
    assert text.count("match(es)") >= 3


def test_cli_similar_and_recent(corpus_index: Index, tmp_path: object) -> None:
    path = f"{tmp_path}/ix"
    assert main(["index", path, str(searchlib.sample_corpus_path()), "-q"], out=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["similar", path, "wire-0012", "-n", "2", "--no-color"], out=out) == 0
    assert "2 match(es)" in out.getvalue()
    out = io.StringIO()
    assert main(["search", path, "inflation", "--recent", "7", "--now", "2025-07-31", "-n", "1"], out=out) == 0
    assert "2025-07-" in out.getvalue().splitlines()[0]
    out = io.StringIO()
    assert main(["search", path, "inflaton"], out=out) == 1 and "Did you mean: inflation" in out.getvalue()
