"""The query parser: grammar, fields, dates, errors with positions, limits, fuzzing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib import QuerySyntaxError, parse_query
from searchlib.query import (
    MAX_DEPTH,
    MAX_TERMS,
    And,
    DateRange,
    MatchAll,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", MatchAll()),
        ("hostage", Term("hostage")),
        ("hostage talks", And((Term("hostage"), Term("talks")))),
        ("a AND b", And((Term("a"), Term("b")))),
        ("strike OR walkout port", And((Or((Term("strike"), Term("walkout"))), Term("port")))),
        ('"Kerem Shalom"', Phrase("Kerem Shalom")),
        ("“Kerem Shalom”", Phrase("Kerem Shalom")),
        ("-hamas", Not(Term("hamas"))),
        ("NOT hamas", Not(Term("hamas"))),
        ("+hamas", Term("hamas")),
        ("rafa*", Prefix("rafa")),
        ("title:rafah", Term("rafah", "title")),
        ('entity:"Yoav Gallant"', Phrase("Yoav Gallant", "entity")),
        ("entities:Hamas", Term("Hamas", "entity")),
        ("person:Gallant", Term("Gallant", "person")),
        ("title:(a OR b)", Or((Term("a", "title"), Term("b", "title")))),
        ("(a OR b) c", And((Or((Term("a"), Term("b"))), Term("c")))),
        ("date:2024-05", DateRange(dt.date(2024, 5, 1), dt.date(2024, 5, 31))),
        ("date:2024", DateRange(dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
        ("date:2024-02-29", DateRange(dt.date(2024, 2, 29), dt.date(2024, 2, 29))),
        ("date:[2024-05-01 TO 2024-05-31]", DateRange(dt.date(2024, 5, 1), dt.date(2024, 5, 31))),
        ("date:[2024-05 TO *]", DateRange(dt.date(2024, 5, 1), None)),
        ("date:[* TO 2024]", DateRange(None, dt.date(2024, 12, 31))),
        ("10:30 meeting", And((Term("10:30"), Term("meeting")))),
    ],
)
def test_parses(text: str, tree: object) -> None:
    assert parse_query(text) == tree


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ('"hostage talks', 0, "unclosed quote"),
        ("(a OR b", 0, "unclosed '('"),
        ("a)", 1, "unexpected ')'"),
        ("OR a", 0, "needs a term on its left"),
        ("a OR", 2, "expected a term after OR"),
        ("a AND", 2, "expected a term after AND"),
        ("NOT", 0, "expected a term after NOT"),
        ("nofield:foo", 0, "unknown field 'nofield'"),
        ("hamas title:", 6, "expected a value"),
        ("title: rafah", 0, "expected a value"),
        ("date:notadate", 5, "is not a date"),
        ("date:2024-13-45", 5, "month must be in 1..12"),
        ("date:[2024 TO]", 5, "a date range looks like"),
        ("date:[2025 TO 2024]", 5, "starts after it ends"),
        ("date:[2024-05", 5, "unclosed '['"),
        ("title:[a TO b]", 6, "only supported on date"),
        ("*", 0, "prefix needs at least"),
        ("ra*ah", 2, "only supported at the end"),
        ("()", 1, "empty brackets"),
        ('""', 0, "empty phrase"),
        ("a\x00b", 1, "NUL"),
    ],
)
def test_errors_name_position_and_reason(text: str, position: int, reason: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(text)
    assert info.value.position == position
    assert reason in info.value.reason
    assert info.value.pointer().splitlines()[1].index("^") == position


def test_limits_are_errors_not_crashes() -> None:
    with pytest.raises(QuerySyntaxError, match="terms"):
        parse_query(" ".join(["w"] * (MAX_TERMS + 1)))
    with pytest.raises(QuerySyntaxError, match="nested"):
        parse_query("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(QuerySyntaxError, match="longer"):
        parse_query("a" * 20_000)


@given(st.text(alphabet=st.sampled_from(list('ab :"()-*[]TOANDRNdate2024-05title\x00 OR')), max_size=40))
def test_any_string_parses_or_raises_query_syntax_error(text: str) -> None:
    try:
        parse_query(text)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(text)


@given(st.text(max_size=60))
def test_arbitrary_unicode_parses_or_raises_query_syntax_error(text: str) -> None:
    try:
        parse_query(text)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(text)
