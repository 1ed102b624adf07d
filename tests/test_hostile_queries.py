"""Hostile query strings: every one returns Results or a QuerySyntaxError with a sane position.

Also fuzzes highlighting: spans always lie inside their snippet and never overlap.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import Article, QuerySyntaxError, Results, Snippet
from searchlib.query import MAX_DEPTH, MAX_QUERY_CHARS, MAX_TERMS

DOCS = (
    Article(id="a", date=dt.date(2024, 5, 6), body="Hostage talks resumed in Cairo on Monday.", source="Wire"),
    Article(id="b", date=dt.date(2024, 6, 1), body="Talking points: the talks stalled over Rafah.", title="Rafah"),
    Article(id="c", date=dt.date(2023, 1, 9), body="Dock workers went on strike in Gdansk.", entities=["Gdansk"]),
    Article(id="d", date=dt.date(1, 1, 1), body="القاهرة talks 🕊️ ירושלים at the dawn of time."),
    Article(id="e", date=dt.date(9999, 12, 31), body="The end of time: NOT a drill AND OR title: date:2024."),
)


@pytest.fixture(scope="module")
def ix() -> Iterator[searchlib.Index]:
    with tempfile.TemporaryDirectory() as folder:
        index = searchlib.Index.create(Path(folder) / "ix")  # on disk: no shared /tmp/MAIN.tmp
        index.add(*DOCS)
        yield index
        index.close()


def _outcome(ix: searchlib.Index, query: str, **kwargs: object) -> Results | QuerySyntaxError:
    try:
        results = ix.search(query, **kwargs)  # type: ignore[arg-type]
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(query), (query, exc.position, exc)
        assert exc.reason and str(exc.position) in str(exc)
        pointer = exc.pointer()
        assert pointer.count("\n") == 1
        return exc
    assert isinstance(results, Results)
    assert 0 <= len(results.hits) <= results.total <= len(DOCS)
    for hit in results.hits:
        for snippet in (*hit.snippets, *([hit.title_snippet] if hit.title_snippet else [])):
            _check_snippet(snippet, hit.article)
    return results


# --- fuzzing ------------------------------------------------------------------------------

_PIECES = [
    '"',
    "“",
    "”",
    "„",
    "(",
    ")",
    "[",
    "]",
    ":",
    "*",
    "?",
    "-",
    "+",
    " ",
    "  ",
    "\t",
    "\n",
    "\x00",
    "AND",
    "OR",
    "NOT",
    "&&",
    "||",
    "TO",
    "and",
    "not",
    "date:",
    "title:",
    "body:",
    "text:",
    "entity:",
    "entities:",
    "person:",
    "org:",
    "place:",
    "source:",
    "id:",
    "nofield:",
    "Date:",
    "TITLE:",
    "date:[",
    "2024",
    "2024-05",
    "2024-05-06",
    "2024-13-45",
    "0000",
    "9999-12-31",
    "talks",
    "ta",
    "t",
    "Cairo",
    "القاهرة",
    "ירושלים",
    "🕊️",
    "é",
    "İ",
    "ß",
    "\u200f",
    "\ufeff",
    "\\",
    "'",
    "’",
]
QUERIES = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_PIECES) | st.text(max_size=3), max_size=25).map("".join),
    st.lists(st.sampled_from(_PIECES), max_size=25).map(" ".join),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=QUERIES)
def test_any_query_returns_results_or_a_positioned_syntax_error(ix: searchlib.Index, query: str) -> None:
    _outcome(ix, query)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=QUERIES,
    sort=st.sampled_from(list(searchlib.Sort)),
    date_from=st.none() | st.sampled_from(["2024", "2024-05", "0001-01-01"]),
)
def test_any_query_with_sort_facets_and_filters(
    ix: searchlib.Index, query: str, sort: searchlib.Sort, date_from: str | None
) -> None:
    _outcome(ix, query, sort=sort, facets=True, date_from=date_from, limit=3)


@settings(max_examples=300, deadline=None)
@given(query=QUERIES)
def test_parse_query_only_raises_query_syntax_error(query: str) -> None:
    try:
        searchlib.parse_query(query)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(query)


# --- specific cases ------------------------------------------------------------------------

ERROR = "error"
SPECIFIC: list[tuple[str, str, object]] = [
    # (id, query, expected: ERROR/(ERROR, position) or a total)
    ("unbalanced_quote", '"hostage talks', (ERROR, 0)),
    ("unbalanced_quote_end", 'talks"', (ERROR, 5)),
    ("curly_quote", "“talks", (ERROR, 0)),
    ("unbalanced_open_bracket", "(talks OR cairo", (ERROR, 0)),
    ("unbalanced_close_bracket", "talks)", (ERROR, 5)),
    ("empty_brackets", "()", ERROR),
    ("square_brackets_are_punctuation", "[talks]", 3),
    ("lone_and", "AND", (ERROR, 0)),
    ("lone_or", "OR", (ERROR, 0)),
    ("lone_not", "NOT", (ERROR, 0)),
    ("lone_minus", "-", 0),
    ("lone_plus", "+", 0),
    ("trailing_and", "talks AND", (ERROR, 6)),
    ("leading_or", "OR talks", (ERROR, 0)),
    ("not_term", "NOT talks", 2),
    ("minus_term", "-talks", 2),
    ("double_not", "NOT NOT talks", 3),
    ("unknown_field", "nofield:foo", (ERROR, 0)),
    ("field_alone", "title:", (ERROR, 0)),
    ("field_then_space", "title: rafah", (ERROR, 0)),
    ("date_alone", "date:", (ERROR, 0)),
    ("open_range_missing_bound", "date:[2024 TO]", (ERROR, 5)),
    ("impossible_date", "date:2024-13-45", (ERROR, 5)),
    ("reversed_range", "date:[2025 TO 2024]", (ERROR, 5)),
    ("unclosed_range", "date:[2024 TO", (ERROR, 5)),
    ("year_zero", "date:[0000 TO 2024]", (ERROR, 6)),
    ("open_range", "date:[2024 TO *]", 3),
    ("range_on_text_field", "title:[a TO b]", ERROR),
    ("extreme_dates", "date:0001 OR date:9999-12-31", 2),
    ("date_month", "date:2024-05", 1),
    ("date_wildcard", "date:20*", ERROR),
    ("lone_star", "*", (ERROR, 0)),
    ("inner_wildcard", "a*b", (ERROR, 1)),
    ("question_mark_is_punctuation", "talk*?", ERROR),
    ("short_prefix", "t*", (ERROR, 0)),
    ("prefix", "talk*", 3),
    ("nul", "talks\x00", (ERROR, 5)),
    ("operators_as_words_in_phrase", '"NOT a drill AND"', 1),
    ("rtl_term", "القاهرة", 1),
    ("emoji_only", "🕊️", 0),
    ("entity_field", "entity:gdansk", 1),
    ("source_field", "source:wire", 1),
    ("id_field", "id:c", 1),
    ("many_terms_too_long", " ".join(f"w{i}" for i in range(10_000)), (ERROR, MAX_QUERY_CHARS)),
    ("too_many_terms", " ".join(["talks"] * (MAX_TERMS + 1)), ERROR),
    ("max_terms", " ".join(["talks"] * MAX_TERMS), 3),
    ("max_terms_or", " OR ".join(f"w{i}" for i in range(MAX_TERMS - 1)) + " OR talks", 3),
    ("nested_500", "(" * 500 + "talks" + ")" * 500, (ERROR, MAX_DEPTH)),
    ("nested_max", "(" * MAX_DEPTH + "talks" + ")" * MAX_DEPTH, 3),
    ("not_chain", "NOT " * 100 + "talks", ERROR),
    ("minus_chain", "-" * 100 + "talks", ERROR),
    ("megabyte_phrase", '"' + "talks " * 175_000 + '"', (ERROR, MAX_QUERY_CHARS)),
    ("long_phrase_under_limit", '"' + "talks " * 1_500 + '"', 0),
    ("long_word_under_limit", "x" * (MAX_QUERY_CHARS - 1), 0),
]


@pytest.mark.parametrize(("query", "expected"), [(q, e) for _, q, e in SPECIFIC], ids=[i for i, _, _ in SPECIFIC])
def test_specific_hostile_queries(ix: searchlib.Index, query: str, expected: object) -> None:
    started = time.perf_counter()
    outcome = _outcome(ix, query)
    assert time.perf_counter() - started < 2.0
    if expected == ERROR or isinstance(expected, tuple):
        assert isinstance(outcome, QuerySyntaxError), f"expected an error, got {outcome.total} hits"
        if isinstance(expected, tuple):
            assert outcome.position == expected[1], outcome
    else:
        assert isinstance(outcome, Results), f"expected results, got {outcome!r}"
        assert outcome.total == expected


def test_field_nested_in_field_group_is_an_error(ix: searchlib.Index) -> None:
    """Regression: title:(date:2024) used to search dates silently."""
    assert isinstance(_outcome(ix, "title:(date:2024)"), QuerySyntaxError)


def test_date_group_phrase_means_the_same_as_date_phrase(ix: searchlib.Index) -> None:
    """Regression: date:("2024") used to become a text phrase on the numeric date field (0 hits)."""
    plain = _outcome(ix, 'date:"2024"')
    grouped = _outcome(ix, 'date:("2024")')
    assert isinstance(plain, Results) and plain.total == 2
    assert isinstance(grouped, Results) and grouped.total == plain.total


def test_date_group_wildcard_is_an_error(ix: searchlib.Index) -> None:
    """Regression: date:(20*) used to match nothing silently while date:20* is an error."""
    assert isinstance(_outcome(ix, "date:(20*)"), QuerySyntaxError)


def test_query_error_positions_point_at_the_culprit(ix: searchlib.Index) -> None:
    for query, culprit in [
        ("talks AND (cairo", "("),
        ("talks nofield:x", "nofield"),
        ('talks "open', '"'),
        ("talks date:2024-02-30", "2024-02-30"),
        ("a b c*d", "*"),
    ]:
        outcome = _outcome(ix, query)
        assert isinstance(outcome, QuerySyntaxError), query
        assert query[outcome.position :].startswith(culprit), (query, outcome.position)


# --- highlighting ---------------------------------------------------------------------------


def _check_spans(snippet: Snippet) -> None:
    previous_end = 0
    for span in snippet.spans:
        assert 0 <= span.start <= span.end <= len(snippet.text), (span, len(snippet.text))
        assert span.start >= previous_end, snippet.spans  # ordered, non-overlapping
        previous_end = span.end


def _check_snippet(snippet: Snippet, article: Article) -> None:
    _check_spans(snippet)
    source = article.title if snippet.field == "title" else article.body
    assert source[snippet.offset : snippet.offset + len(snippet.text)] == snippet.text


_WORDS = ["talks", "talking", "Cairo", "cairo", "the", "a", "İstanbul", "straße", "ﬁnal", "القاهرة", "🕊️", "x"]
TEXTS = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(_WORDS) | st.text(max_size=4), max_size=80).map(" ".join),
)
HL_QUERIES = st.one_of(
    st.lists(
        st.sampled_from([*_WORDS, "talk*", "ca*", '"talks resumed"', "NOT talks", "OR", "(a OR talks)"]),
        min_size=1,
        max_size=5,
    ).map(" ".join),
    QUERIES,
)


@settings(max_examples=400, deadline=None)
@given(text=TEXTS, query=HL_QUERIES)
def test_highlight_spans_lie_inside_and_do_not_overlap(text: str, query: str) -> None:
    try:
        snippet = searchlib.highlight(text, query)
    except QuerySyntaxError:
        assume(False)
        return
    assert snippet.text == text and snippet.offset == 0
    _check_spans(snippet)


@settings(max_examples=400, deadline=None)
@given(
    text=TEXTS,
    query=HL_QUERIES,
    count=st.integers(min_value=1, max_value=4),
    chars=st.integers(min_value=20, max_value=200),
)
def test_best_snippets_are_ordered_slices_with_valid_spans(text: str, query: str, count: int, chars: int) -> None:
    try:
        snippets = searchlib.best_snippets(text, query, snippets=count, chars=chars)
    except QuerySyntaxError:
        assume(False)
        return
    assert len(snippets) <= count
    previous_end = 0
    for snippet in snippets:
        assert text[snippet.offset : snippet.offset + len(snippet.text)] == snippet.text
        assert snippet.offset >= previous_end, [(s.offset, len(s.text)) for s in snippets]
        previous_end = snippet.offset + len(snippet.text)
        _check_spans(snippet)


@pytest.mark.parametrize(
    "query",
    [
        "\ud800",
        "talks\ud800",
        '"talks \udfff resumed"',
        "id:\ud800",
        "source:a\ud800",
        "entity:\udfff",
        "title:\ud800",
        "ta\ud800*",
        "title:ta\udfff*",
    ],
)
def test_lone_surrogates_in_queries(ix: searchlib.Index, query: str) -> None:
    """Regression: a lone surrogate in a prefix (ta\\ud800*) raised UnicodeEncodeError from Whoosh."""
    _outcome(ix, query)
