"""Highlighting as data (spans, snippets) and its three renderers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import searchlib
from searchlib import Snippet, Span, best_snippets, highlight, render_ansi, render_html, render_plain

TEXT = "Hostage talks stalled. Negotiators were talking again on Monday; the talks in Cairo resumed."


def test_stemmed_matches_mark_the_original_words() -> None:
    snippet = highlight(TEXT, "talk")
    assert snippet.matches == ("talks", "talking", "talks")
    assert snippet.text == TEXT and not snippet.truncated_start


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ('"talks stalled"', ("talks stalled",)),
        ('"stalled talks"', ()),
        ("negotiat*", ("Negotiators",)),
        ("talks -cairo", ("talks", "talking", "talks")),
        ('entity:"Hostage talks"', ("Hostage talks",)),
        ("date:2024 cairo", ("Cairo",)),
        ("title:cairo", ()),
    ],
)
def test_query_kinds(query: str, matches: tuple[str, ...]) -> None:
    assert highlight(TEXT, query).matches == matches


def test_best_snippets_choose_passages_around_matches() -> None:
    text = ("Filler sentence about nothing. " * 30) + "The Rafah crossing closed. " + ("More filler here. " * 30)
    [snippet] = best_snippets(text, "rafah crossing", snippets=1, chars=80)
    assert snippet.matches == ("Rafah", "crossing")
    assert snippet.truncated_start and snippet.truncated_end and len(snippet.text) <= 120
    assert text[snippet.offset : snippet.offset + len(snippet.text)] == snippet.text


def test_no_match_gives_the_lead() -> None:
    [snippet] = best_snippets("A lead sentence. Then more.", "absent", snippets=1, chars=40)
    assert snippet.text.startswith("A lead") and snippet.spans == ()


def test_renderers() -> None:
    snippet = Snippet("a <b> & talks", (Span(8, 13),), truncated_start=True)
    assert render_plain(snippet) == "…a <b> & [talks]"
    assert render_plain(snippet, before="**", after="**", ellipsis=False) == "a <b> & **talks**"
    assert render_html(snippet) == "…a &lt;b&gt; &amp; <mark>talks</mark>"
    assert render_ansi(snippet) == "…a <b> & \x1b[1;33mtalks\x1b[0m"
    with pytest.raises(ValueError):
        render_html(snippet, tag="mark onclick=x")


@given(text=st.text(max_size=300), query=st.text(max_size=30))
def test_fuzz_spans_are_inside_ordered_and_disjoint(text: str, query: str) -> None:
    try:
        snippets = best_snippets(text, query, snippets=2, chars=40)
        whole = highlight(text, query)
    except searchlib.QuerySyntaxError:
        return
    for snippet in (*snippets, whole):
        last = 0
        for span in snippet.spans:
            assert last <= span.start < span.end <= len(snippet.text)
            last = span.end
