"""REPL line editing (issue 12): Ctrl-C clears the line, history across sessions, completion, paging after
a failed query, help examples taken from the open index."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

import searchlib
from searchlib.lineedit import completions, line_reader
from searchlib.repl import example_queries, run_repl

NAMES = ("Halina Wrzosek", "Hamburg", "HRB", "Margit van der Sloot")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (":mo", [":more"]),
        (":t", [":timeline"]),
        ("strike tit", ["title:"]),
        ("entity:hal", ['entity:"Halina Wrzosek"']),
        ('person:"Mar', ['person:"Margit van der Sloot"']),
        (":entity Ha", ['"Halina Wrzosek"', "Hamburg"]),
        ("talks Ham", ["Hamburg"]),
        ("date:20", []),
        ("", []),
    ],
)
def test_completions(typed: str, expected: list[str]) -> None:
    found = list(completions(typed, NAMES))
    assert [text for text, _ in found] == expected
    for text, start in found:  # the completion replaces exactly the word typed
        assert typed[: len(typed) + start] + text
        assert -start <= len(typed)


def _run(ix: searchlib.Index, lines: list[str]) -> str:
    out = io.StringIO()
    it: Iterator[str] = iter(lines)

    def reader(prompt: str) -> str:
        line = next(it, None)
        if line is None:
            raise EOFError
        if line == "^C":
            raise KeyboardInterrupt
        return line

    run_repl(ix, stdin=io.StringIO(), stdout=out, interactive=True, reader=reader, limit=2)
    return out.getvalue()


def test_ctrl_c_clears_the_line_and_the_session_goes_on(corpus_index: searchlib.Index) -> None:
    text = _run(corpus_index, ["^C", "strike", "^C", ":more"])
    assert text.count("match(es)") == 2  # both the query and :more ran after the interrupts


def test_paging_after_a_failed_query_says_so_and_stays(corpus_index: searchlib.Index) -> None:
    text = _run(corpus_index, ["strike", '"strike', ":more", ":prev", "strike"])
    assert text.count("the last query failed") == 2
    assert text.count("1. [") == 2  # the first page of "strike", twice: paging never moved


def test_help_examples_come_from_the_index_and_find_something(corpus_index: searchlib.Index) -> None:
    examples = example_queries(corpus_index)
    assert len(examples) == 4
    for query in examples:
        assert corpus_index.search(query, limit=0).total > 0
    with searchlib.Index.in_memory() as ix:
        ix.add(searchlib.Article(date="2020-02-02", body="Lighthouse keepers rowed ashore in Flensburg."))
        mine = example_queries(ix)
        assert all(ix.search(q, limit=0).total for q in mine) and "date:2020-02" in mine
        assert f"(e.g. {', '.join(mine)})" in _run(ix, [":help"])


prompt_toolkit = pytest.importorskip("prompt_toolkit")


def _session(history: Path, keys: str, later: str = "") -> list[str]:
    """Lines a prompt_toolkit reader returns for ``keys`` and ``later``.

    ``later`` is typed 3 s after: completion is async, and a loaded machine took over 1 s.
    """
    import threading

    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    lines = []
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        if later:
            threading.Timer(3.0, pipe.send_text, args=(later,)).start()
        read = line_reader(NAMES, history=history, session_options={"input": pipe, "output": DummyOutput()})
        while True:
            try:
                lines.append(read("> "))
            except KeyboardInterrupt:
                lines.append("<interrupted>")
            except EOFError:
                return lines


def test_prompt_toolkit_history_survives_sessions_and_ctrl_c(tmp_path: Path) -> None:
    history = tmp_path / "state" / "history"
    assert _session(history, "strike\rhalf typed\x03:more\r\x04") == ["strike", "<interrupted>", ":more"]
    assert history.exists()
    # a new session: Up recalls the last line of the previous one
    assert _session(history, "\x1b[A\r\x04") == [":more"]


def test_prompt_toolkit_tab_completes_entity_names(tmp_path: Path) -> None:
    assert _session(tmp_path / "h", "entity:marg\t", later="\r\x04") == ['entity:"Margit van der Sloot"']


def test_repl_wraps_hits_to_the_width_it_is_given(corpus_index: searchlib.Index) -> None:
    out = io.StringIO()
    run_repl(corpus_index, stdin=io.StringIO("strike\n"), stdout=out, width=60)
    hits = out.getvalue().split("searchlib> ", 2)[1]
    assert "[strike" in hits and max(len(line) for line in hits.splitlines()) <= 60
