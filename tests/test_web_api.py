"""The web server through Starlette's test client: JSON API, pages, exports, safety limits and errors."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

import searchlib
from tests.conftest import require

require("starlette")
require("httpx2")

from starlette.testclient import TestClient  # noqa: E402

from searchlib.web import create_app  # noqa: E402
from searchlib.web.params import MAX_PAGE_SIZE, MAX_QUERY_CHARS  # noqa: E402


@pytest.fixture(scope="module")
def demo() -> Iterator[searchlib.Index]:
    ix = searchlib.Index.in_memory()
    ix.ingest(searchlib.sample_corpus_path())
    yield ix
    ix.close()


@pytest.fixture(scope="module")
def client(demo: searchlib.Index) -> TestClient:
    return TestClient(create_app(demo, allowed_hosts=["testserver"]), raise_server_exceptions=True)


def _json(client: TestClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


# --- JSON API: each endpoint mirrors the Index method it names -------------------------------


def test_api_search_mirrors_index_search(client: TestClient, demo: searchlib.Index) -> None:
    data = _json(client, "/api/search?q=strike&from=2025-03&sort=newest&size=3&page=2")
    expected = demo.search("strike", date_from="2025-03", sort=searchlib.Sort.NEWEST, limit=3, page=2)
    assert data["total"] == expected.total
    assert [h["article"]["id"] for h in data["hits"]] == [h.article.id for h in expected]
    assert data["offset"] == 3 and data["limit"] == 3
    first = data["hits"][0]
    assert first["rank"] == 4 and first["article"]["date"] == expected[0].article.date.isoformat()
    assert isinstance(first["article"]["entities"], list) and first["article"]["entities"][0]["kind"] in (
        "person",
        "org",
        "place",
        "other",
    )
    assert first["snippets"][0]["spans"]  # snippets are data: text and spans


def test_api_search_filters_entities_kinds_and_source(client: TestClient, demo: searchlib.Index) -> None:
    data = _json(client, "/api/search?entity=HRB&source=Baltic+Ledger")
    assert data["total"] == demo.search("", entities=["HRB"], source="Baltic Ledger").total
    people = _json(client, "/api/search?person=Halina+Wrzosek")
    assert people["total"] == demo.search('person:"Halina Wrzosek"').total > 0


def test_api_facets_timeline_related_article_suggest(client: TestClient, demo: searchlib.Index) -> None:
    facets = _json(client, "/api/facets?q=strike&size=3")
    assert facets["entities"] == [{"value": f.value, "count": f.count} for f in demo.facets("strike", size=3).entities]
    assert facets["date_bucket"] == "month"

    timeline = _json(client, "/api/timeline?q=inflation&bucket=year")
    expected = demo.timeline("inflation", bucket=searchlib.DateBucket.YEAR)
    assert timeline == {
        "query": "inflation",
        "bucket": "year",
        "points": [{"value": p.value, "count": p.count} for p in expected.points],
    }
    assert timeline["points"] and timeline["points"][0]["count"] > 0

    related = _json(client, "/api/related?q=entity:HRB&size=2")
    assert related[0]["name"] == demo.related_entities("entity:HRB", size=2)[0].name
    assert set(related[0]) == {"name", "count", "background", "score"}

    article = _json(client, "/api/articles/wire-0011")
    assert article["id"] == "wire-0011" and article["date"] == "2025-04-09" and article["entities"]

    assert _json(client, "/api/suggest?q=inflaton") == {"query": "inflaton", "suggestion": "inflation"}
    stats = _json(client, "/api/stats")
    assert stats["documents"] == 61 and stats["first_date"] == "2025-01-08"

    similar = _json(client, "/api/similar/wire-0006?size=3")
    assert [h["article"]["id"] for h in similar["hits"]] == [
        h.article.id for h in demo.more_like_this("wire-0006", limit=3)
    ]
    assert client.get("/api/similar/nope").status_code == 404

    groups = _json(client, "/api/duplicates?q=Porto")
    assert [[a["id"] for a in g["articles"]] for g in groups] == [
        [a.id for a in g.articles] for g in demo.duplicates("Porto")
    ]
    assert groups and _json(client, "/api/duplicates?q=(Porto&lenient=1") == groups


def test_api_query_errors_are_400_with_position_unless_lenient(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": 'talks "hostage'})
    assert response.status_code == 400
    assert response.json() == {
        "error": "query error: unclosed quote",
        "status": 400,
        "position": 6,
        "reason": "unclosed quote",
    }
    lenient = _json(client, "/api/search?" + "q=talks+%22hostage&lenient=1")
    assert lenient["notice"].startswith("unclosed quote at position 6")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/api/search?size=0", "'size' must be between 1 and 100"),
        (f"/api/search?size={MAX_PAGE_SIZE + 1}", "'size' must be between"),
        ("/api/search?page=x", "'page' must be a whole number"),
        ("/api/search?page=1001", "'page' must be between 1 and 1000"),
        ("/api/search?from=2025-13", "'from' must be a date"),
        ("/api/search?from=2025-06&to=2025-05", "is after"),
        ("/api/search?sort=random", "'sort' must be one of"),
        ("/api/search?bucket=week", "'bucket' must be one of"),
        ("/api/search?q=a&q=b", "'q' given 2 times"),
        ("/api/search?frm=2025", "unknown parameter 'frm'"),
        ("/api/search?lenient=yes", "'lenient' must be 0 or 1"),
        (f"/api/search?q={'x' * (MAX_QUERY_CHARS + 1)}", f"longer than {MAX_QUERY_CHARS}"),
        ("/api/search?q=%00", "NUL"),
        ("/api/search?" + "&".join(["entity=x"] * 11), "more than 10 times"),
        ('/api/search?person=a"b', "double quote"),
        ("/api/timeline?q=date:2024-13-45", "query error"),
    ],
)
def test_bad_requests_get_400_with_the_reason(client: TestClient, url: str, reason: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_unknown_article_and_entity_are_404(client: TestClient) -> None:
    assert client.get("/api/articles/nope").status_code == 404
    page = client.get("/entity/Nobody%20At%20All")
    assert page.status_code == 404 and "Nobody At All" in page.text


# --- pages ---------------------------------------------------------------------------------


def test_search_page_shows_hits_facets_timeline_and_keeps_state_in_links(client: TestClient) -> None:
    page = client.get("/?q=strike&sort=newest&size=5&entity=Gda%C5%84sk")
    assert page.status_code == 200
    html = page.text
    assert "<mark>strike</mark>" in html or "<mark>strikes</mark>" in html
    assert 'id="facet-entities"' in html and '<svg class="timeline"' in html
    # every link keeps the state: the next page link carries query, sort, size and filter
    nxt = re.search(r'rel="next" href="([^"]+)"', html)
    assert nxt is not None
    link = nxt.group(1).replace("&amp;", "&")
    assert "q=strike" in link and "sort=newest" in link and "size=5" in link and "page=2" in link
    assert "entity=Gda%C5%84sk" in link
    assert 'href="/export.csv?q=strike' in html


def test_unparsable_query_is_searched_as_words_with_a_notice(client: TestClient, demo: searchlib.Index) -> None:
    html = client.get("/", params={"q": '"wage talks'}).text
    assert "unclosed quote" in html and 'id="notice"' in html
    total = demo.search("wage talks").total
    assert f"{total} match" in html


def test_did_you_mean(client: TestClient) -> None:
    html = client.get("/?q=inflaton").text
    assert 'id="suggestion"' in html and "q=inflation" in html


def test_article_page_highlights_and_lists_entities_duplicates_and_similar(client: TestClient) -> None:
    html = client.get("/article/wire-0011?q=election").text
    assert "<mark>election</mark>" in html
    assert 'href="/entity/Beatriz%20Sousa%20Lemos"' in html
    copies = html.split('id="copies"', 1)[1].split("</ul>", 1)[0]
    assert 'href="/article/ddb9dfb97f3f7c20"' in copies  # its near-duplicate
    similar = html.split('id="similar"', 1)[1].split("</ul>", 1)[0]
    assert "<li><a href=" in similar


def test_entity_page_by_alias_shows_canonical_name_timeline_related_articles(
    client: TestClient, demo: searchlib.Index
) -> None:
    html = client.get("/entity/HRB").text
    assert "Hanseatic Reserve Bank" in html and '<svg class="timeline"' in html
    assert "Margit van der Sloot" in html.split('id="related"', 1)[1]
    total = demo.search("", entities=["Hanseatic Reserve Bank"]).total
    assert f"Named in {total} articles" in html
    assert "“HRB” is filed under Hanseatic Reserve Bank" in html


def test_everything_user_supplied_is_escaped(client: TestClient) -> None:
    evil = "<script>alert(1)</script>"
    for url in (f"/?q={evil}", f"/?source={evil}", f"/entity/{evil}", f"/?q=x&from={evil}"):
        response = client.get(url)
        assert "<script>" not in response.text, url
        assert "&lt;script&gt;" in response.text, url


# --- exports ---------------------------------------------------------------------------------


def test_export_streams_every_match_not_one_page(client: TestClient, demo: searchlib.Index) -> None:
    expected = demo.search("", limit=1000, highlight=None)
    assert expected.total > 20
    with client.stream("GET", "/export.jsonl?size=5&page=3") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert "attachment" in response.headers["content-disposition"]
        rows = [json.loads(line) for line in response.iter_lines() if line]
    assert [r["id"] for r in rows] == [h.article.id for h in expected]
    assert rows[0]["rank"] == 1 and isinstance(rows[0]["entities"], list)

    text = client.get("/export.csv?q=strike&sort=oldest").text
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in table] == [
        h.article.id for h in demo.search("strike", sort=searchlib.Sort.OLDEST, limit=100)
    ]
    assert table[0]["date"] <= table[-1]["date"] and "strike" in text


# --- safety ---------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.nip.io"])
def test_dns_rebinding_host_header_is_rejected(demo: searchlib.Index, host: str) -> None:
    client = TestClient(create_app(demo))  # default: loopback names only
    response = client.get("/api/search?q=strike", headers={"host": host})
    assert response.status_code == 400 and "Host header" in response.text


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "localhost", "[::1]:8080"])
def test_loopback_host_headers_are_served(demo: searchlib.Index, host: str) -> None:
    client = TestClient(create_app(demo))
    assert client.get("/api/search?q=strike", headers={"host": host}).status_code == 200


def test_read_only_no_cors_and_security_headers(client: TestClient) -> None:
    assert client.post("/api/search?q=x").status_code == 405
    assert client.delete("/api/articles/wire-0011").status_code == 405
    response = client.get("/api/search?q=x", headers={"origin": "http://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none': no scripts
    assert response.headers["x-content-type-options"] == "nosniff"


def test_busy_server_answers_503(demo: searchlib.Index) -> None:
    app = create_app(demo, allowed_hosts=["testserver"], max_pending=1)
    client = TestClient(app)
    with app.state.gate.guard():  # one request's work already in progress
        response = client.get("/api/search?q=strike")
    assert response.status_code == 503 and "busy" in response.json()["error"]
    assert client.get("/api/search?q=strike").status_code == 200


# --- README examples of the API are real -------------------------------------------------------


def test_readme_api_examples_answer(client: TestClient) -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    urls = re.findall(r"curl -s '?http://127\.0\.0\.1:8080(/[^' \n]+)'?", readme)
    paths = {u.split("?")[0] for u in urls}
    assert {"/api/search", "/api/facets", "/api/timeline", "/api/related", "/api/suggest", "/api/duplicates"} <= paths
    assert any(p.startswith("/api/similar/") for p in paths)
    assert any(p.startswith("/api/articles/") for p in paths)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_concurrent_requests_share_the_index(demo: searchlib.Index) -> None:
    """The endpoints run in a thread pool on one Index (safe to share between threads): answers stay exact."""
    import concurrent.futures

    require("uvicorn")
    import httpx2

    from searchlib.web import running

    queries = ["strike", "inflation", "entity:HRB", "wage talks", "Porto", "water rationing"] * 4
    expected = {q: demo.search(q).total for q in queries}
    with running(demo) as base, httpx2.Client(base_url=base) as http:

        def total(q: str) -> int:
            response = http.get("/api/search", params={"q": q})
            assert response.status_code == 200, response.text  # 6 threads < 8 places: never busy
            return int(response.json()["total"])

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            assert list(pool.map(total, queries)) == [expected[q] for q in queries]


def test_pages_show_new_commits_while_serving() -> None:
    with searchlib.Index.in_memory() as ix:
        ix.add(searchlib.Article(id="one", date="2025-01-01", body="Herring quotas were cut in the Baltic."))
        client = TestClient(create_app(ix, allowed_hosts=["testserver"]))
        assert _json(client, "/api/search?q=herring")["total"] == 1
        ix.add(searchlib.Article(id="two", date="2025-01-02", body="Herring prices rose after the quota cut."))
        assert _json(client, "/api/search?q=herring")["total"] == 2
        assert "Herring prices rose" in client.get("/article/two").text
