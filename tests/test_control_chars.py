"""Control characters in articles, queries and paths never reach a terminal or a page raw."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import searchlib
from searchlib import Article, Index
from searchlib.cli import main
from searchlib.render import ANSI_BOLD_YELLOW, ANSI_RESET, neutralise_controls
from searchlib.repl import run_repl

HOSTILE = "Talks \x1b[2J resumed \x1b]0;owned\x07 in Cairo\x08\x08 today \x9b31m and \x00\x7f ended."
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _hostile_index(path: Path) -> Index:
    ix = Index.create(path)
    ix.add(
        Article(
            id="evil\x1b[31m",
            date="2025-01-01",
            title="Title \x1b]0;pwned\x07 here",
            body=HOSTILE,
            source="Wire\x07",
            entities=["Cairo\x1b[5m"],
        )
    )
    return ix


def test_stored_text_stays_faithful(tmp_path: Path) -> None:
    with _hostile_index(tmp_path / "ix") as ix:
        article = ix.get("evil\x1b[31m")
        assert article is not None and article.body == HOSTILE and article.source == "Wire\x07"


@pytest.mark.parametrize(
    "render",
    [
        searchlib.render_plain,
        searchlib.render_html,
        lambda s: searchlib.render_ansi(s).replace(ANSI_BOLD_YELLOW, "").replace(ANSI_RESET, ""),
    ],
    ids=["plain", "html", "ansi"],
)
def test_renderers_neutralise_controls(tmp_path: Path, render) -> None:  # type: ignore[no-untyped-def]
    with _hostile_index(tmp_path / "ix") as ix:
        hit = ix.search("talks", limit=1).hits[0]
    out = render(hit.snippets[0])
    assert not CONTROLS.search(out), repr(out)
    assert "␛[2J" in out and "␇" in out
    snippet = searchlib.highlight(HOSTILE, "talks")
    assert not CONTROLS.search(render(snippet))


def test_neutralise_keeps_length_tabs_and_newlines() -> None:
    text = "a\tb\nc\x1bd\re\x85f\x7f"
    safe = neutralise_controls(text)
    assert len(safe) == len(text)
    assert safe == "a\tb\nc␛d e\ufffdf␡"
    assert neutralise_controls(safe) == safe


def test_repl_output_has_no_raw_controls(tmp_path: Path) -> None:
    with _hostile_index(tmp_path / "ix") as ix:
        out = io.StringIO()
        script = "talks\n:show 1\n:facets\n:related\n:entity Cai\x1bro\n:filters\n:nosuch\x07\n:stats\n:quit\n"
        run_repl(ix, stdin=io.StringIO(script), stdout=out)
    text = out.getvalue()
    assert not CONTROLS.search(text), [m.group() for m in CONTROLS.finditer(text)]
    assert "␛]0;owned␇" in text  # :show prints the body, neutralised


def test_repl_in_colour_only_emits_its_own_escapes(tmp_path: Path) -> None:
    with _hostile_index(tmp_path / "ix") as ix:
        out = io.StringIO()
        run_repl(ix, stdin=io.StringIO("talks\n:quit\n"), stdout=out, color=True)
    ours = re.sub(r"\x1b\[(?:[0-9;]*)m", "", out.getvalue())
    assert not CONTROLS.search(ours)
    assert "␛[2J" in ours


@pytest.mark.parametrize(
    "command",
    [
        ["search", "{ix}", "talks"],
        ["search", "{ix}", "talks", "--no-color", "--facets"],
        ["search", "{ix}", "talks", "--color"],
        ["related", "{ix}", "talks"],
        ["duplicates", "{ix}"],
        ["similar", "{ix}", "evil\x1b[31m"],
        ["stats", "{ix}"],
        ["check", "{ix}"],
    ],
)
def test_cli_output_has_no_raw_controls(tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ix\x1b[2J"
    _hostile_index(path).close()
    out = io.StringIO()
    main([part.format(ix=path) for part in command], out=out)
    captured = capsys.readouterr()
    for text in (out.getvalue(), captured.out, captured.err):
        if "--color" in command:
            text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # the colours searchlib itself emits
        assert not CONTROLS.search(text), repr(text)


def test_cli_usage_errors_neutralise_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["search", "ix", "q", "--bogus\x1b[2J"], out=io.StringIO())
    err = capsys.readouterr().err
    assert info.value.code == 2 and "--bogus␛[2J" in err and not CONTROLS.search(err)


def test_cli_error_messages_neutralise_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["stats", str(tmp_path / "no\x1b]0;x\x07where")], out=io.StringIO())
    err = capsys.readouterr().err
    assert status != 0 and "no␛]0;x␇where" in err and not CONTROLS.search(err)
