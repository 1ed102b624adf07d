"""Snippets start and end at word boundaries, never inside a word (issue 12)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import searchlib


def _cuts_a_word(text: str, at: int) -> bool:
    return 0 < at < len(text) and text[at - 1].isalnum() and text[at].isalnum()


@pytest.mark.parametrize("chars", [40, 80, 220])
@pytest.mark.parametrize("query", ["strike", "water", "talks", "rates OR inflation", "port", "election", "mayor"])
def test_corpus_snippets_never_cut_a_word(corpus_index: searchlib.Index, query: str, chars: int) -> None:
    options = searchlib.HighlightOptions(snippets=2, chars=chars)
    for hit in corpus_index.search(query, limit=100, highlight=options):
        body = hit.article.body
        for snippet in hit.snippets:
            start, end = snippet.offset, snippet.offset + len(snippet.text)
            assert not _cuts_a_word(body, start), body[start - 10 : start + 10]
            assert not _cuts_a_word(body, end), body[end - 10 : end + 10]


words = st.lists(st.text("abcdefghij", min_size=1, max_size=60), min_size=1, max_size=80)


@given(words, st.integers(20, 120))
def test_generated_text_snippets_never_cut_a_word(body_words: list[str], chars: int) -> None:
    text = " ".join(body_words) + " target " + " ".join(reversed(body_words))
    for snippet in searchlib.best_snippets(text, "target", snippets=1, chars=chars):
        start, end = snippet.offset, snippet.offset + len(snippet.text)
        assert not _cuts_a_word(text, start) and not _cuts_a_word(text, end)
        assert "target" in snippet.text
    for snippet in searchlib.best_snippets(text, "zzz", snippets=1, chars=chars):  # the lead
        assert not _cuts_a_word(text, len(snippet.text))
