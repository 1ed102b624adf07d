"""Whole REPL sessions driven through injected stdin/stdout."""

from __future__ import annotations

import io

import pytest

from searchlib import Index
from searchlib.repl import run_repl


def session(index: Index, *lines: str) -> str:
    out = io.StringIO()
    run_repl(index, stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=out, limit=2)
    return out.getvalue()


def test_query_paging_and_quit(corpus_index: Index) -> None:
    text = session(corpus_index, '"wage talks"', ":more", ":prev", ":quit", "never run")
    assert text.count("[wage talks]") >= 2 or text.count("[Wage talks]") >= 1
    assert "showing 1-2 (more available)" in text and "showing 3-4" in text
    assert text.count("showing 1-2") == 2 and "never run" not in text


def test_filters_facets_show_and_stats(corpus_index: Index) -> None:
    text = session(
        corpus_index,
        ":entity HRB",
        ":date 2025-05",
        "interest rates",
        ":filters",
        ":facets",
        ":show 1",
        ":clear",
        ":stats",
    )
    assert "filters: date 2025-05 to 2025-05; entity 'HRB'" in text
    assert "1 match(es)" in text
    assert "By month:\n  2025-05" in text
    assert "Hanseatic Reserve Bank" in text and "entities: " in text
    assert f"articles:  {len(corpus_index)}" in text


def test_errors_are_shown_and_the_session_carries_on(corpus_index: Index) -> None:
    text = session(corpus_index, '"unclosed', "date:[2025 TO]", ":limit zero", ":nope", ":show 99", "strike")
    assert 'query error: unclosed quote at position 0\n"unclosed\n^' in text
    assert "a date range looks like" in text
    assert "error: usage: :limit N" in text
    assert "unknown command :nope" in text
    assert "no hit 99" in text
    assert "[strike]" in text.lower()


@pytest.mark.parametrize("command", [":more", ":facets", ":sort newest", ":help"])
def test_commands_before_any_query(corpus_index: Index, command: str) -> None:
    text = session(corpus_index, command)
    assert "Traceback" not in text and text.rstrip().endswith(">")
