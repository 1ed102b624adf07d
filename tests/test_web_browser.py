"""The web pages in a real headless browser (Debian's chromium driven by Playwright), used like a person would.

Locally these skip when Playwright or chromium is missing; with ``CI=true`` they fail instead
(``.ci/run`` installs both). One browser serves the whole module to keep it quick.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import searchlib
from tests.conftest import require

require("starlette")
require("playwright")

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from searchlib.web import running  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    found = os.environ.get("SEARCHLIB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "chromium is not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    ix = searchlib.Index.in_memory()
    ix.ingest(searchlib.sample_corpus_path())
    with running(ix) as url:
        yield url
    ix.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, accept_downloads=True, java_script_enabled=False)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def _total(page: Page) -> int:
    match = re.match(r"([\d,]+) match", page.inner_text("#summary"))
    assert match, page.inner_text("#summary")
    return int(match.group(1).replace(",", ""))


def test_search_facet_page_and_timeline(page: Page, base_url: str) -> None:
    page.goto("/")
    page.fill("#q", "strike")
    page.press("#q", "Enter")
    expect(page).to_have_url(f"{base_url}/?q=strike")
    assert _total(page) == 12
    expect(page.locator("li.hit mark").first).to_be_visible()

    # click an entity facet: the search narrows and the filter shows as a removable chip
    facet = page.locator("#facet-entities a", has_text="Hamburg")
    count = int(facet.locator("xpath=following-sibling::span").inner_text())
    facet.click()
    expect(page).to_have_url(re.compile(r"entity=Hamburg"))
    assert _total(page) == count == 8
    expect(page.locator(".active .chip", has_text="Hamburg")).to_be_visible()

    # a bar of the timeline narrows the dates
    page.locator("svg.timeline a").first.click()
    expect(page).to_have_url(re.compile(r"from=2025-\d\d&to=2025-\d\d"))
    assert 0 < _total(page) < count

    # removing the chips brings everything back
    page.click("text=clear filters")
    assert _total(page) == 12


def test_paging_sort_and_settings_live_in_the_url(page: Page) -> None:
    page.goto("/")
    page.select_option("select[name=sort]", "newest")
    page.select_option("select[name=size]", "20")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/\?sort=newest&size=20$"))
    first_dates = page.locator("li.hit time").all_inner_texts()
    assert first_dates == sorted(first_dates, reverse=True) and len(first_dates) == 20
    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(r"page=2"))
    assert page.locator("ol.hits").get_attribute("start") == "21"
    later = page.locator("li.hit time").all_inner_texts()
    assert max(later) <= min(first_dates)
    url = page.url
    page.goto(url)  # a bookmarked URL gives the same page
    assert page.locator("li.hit time").all_inner_texts() == later


def test_bad_query_notice_and_did_you_mean(page: Page) -> None:
    page.goto("/")
    page.fill("#q", '"wage talks')
    page.press("#q", "Enter")
    expect(page.locator("#notice")).to_contain_text("unclosed quote")
    assert _total(page) > 0
    page.fill("#q", "inflaton")
    page.press("#q", "Enter")
    page.click("#suggestion a")
    assert _total(page) > 0 and page.input_value("#q") == "inflation"


def test_article_then_entity_then_related(page: Page) -> None:
    page.goto("/?q=election")
    page.locator("li.hit a.title").first.click()
    expect(page).to_have_url(re.compile(r"/article/.+\?q=election"))
    expect(page.locator("#article-body mark").first).to_have_text(re.compile("election", re.I))
    expect(page.locator("#copies li a").first).to_be_visible()  # the demo's Porto story has a wire copy
    page.locator("#similar li a").first.click()
    expect(page.locator("#article-title")).to_be_visible()

    page.goto("/article/wire-0011")
    page.locator("#article-entities a", has_text="Beatriz Sousa Lemos").click()
    expect(page.locator("#entity-name")).to_contain_text("Beatriz Sousa Lemos")
    expect(page.locator("#entity-summary")).to_contain_text("Named in")
    expect(page.locator("svg.timeline")).to_be_visible()
    related = page.locator("#related a").first
    name = related.inner_text()
    related.click()
    expect(page.locator("#entity-name")).to_contain_text(name)


def test_follow_export(page: Page, tmp_path: Path) -> None:
    page.goto("/?q=strike&sort=oldest")
    with page.expect_download() as info:
        page.click("#export-csv")
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 12 and [r["date"] for r in rows] == sorted(r["date"] for r in rows)

    with page.expect_download() as info:
        page.click("#export-jsonl")
    assert info.value.suggested_filename == "searchlib-export.jsonl"


def test_errors_are_pages_not_crashes(page: Page) -> None:
    response: Any = page.goto("/?page=0")
    assert response.status == 400
    expect(page.locator("#reason")).to_contain_text("'page' must be between 1 and 1000")
    response = page.goto("/article/no-such-id")
    assert response.status == 404
