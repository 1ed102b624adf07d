"""Query errors are honest: the input kept whole, right positions and reasons, nothing raw echoed."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import QuerySyntaxError
from searchlib.query import MAX_QUERY_CHARS
from searchlib.repl import run_repl

CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _error(query: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as info:
        searchlib.parse_query(query)
    return info.value


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("talks\x00", 5),
        ("\x1b[2J nofield:x", 5),
        ('"unclosed \x07 quote', 0),
        ("a\x9b31m AND", 6),
        ("x" * (MAX_QUERY_CHARS + 5) + "\x1b", MAX_QUERY_CHARS),
    ],
)
def test_errors_never_echo_control_characters(query: str, position: int) -> None:
    exc = _error(query)
    assert exc.query == query and exc.position == position
    assert not CONTROLS.search(exc.pointer()) and not CONTROLS.search(str(exc))


@pytest.mark.parametrize(
    ("query", "position"),
    [("\ud800", 0), ("talks \udfff", 6), ('"talks \udc00 resumed"', 7), ("ta\ud800*", 2), ("日本 \ud83d", 3)],
)
def test_lone_surrogates_have_their_own_reason_and_position(query: str, position: int) -> None:
    exc = _error(query)
    assert (exc.query, exc.position) == (query, position)
    assert "lone surrogate" in exc.reason and f"U+{ord(query[position]):04X}" in exc.reason
    exc.pointer().encode("utf-8")  # printable: the surrogate is shown as U+FFFD


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=40))
def test_exc_query_is_always_the_input(query: str) -> None:
    try:
        searchlib.parse_query(query)
    except QuerySyntaxError as exc:
        assert exc.query == query
        assert 0 <= exc.position <= len(query)
        pointer = exc.pointer()
        assert pointer.count("\n") == 1 and not CONTROLS.search(pointer)


def test_caret_is_under_the_position_after_wide_characters() -> None:
    exc = _error("日本語 nofield:x")
    caret = exc.pointer().split("\n")[1]
    assert caret == " " * 7 + "^"  # three wide characters (6 columns) and a space


def test_long_query_pointer_shows_the_window_around_the_position() -> None:
    query = "a " * 300 + "nofield:x " + "b " * 300
    exc = _error(query)
    text, caret = exc.pointer().split("\n")
    assert len(text) <= 102 and text.startswith("…") and text.endswith("…")
    assert text[len(caret) - 1 :].startswith("nofield:x")


@pytest.mark.parametrize("query", ["who is putin?", "strike?", "? strike", '"wage talks?"', "title:strike?"])
def test_question_mark_is_punctuation(query: str) -> None:
    with searchlib.Index.in_memory() as ix:
        ix.ingest(searchlib.sample_corpus_path())
        plain = query.replace("?", "")
        assert ix.search(query).total == ix.search(plain).total
        assert ix.search("strike?").total > 0


def test_repl_shows_query_errors_without_raw_controls() -> None:
    with searchlib.Index.in_memory() as ix:
        out = io.StringIO()
        run_repl(ix, stdin=io.StringIO('talks\x00\x1b[2J\n"open\x07\n\ud800x\n:quit\n'), stdout=out)
    text = out.getvalue()
    assert not CONTROLS.search(text)
    assert "NUL" in text and "lone surrogate" in text and "unclosed quote" in text
