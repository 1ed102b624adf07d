"""CLI conventions (issue 12): --json everywhere data is printed, --color auto|always|never, --version,
get, delete, ingest from standard input, queries starting with '-'."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import pytest

import searchlib
from searchlib.cli import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "demo"
    code, _ = run("index", str(path), str(searchlib.sample_corpus_path()), "-q")
    assert code == 0
    return path


def _lines(text: str) -> list[object]:
    return [json.loads(line) for line in text.splitlines()]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"searchlib {searchlib.__version__}"


@pytest.mark.parametrize(
    ("argv", "check"),
    [
        (["stats"], lambda rows: len(rows) == 1 and rows[0]["documents"] == 61),
        (
            ["related", "entity:HRB", "-n", "3"],
            lambda rows: len(rows) == 3 and rows[0]["name"] == "Margit van der Sloot",
        ),
        (["duplicates"], lambda rows: len(rows) == 2 and all(len(r["articles"]) >= 2 for r in rows)),
        (
            ["timeline", "strike", "--bucket", "year"],
            lambda rows: rows == [{"query": "strike", "bucket": "year", "points": [{"value": "2025", "count": 12}]}],
        ),
        (["similar", "wire-0006", "-n", "2"], lambda rows: len(rows) == 1 and len(rows[0]["hits"]) == 2),
        (["get", "wire-0011"], lambda rows: rows[0]["id"] == "wire-0011" and rows[0]["entities"]),
        (["check"], lambda rows: rows[0]["ok"] is True and rows[0]["documents"] == 61),
        (["search", "strike", "-n", "1"], lambda rows: rows[0]["total"] == 12),
    ],
)
def test_every_data_command_takes_json(demo: Path, argv: list[str], check: object) -> None:
    code, text = run(argv[0], str(demo), *argv[1:], "--json")
    assert code == 0
    rows = _lines(text) if argv[0] not in ("search", "similar") else [json.loads(text)]
    assert callable(check) and check(rows), rows


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "zzqxv"],
        ["related", "zzqxv"],
        ["duplicates", "zzqxv"],
        ["timeline", "zzqxv"],
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_query_commands_that_find_nothing_exit_1(demo: Path, argv: list[str], as_json: bool) -> None:
    # A word no article contains: every query command says "nothing found" by its status, as grep.
    code, _ = run(argv[0], str(demo), *argv[1:], *(["--json"] if as_json else []))
    assert code == 1


def test_similar_with_nothing_similar_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with searchlib.Index.create(path) as ix, ix.writer() as w:
        w.add(searchlib.Article(id="a", date=dt.date(2025, 1, 2), title="Harbour cranes", body="Cranes lift."))
        w.add(searchlib.Article(id="b", date=dt.date(2025, 1, 3), title="Orchard frost", body="Apples froze."))
    assert run("similar", str(path), "a")[0] == 1
    assert run("similar", str(path), "no-such-article")[0] == 2  # an unknown id is an error, named


def test_index_json_report(tmp_path: Path) -> None:
    code, text = run("index", str(tmp_path / "ix"), str(searchlib.sample_corpus_path()), "-q", "--json")
    report = json.loads(text)
    assert code == 0 and report["added"] == 61 and report["problems"] == []


@pytest.mark.parametrize(
    ("flags", "colored"),
    [
        ([], False),
        (["--color"], True),
        (["--color=always"], True),
        (["--color", "never"], False),
        (["--no-color"], False),
        (["--color=auto"], False),
    ],
)
def test_color_auto_always_never(demo: Path, flags: list[str], colored: bool) -> None:
    code, text = run("search", str(demo), "strike", "-n", "1", *flags)
    assert code == 0 and ("\x1b[" in text) == colored


def test_retag_json(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    run("index", str(path), str(searchlib.sample_corpus_path()), "-q")
    code, text = run("retag", str(path), "--json")
    assert code == 0 and json.loads(text)["retagged"] > 0


def test_get_and_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ix"
    run("index", str(path), str(searchlib.sample_corpus_path()), "-q")
    code, text = run("get", str(path), "wire-0011")
    assert code == 0 and "id: wire-0011" in text and "Porto" in text
    assert run("get", str(path), "nope")[0] != 0
    assert "no article with id 'nope'" in capsys.readouterr().err
    code, text = run("delete", str(path), "wire-0011", "wire-0012", "nope")
    assert code == 0 and text == "deleted 2 of 3 article(s)\n"
    assert json.loads(run("delete", str(path), "wire-0011", "--json")[1]) == {"deleted": 0, "requested": 1}
    assert json.loads(run("stats", str(path), "--json")[1])["documents"] == 59


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_ingest_from_stdin_jsonl_and_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ix"
    _stdin(monkeypatch, b'\n{"id": "p1", "date": "2025-01-02", "body": "Herring quotas were cut."}\n{"date": 5}\n')
    code, text = run("index", str(path), "-", "-q", "--json")
    report = json.loads(text)
    assert code == 0 and report["added"] == 1 and report["skipped"] == 1
    assert report["problems"][0]["path"] == "<stdin>" and report["problems"][0]["line"] == 3
    _stdin(monkeypatch, b"date 2025-01-03\nCod stocks recovered in the Baltic.\n")
    assert run("index", str(path), "-", "-q")[0] == 0
    assert json.loads(run("search", str(path), "cod OR herring", "--json")[1])["total"] == 2


def test_a_query_starting_with_a_dash(demo: Path) -> None:
    code, text = run("search", str(demo), "--json", "--", "-strike")
    assert code == 0 and json.loads(text)["total"] == 61 - 12


@pytest.mark.parametrize(("option", "value"), [("--from", "2025-13"), ("--to", "May")])
def test_date_errors_name_the_option(demo: Path, capsys: pytest.CaptureFixture[str], option: str, value: str) -> None:
    assert run("search", str(demo), "strike", option, value)[0] == 2  # an error (README: exit statuses)
    err = capsys.readouterr().err
    assert f"error: {option}: " in err and "date_" not in err


def test_no_zero_scores_when_sorting_by_date(demo: Path) -> None:
    code, text = run("search", str(demo), "strike", "--sort", "newest", "--no-color")
    assert code == 0 and "0.00" not in text and "  1. 2025-07-18  " in text
    with searchlib.Index.open(demo) as ix:
        best = ix.search("strike", limit=1, highlight=None).hits[0]
    assert f"  1. [{best.score:6.2f}] {best.article.date}" in run("search", str(demo), "strike", "--no-color")[1]


@pytest.mark.parametrize("width", [50, 80, 120])
def test_output_wraps_to_the_terminal_width_at_word_boundaries(corpus_index: searchlib.Index, width: int) -> None:
    from searchlib.display import format_results

    results = corpus_index.search("strike OR rates", limit=5)
    text = format_results(results, width=width)
    words = format_results(results).split()
    assert max(len(line) for line in text.splitlines()) <= width
    assert text.split() == words  # only line breaks changed: no word was cut


def test_bare_color_before_the_positionals_still_works(demo: Path) -> None:
    code, text = run("search", "--color", str(demo), "strike", "-n", "1")
    assert code == 0 and "\x1b[" in text
    code, text = run("search", "--color", "never", str(demo), "strike", "-n", "1")
    assert code == 0 and "\x1b[" not in text
    code, text = run("search", str(demo), "--json", "--", "--color")  # after "--" it is the query
    assert code == 1 and json.loads(text)["query"] == "--color"  # no match: exit status 1, as grep
