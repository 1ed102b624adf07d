"""One exit-status table for every command, an index never built where it should not be, and
``TypeError`` naming the parameter for wrong-typed arguments anywhere in the public API."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import searchlib
from searchlib import Article
from searchlib.cli import (
    EXIT_CHECK_PROBLEMS,
    EXIT_CLOSED_PIPE,
    EXIT_ERROR,
    EXIT_NO_MATCH,
    EXIT_NOTHING_INDEXED,
    EXIT_OK,
    EXIT_USAGE,
    main,
)

ARTICLE = "date 2025-01-02 Dock workers in Gdańsk ended their strike.\n\nTalks went on.\n"


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    return folder


def _run(*args: str) -> int:
    return main(list(args), out=io.StringIO())


def test_the_table_is_distinct_where_it_must_be() -> None:
    assert (EXIT_OK, EXIT_NO_MATCH, EXIT_ERROR, EXIT_USAGE) == (0, 1, 2, 2)  # as grep
    assert len({EXIT_OK, EXIT_NO_MATCH, EXIT_ERROR, EXIT_CHECK_PROBLEMS, EXIT_NOTHING_INDEXED, EXIT_CLOSED_PIPE}) == 6


def test_search_is_grep_like(tmp_path: Path, articles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ix = str(tmp_path / "ix")
    assert _run("index", ix, str(articles), "-q") == EXIT_OK
    assert _run("search", ix, "strike") == EXIT_OK
    assert _run("search", ix, "strike", "--json") == EXIT_OK
    assert _run("search", ix, "zebra") == EXIT_NO_MATCH
    assert _run("search", ix, "zebra", "--json") == EXIT_NO_MATCH
    assert _run("search", ix, '"unclosed') == EXIT_ERROR
    assert _run("search", str(tmp_path / "nowhere"), "strike") == EXIT_ERROR
    assert "no index" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["search"], out=io.StringIO())
    assert info.value.code == EXIT_USAGE and "usage:" in capsys.readouterr().err


def test_swapped_arguments_build_nothing(tmp_path: Path, articles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in articles.iterdir())
    assert _run("index", str(articles), str(tmp_path / "newix")) == EXIT_NOTHING_INDEXED
    err = capsys.readouterr().err
    assert "nothing to index" in err and "usage: searchlib index INDEX PATH" in err
    assert sorted(p.name for p in articles.iterdir()) == before


def test_index_refuses_a_non_empty_folder_that_is_not_an_index(
    tmp_path: Path, articles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "notes"
    target.mkdir()
    (target / "todo.txt").write_text("mine\n")
    for extra in ([], ["--overwrite"]):
        assert _run("index", str(target), str(articles), *extra) == EXIT_ERROR
        assert "not empty and not an index" in capsys.readouterr().err
        assert [p.name for p in target.iterdir()] == ["todo.txt"]
    with pytest.raises(searchlib.IndexProblem, match="not empty and not an index"):
        searchlib.Index.create(target, overwrite=True)
    assert [p.name for p in target.iterdir()] == ["todo.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run("index", str(empty), str(articles), "-q") == EXIT_OK  # an empty folder is fine


def test_a_glob_matching_nothing_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("index", str(tmp_path / "ix"), str(tmp_path / "*.jsonl")) == EXIT_NOTHING_INDEXED
    assert "no files match" in capsys.readouterr().err
    assert not (tmp_path / "ix").exists()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.txt", b"", "no articles"),
        ("binary.txt", bytes(range(256)) * 16, "every record was skipped"),
        ("nodate.txt", b"just some text\n", "every record was skipped"),
    ],
)
def test_index_that_read_nothing_fails(
    tmp_path: Path, name: str, content: bytes, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / name).write_bytes(content)
    assert _run("index", str(tmp_path / "ix"), str(tmp_path / name)) == EXIT_NOTHING_INDEXED
    assert words in capsys.readouterr().err


def test_reindexing_unchanged_files_is_success(tmp_path: Path, articles: Path) -> None:
    ix = str(tmp_path / "ix")
    assert _run("index", ix, str(articles), "-q") == EXIT_OK
    assert _run("index", ix, str(articles), "-q") == EXIT_OK


def test_check_finding_problems_has_its_own_status(tmp_path: Path, articles: Path) -> None:
    ix = tmp_path / "ix"
    assert _run("index", str(ix), str(articles), "-q") == EXIT_OK
    (ix / "MAIN_orphanxyz12345.seg").write_bytes(b"junk")
    assert _run("check", str(ix)) == EXIT_CHECK_PROBLEMS


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_is_quiet(tmp_path: Path, articles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ix = str(tmp_path / "ix")
    assert _run("index", ix, str(articles), "-q") == EXIT_OK
    capsys.readouterr()
    assert main(["search", ix, "strike"], out=_ClosedPipe()) == EXIT_CLOSED_PIPE
    assert capsys.readouterr().err == ""


def test_demo_into_a_closed_pipe_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "searchlib", "demo", "--root", str(tmp_path), "--no-color"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `| head -0` would: the first write finds no reader
    err = proc.stderr.read().decode()
    assert proc.wait(120) == EXIT_CLOSED_PIPE
    assert err == ""


# --- TypeError naming the parameter --------------------------------------------------------


@pytest.fixture(scope="module")
def ix() -> searchlib.Index:
    index = searchlib.Index.in_memory()
    index.add(Article(id="a", date="2025-01-01", body="hello world"))
    return index


CALLS: list[tuple[str, Callable[[searchlib.Index], object], str]] = [
    ("search date_from int", lambda ix: ix.search("x", date_from=20250301), "date_from"),  # type: ignore[arg-type]
    ("search date_to float", lambda ix: ix.search("x", date_to=2025.5), "date_to"),  # type: ignore[arg-type]
    ("search highlight False", lambda ix: ix.search("x", highlight=False), "highlight"),  # type: ignore[arg-type]
    ("search entities str", lambda ix: ix.search("x", entities="Hamas"), "entities"),
    ("search entities ints", lambda ix: ix.search("x", entities=[1, 2]), "entities"),  # type: ignore[list-item]
    ("search limit str", lambda ix: ix.search("x", limit="5"), "limit"),  # type: ignore[arg-type]
    ("search limit bool", lambda ix: ix.search("x", limit=True), "limit"),
    ("search source int", lambda ix: ix.search("x", source=3), "source"),  # type: ignore[arg-type]
    ("search query None", lambda ix: ix.search(None), "query"),  # type: ignore[arg-type]
    ("search recency str", lambda ix: ix.search("x", recency="2025-01-01"), "recency"),  # type: ignore[arg-type]
    ("search facets str", lambda ix: ix.search("x", facets="yes"), "facets"),  # type: ignore[arg-type]
    ("facets size str", lambda ix: ix.facets("x", size="3"), "size"),  # type: ignore[arg-type]
    ("timeline bucket bad", lambda ix: ix.timeline("x", bucket=7), "bucket"),  # type: ignore[arg-type]
    ("related size float", lambda ix: ix.related_entities("x", size=2.5), "size"),  # type: ignore[arg-type]
    ("duplicates query int", lambda ix: ix.duplicates(5), "query"),  # type: ignore[arg-type]
    ("more_like_this id int", lambda ix: ix.more_like_this(5), "doc_id"),  # type: ignore[arg-type]
    ("get id int", lambda ix: ix.get(5), "doc_id"),  # type: ignore[arg-type]
    ("add str", lambda ix: ix.add("not an article"), "articles"),  # type: ignore[arg-type]
    ("delete int", lambda ix: ix.delete(5), "ids"),  # type: ignore[arg-type]
    ("writer timeout str", lambda ix: ix.writer(timeout="1"), "timeout"),  # type: ignore[arg-type]
    ("ingest paths int", lambda ix: ix.ingest(5), "paths"),  # type: ignore[arg-type]
    ("ingest strict str", lambda ix: ix.ingest([], strict="yes"), "strict"),  # type: ignore[arg-type]
    ("open path int", lambda ix: searchlib.Index.open(5), "path"),  # type: ignore[arg-type]
    ("highlight text int", lambda ix: searchlib.highlight(3, "x"), "text"),  # type: ignore[arg-type]
    ("best_snippets chars str", lambda ix: searchlib.best_snippets("a", "a", chars="9"), "chars"),  # type: ignore[arg-type]
    ("render_plain str", lambda ix: searchlib.render_plain("text"), "snippet"),  # type: ignore[arg-type]
    ("render_sparkline str", lambda ix: searchlib.render_sparkline("123"), "counts"),  # type: ignore[arg-type]
    ("check_index path int", lambda ix: searchlib.check_index(5), "path"),  # type: ignore[arg-type]
    ("read_articles progress int", lambda ix: searchlib.read_articles([], progress=5), "progress"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("label", "call", "name"), CALLS, ids=[c[0] for c in CALLS])
def test_wrong_types_raise_type_error_naming_the_parameter(
    ix: searchlib.Index, label: str, call: Callable[[searchlib.Index], object], name: str
) -> None:
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        call(ix)


def test_writer_methods_check_types(ix: searchlib.Index) -> None:
    with ix.writer() as w:
        with pytest.raises(TypeError, match=r"^article must be"):
            w.add({"id": "x"})  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"^doc_id must be"):
            w.delete(3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"^articles must be"):
            w.add_many("abc")  # type: ignore[arg-type]


def test_right_types_still_pass(ix: searchlib.Index) -> None:
    assert ix.search("hello", date_from=dt.date(2025, 1, 1), sort="newest", entities=(), highlight=None).total == 1
    assert ix.search("hello", date_from=dt.datetime(2025, 1, 1, 12), limit=5, offset=0).total == 1
    assert ix.search("hello", entities=["x"]).total == 0
    assert searchlib.render_sparkline((1, 2, 3)) and searchlib.render_sparkline([0])
