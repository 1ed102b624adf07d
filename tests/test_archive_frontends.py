"""Archives behind every front end: similar, duplicates, suggest, lenient queries and type checks
(API), the CLI's similar/duplicates/export/get, the REPL and the web app (Starlette TestClient)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import searchlib
from searchlib import Article, DocumentNotFoundError, Index, QuerySyntaxError
from searchlib.archive import Archive, open_any
from searchlib.cli import main
from searchlib.repl import run_repl
from tests.conftest import EXAMPLE, require

QUERIES = ["strike", '"wage talks" OR port', "", "entity:HRB", "interest rates -bank"]
MISSPELT = ["negotations", "strke talks", "interst rates", "wage", 'title:strke "port"']


@pytest.fixture(scope="module", params=[("month", 0), ("hash", 3)], ids=["month", "hash3"])
def archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    scheme, shards = request.param
    root = tmp_path_factory.mktemp("archive") / scheme
    with Archive.create(root, shard_by=scheme, shards=shards or 4, executor="serial") as built:
        built.ingest([searchlib.sample_corpus_path(), EXAMPLE])
        yield built


def _groups(groups: Any) -> list[tuple[str, ...]]:
    return [tuple(a.id for a in g.articles) for g in groups]


@pytest.mark.parametrize("query", ["", "strike", "port OR ferry"])
def test_duplicates_equal_one_index(archive: Archive, corpus_index: Index, query: str) -> None:
    want = corpus_index.duplicates(query)
    got = archive.duplicates(query)
    if archive.manifest.scheme == "hash":  # copies are grouped within a shard: hashing splits some groups
        assert all(any(set(g) <= set(w) for w in _groups(want)) for g in _groups(got))
        return
    assert sorted(_groups(got)) == sorted(_groups(want))
    assert [len(g.articles) for g in got] == sorted((len(g.articles) for g in got), reverse=True)
    assert archive.duplicates(query, size=1) == got[:1]


@pytest.mark.parametrize("query", MISSPELT)
def test_suggest_equals_one_index(archive: Archive, corpus_index: Index, query: str) -> None:
    assert archive.suggest(query) == corpus_index.suggest(query)


def test_suggest_needs_the_word_missing_from_every_shard(tmp_path: Path) -> None:
    with Archive.create(tmp_path / "a", shard_by="year", executor="serial") as archive:
        archive.add(
            Article(id="1", date="2023-01-01", body="Harbour strike."),
            Article(id="2", date="2024-01-01", body="Harbor news."),
        )
        assert archive.suggest("harbor") is None  # held by the 2024 shard, though not by 2023's
        assert archive.suggest("harbpur") == "harbour"


def test_more_like_this_leaves_out_the_article_and_its_copies(archive: Archive, corpus_index: Index) -> None:
    for doc_id in [h.article.id for h in corpus_index.search("strike OR port", limit=6, highlight=None)]:
        got = archive.more_like_this(doc_id, limit=5)
        want = corpus_index.more_like_this(doc_id, limit=5)
        copies = {a.id for g in archive.duplicates(f'id:"{doc_id}"') for a in g.articles}
        ids = [h.article.id for h in got]
        assert doc_id not in ids and not copies & set(ids)
        assert got.query == f"like:{doc_id}" and [h.rank for h in got] == list(range(1, len(ids) + 1))
        assert [h.score for h in got] == sorted((h.score for h in got), reverse=True)
        # Same key terms, archive-wide statistics: the same neighbourhood as one index.
        assert len(set(ids) & {h.article.id for h in want}) >= min(3, len(want.hits)), (doc_id, ids, want)
    with pytest.raises(DocumentNotFoundError):
        archive.more_like_this("no-such-id")
    assert archive.more_like_this(doc_id, limit=0).hits == ()


def test_lenient_queries_and_their_notice(archive: Archive, corpus_index: Index) -> None:
    bad = 'strike AND ("port'
    with pytest.raises(QuerySyntaxError):
        archive.search(bad)
    got = archive.search(bad, lenient=True, highlight=None)
    want = corpus_index.search(bad, lenient=True, highlight=None)
    assert got.notice == want.notice and got.notice
    assert got.total == want.total and [h.article.id for h in got] == [h.article.id for h in want]
    assert archive.facets(bad, lenient=True).dates == corpus_index.facets(bad, lenient=True).dates
    assert archive.timeline(bad, lenient=True) == corpus_index.timeline(bad, lenient=True)
    assert archive.related_entities(bad, lenient=True) == corpus_index.related_entities(bad, lenient=True)
    assert archive.suggest("strke AND (", lenient=True) == corpus_index.suggest("strke AND (", lenient=True)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: a.search("x", date_from=20250301), "date_from must be"),
        (lambda a: a.search("x", limit="3"), "limit must be int"),
        (lambda a: a.search(["x"]), "query must be str"),
        (lambda a: a.search("x", entities="HRB"), "entities must be"),
        (lambda a: a.timeline("x", bucket=3), "bucket must be"),
        (lambda a: a.get(7), "doc_id must be str"),
        (lambda a: a.more_like_this("x", limit=None), "limit must be int"),
        (lambda a: a.duplicates(size="2"), "size must be int"),
    ],
)
def test_archive_checks_argument_types_like_index(archive: Archive, call: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        call(archive)


def test_open_any_tells_archives_from_indexes(archive: Archive, tmp_path: Path) -> None:
    with open_any(archive.root) as opened:
        assert isinstance(opened, Archive) and len(opened) == 62
    Index.create(tmp_path / "ix").close()
    with open_any(tmp_path / "ix") as opened:
        assert isinstance(opened, Index)


# --- the command line ------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_cli_similar_duplicates_get_export_on_an_archive(archive: Archive, corpus_index: Index) -> None:
    root = str(archive.root)
    code, text = run("duplicates", root, "--json")
    groups = _groups(archive.duplicates())
    assert code == (0 if groups else 1)  # hash shards may split every copy from its original
    assert sorted(tuple(a["id"] for a in json.loads(g)["articles"]) for g in text.splitlines()) == sorted(
        _groups(archive.duplicates())
    )
    doc_id = corpus_index.search("strike", limit=1).hits[0].article.id
    code, text = run("similar", root, doc_id, "--json", "-n", "4")
    assert code == 0
    assert [h["article"]["id"] for h in json.loads(text)["hits"]] == [
        h.article.id for h in archive.more_like_this(doc_id, limit=4)
    ]
    code, text = run("get", root, doc_id, "--json")
    assert code == 0 and json.loads(text)["id"] == doc_id
    code, text = run("export", root, "strike OR port", "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in text.splitlines()]
    want = corpus_index.search("strike OR port", limit=1000, highlight=None)
    assert [r["id"] for r in rows] == [h.article.id for h in want]
    assert [r["score"] for r in rows] == [round(h.score, 4) for h in want]
    code, text = run("export", root, "port", "--format", "csv", "--sort", "newest")
    assert code == 0 and text.count("\n") >= corpus_index.search("port", limit=0).total + 1


def test_repl_on_an_archive(archive: Archive) -> None:
    out = io.StringIO()
    lines = ["strike", ":like 1", ":show 1", ":more", ":dups id:wire-0011", ":timeline", "strke", ":stats", ":quit"]
    run_repl(archive, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out, limit=2)
    text = out.getvalue()
    assert f"62 articles in {archive.root}" in text
    assert "showing 3-4" in text
    assert "Did you mean: strike" in text
    assert "error" not in text.lower() and "no hit" not in text, text
    groups = archive.duplicates("id:wire-0011")
    assert ("No near-duplicates" in text) == (not groups) == (archive.manifest.scheme == "hash")
    assert all(f"{len(g.articles)} copies of: {g.original.title}" in text for g in groups)


def test_cli_repl_opens_an_archive(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("port\n"))
    code, text = run("repl", str(archive.root))
    assert code == 0 and "62 articles" in text and "match(es)" in text


# --- the web app -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(archive: Archive) -> Any:  # the app reads the archive from request threads
    require("starlette")
    require("httpx2")
    from starlette.testclient import TestClient

    from searchlib.web import create_app

    return TestClient(create_app(archive, allowed_hosts=["testserver"]), raise_server_exceptions=True)


def test_web_api_on_an_archive(client: Any, archive: Archive, corpus_index: Index) -> None:
    def get(url: str) -> Any:
        response = client.get(url)
        assert response.status_code == 200, response.text
        return response.json()

    data = get("/api/search?q=strike&from=2025-03&sort=newest&size=3&page=2")
    want = corpus_index.search("strike", date_from="2025-03", sort="newest", limit=3, page=2)
    assert data["total"] == want.total and [h["article"]["id"] for h in data["hits"]] == [h.article.id for h in want]
    assert get("/api/suggest?q=strke")["suggestion"] == "strike"
    assert get("/api/stats")["documents"] == 62
    doc_id = want.hits[0].article.id
    assert get(f"/api/articles/{doc_id}")["id"] == doc_id
    assert doc_id not in [h["article"]["id"] for h in get(f"/api/similar/{doc_id}")["hits"]]
    assert len(get("/api/duplicates")) == len(archive.duplicates())
    assert get("/api/timeline?q=strike")["points"] == [
        {"value": p.value, "count": p.count} for p in corpus_index.timeline("strike").points
    ]
    assert client.get('/api/search?q=strike+AND+("port').status_code == 400
    assert get('/api/search?q=strike+AND+("port&lenient=1')["notice"]
    assert client.get("/api/similar/no-such-id").status_code == 404
    export = client.get("/export.jsonl?q=port")
    assert export.status_code == 200 and len(export.text.splitlines()) == corpus_index.search("port").total


def test_web_pages_on_an_archive(client: Any, corpus_index: Index) -> None:
    page = client.get("/?q=strike")
    assert page.status_code == 200 and "strike" in page.text.lower()
    doc_id = corpus_index.search("strike", limit=1).hits[0].article.id
    article = client.get(f"/article/{doc_id}")
    assert article.status_code == 200 and corpus_index.get(doc_id).title in article.text  # type: ignore[union-attr]


def test_cli_get_and_delete_on_an_archive(tmp_path: Path) -> None:
    root = tmp_path / "a"
    with Archive.create(root, shard_by="year", executor="serial") as archive:
        archive.add(Article(id="x", date="2023-01-01", body="Ferry."), Article(id="y", date="2024-01-01", body="Port."))
    code, text = run("delete", str(root), "x", "nope", "--json")
    assert code == 0 and json.loads(text) == {"deleted": 1, "requested": 2}
    assert run("get", str(root), "x")[0] != 0
    code, text = run("get", str(root), "y", "--json")
    assert code == 0 and json.loads(text)["body"] == "Port."
