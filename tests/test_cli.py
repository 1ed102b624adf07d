"""The command line: index, search, stats, repl, demo and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from searchlib.cli import main, resolve_index_path


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture
def built(tmp_path: Path, example_path: Path) -> Path:
    path = tmp_path / "news"
    code, text = run("index", str(path), str(example_path), "-q")
    assert code == 0 and "1 added" in text
    return path


@pytest.mark.parametrize(
    "query",
    ["hostage talks", '"Kerem Shalom"', "entity:Hamas", "date:2024-05", "Gallant date:[2024-05-01 TO 2024-05-31]"],
)
def test_the_issue_queries_find_the_example(built: Path, query: str) -> None:
    code, text = run("search", str(built), query, "--no-color")
    assert code == 0 and "1 match(es)" in text and "2024-05-06" in text
    if not query.startswith("date:"):
        assert "[" in text.split("\n", 2)[2]  # a highlighted match in the snippet


def test_search_json_and_facets(built: Path) -> None:
    code, text = run("search", str(built), "rafah", "--json", "--facets")
    data = json.loads(text)
    assert code == 0 and data["total"] == 1 and data["hits"][0]["article"]["date"] == "2024-05-06"
    entities = data["facets"]["entities"]
    assert len(entities) == 10 and entities[0] == {"value": "Al-Qahera News", "count": 1}  # ties sort by name
    assert data["facets"]["dates"] == [{"value": "2024-05", "count": 1}]


def test_errors_exit_2_with_a_message(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("search", str(built), "title:")[0] == 2
    assert "query error: expected a value right after 'title:' at position 0" in capsys.readouterr().err
    assert run("stats", str(tmp_path / "none"))[0] == 2
    assert "no index at" in capsys.readouterr().err


def test_stats_and_reindex_is_idempotent(built: Path, example_path: Path) -> None:
    code, text = run("index", str(built), str(example_path), "-q")
    assert code == 0 and "1 unchanged" in text and "1 articles" in text
    code, text = run("stats", str(built))
    assert "articles:  1" in text and "2024-05-06 to 2024-05-06" in text


def test_bare_names_live_under_indexes() -> None:
    assert resolve_index_path("news") == Path("indexes/news")
    assert resolve_index_path("./news") == Path("news")


def test_demo_and_module_entry_point(tmp_path: Path) -> None:
    code, text = run("demo", "--root", str(tmp_path), "--no-color")
    assert code == 0 and "61 added" in text and "[wage] [talks]" in text.lower()
    proc = subprocess.run(
        [sys.executable, "-m", "searchlib", "repl", str(tmp_path / "demo")],
        input="strike\n:quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and "match(es)" in proc.stdout
