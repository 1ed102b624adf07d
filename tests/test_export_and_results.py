"""Exports (``searchlib export``), lenient searches, and the Results/Hit conveniences of issue 12."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import searchlib
from searchlib.cli import main
from searchlib.export import CSV_COLUMNS, export_lines, to_jsonable
from searchlib.query import plain_words


def test_results_are_indexable_and_sliceable_with_a_short_repr(corpus_index: searchlib.Index) -> None:
    results = corpus_index.search("strike", limit=4)
    assert results[0] is results.hits[0] and results[-1] is results.hits[-1]
    assert results[1:3] == results.hits[1:3] and isinstance(results[1:3], tuple)
    with pytest.raises(IndexError):
        results[10]
    assert repr(results) == f"<Results 'strike': {results.total} matches, hits 1-4>"
    assert repr(corpus_index.search("zzzqqq")) == "<Results 'zzzqqq': 0 matches, no hits>"
    assert len(repr(corpus_index.search("", limit=100))) < 80


def test_a_hits_entities_are_always_a_tuple(corpus_index: searchlib.Index) -> None:
    for hit in corpus_index.search("", limit=100):
        assert isinstance(hit.article.entities, tuple)
        assert hit.entities == hit.article.entities
    bare = searchlib.Hit(rank=1, score=1.0, article=searchlib.Article(date="2025-01-01", body="x"))
    assert bare.entities == ()


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ('"hostage talks', "hostage talks"),
        ("(strike OR", "strike or"),
        ("title:", "title"),
        ("date:2024-13-45 rates", "date 2024 13 45 rates"),
        ("*", ""),
        ("Israel's NOT (", "Israel's not"),
    ],
)
def test_plain_words_of_unparsable_queries(query: str, words: str) -> None:
    with pytest.raises(searchlib.QuerySyntaxError):
        searchlib.parse_query(query)
    assert plain_words(query) == words
    searchlib.parse_query(words)  # the fallback always parses


def test_lenient_search_searches_plain_words_and_says_why(corpus_index: searchlib.Index) -> None:
    with pytest.raises(searchlib.QuerySyntaxError):
        corpus_index.search('"wage talks')
    results = corpus_index.search('"wage talks', lenient=True)
    plain = corpus_index.search("wage talks")
    assert results.total == plain.total > 0
    assert results.notice == "unclosed quote at position 0: searched as plain words (wage talks)"
    assert results.query == '"wage talks'
    assert corpus_index.search("wage talks", lenient=True).notice is None
    assert corpus_index.timeline('"wage talks', lenient=True) == attrs_evolve_query(
        corpus_index.timeline("wage talks"), '"wage talks'
    )
    assert corpus_index.suggest('"inflaton', lenient=True) == "inflation"
    assert corpus_index.facets("(strike", lenient=True) == corpus_index.facets("strike")
    assert corpus_index.related_entities("(strike", lenient=True) == corpus_index.related_entities("strike")


def attrs_evolve_query(timeline: searchlib.Timeline, query: str) -> searchlib.Timeline:
    import attrs

    return attrs.evolve(timeline, query=query)


def test_export_lines_every_match_in_batches(corpus_index: searchlib.Index) -> None:
    everything = corpus_index.search("", limit=1000, highlight=None)
    lines = list(export_lines(corpus_index, fmt="jsonl", batch=7))
    assert [json.loads(line)["id"] for line in lines] == [h.article.id for h in everything]
    assert len(lines) == everything.total > 7

    rows = list(csv.reader(io.StringIO("".join(export_lines(corpus_index, "strike", fmt="csv", batch=3)))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r[2] for r in rows[1:]] == [h.article.id for h in corpus_index.search("strike", limit=100)]
    assert all(r[0] == str(i) for i, r in enumerate(rows[1:], start=1))


def test_export_raises_on_a_bad_query_before_streaming(corpus_index: searchlib.Index) -> None:
    with pytest.raises(searchlib.QuerySyntaxError):
        export_lines(corpus_index, '"open')
    with pytest.raises(ValueError, match="format"):
        export_lines(corpus_index, fmt="xml")  # type: ignore[arg-type]


def test_to_jsonable_serialises_attrs_values(corpus_index: searchlib.Index) -> None:
    data = to_jsonable(corpus_index.timeline("strike"))
    assert data["bucket"] == "month" and data["points"][0] == {"value": "2025-02", "count": 1}
    assert json.dumps(to_jsonable(corpus_index.search("strike", limit=1)))


def test_cli_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "ix"
    assert main(["index", str(index), str(searchlib.sample_corpus_path()), "-q"], out=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["export", str(index), "strike", "--from", "2025-06", "--sort", "oldest"], out=out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows and all(r["date"] >= "2025-06" for r in rows)
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)

    target = tmp_path / "all.csv"
    assert main(["export", str(index), "--format", "csv", "-o", str(target)], out=io.StringIO()) == 0
    assert len(list(csv.DictReader(target.open(encoding="utf-8")))) == 61
    assert "wrote 61 article(s)" in capsys.readouterr().err

    assert main(["export", str(index), '"open'], out=io.StringIO()) != 0
    assert "unclosed quote" in capsys.readouterr().err


def test_cli_serve_refuses_a_missing_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("starlette")
    assert main(["serve", str(tmp_path / "nothing"), "--port", "0"], out=io.StringIO()) != 0
    assert "no index at" in capsys.readouterr().err


def test_cli_serve_runs_uvicorn_on_loopback_with_the_host_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("starlette")
    import uvicorn

    index = tmp_path / "ix"
    main(["index", str(index), str(searchlib.sample_corpus_path()), "-q"], out=io.StringIO())
    seen: dict[str, object] = {}

    def fake_run(app: object, **kwargs: object) -> None:
        seen.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    out = io.StringIO()
    assert main(["serve", str(index), "--port", "8123", "--allow-host", "news.example"], out=out) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert "http://127.0.0.1:8123/" in out.getvalue()
    from starlette.testclient import TestClient

    client = TestClient(seen["app"])  # type: ignore[arg-type]
    assert client.get("/syntax", headers={"host": "news.example"}).status_code == 200
    assert client.get("/syntax", headers={"host": "evil.example"}).status_code == 400
