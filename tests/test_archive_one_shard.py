"""A search the date filters prune to one shard pays what one index's search pays, no more (issue 13).

- A round whose plan scores nothing (a date range alone, filters only) reads only the shards
  it ranks: no other shard is read for statistics it would not use. A scored round still
  reads every shard (scores use statistics summed over all of them).
- A ranking round that fetches its page's articles takes their ids from the articles rather
  than decoding the id column.
- The manifest is parsed again only when ``archive.json`` was replaced: a commit that
  changes it is seen by the very next search, and an unchanged one is not read again.

Answers equal one index's throughout.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from searchlib import Article, Index
from searchlib._whoosh.engine import ColumnarSnapshot
from searchlib.archive import Archive, manifest
from searchlib.archive.executor import ProcessExecutor

WORDS = ["strike", "port", "talks", "wages", "union", "ferry"]


def _articles(n: int, first_year: int = 2019, years: int = 4) -> list[Article]:
    return [
        Article(
            id=f"a{(i * 37) % n:03d}",
            date=dt.date(first_year + i % years, 1 + i % 12, 1 + i % 28),
            title="report",
            body=f"{WORDS[i % 6]} {WORDS[(i * 5) % 6]} {WORDS[i % 4]} {i % 7}",
        )
        for i in range(n)
    ]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Index, Archive]]:
    articles = _articles(160)
    with Index.create(tmp_path / "one") as index, Archive.create(tmp_path / "a", executor="serial") as archive:
        index.add(*articles)
        archive.add(*articles)
        assert len(archive.manifest.shards) == 4
        yield index, archive


def _reads(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of reads per shard name from now on."""
    counted: Counter[str] = Counter()
    for name in archive.manifest.shards:
        engine = archive._shard(name)._engine
        read = engine.read

        def counting(operation: str, fn: Any, name: str = name, read: Any = read) -> Any:
            counted[name] += 1
            return read(operation, fn)

        monkeypatch.setattr(engine, "read", counting)
    return counted


def _same(a: Any, b: Any) -> None:
    assert a.total == b.total
    assert [h.article.id for h in a.hits] == [h.article.id for h in b.hits]
    assert [h.score for h in a.hits] == pytest.approx([h.score for h in b.hits], rel=1e-6)


EVERY = {"2019", "2020", "2021", "2022"}


@pytest.mark.parametrize(
    ("query", "date_from", "date_to", "targets", "scored"),
    [
        ("", "2020-02-01", "2020-09-30", {"2020"}, False),  # a date range alone: one shard
        ("", "2020-06-01", "2021-03-31", {"2020", "2021"}, False),  # two shards, nothing scored
        ("-strike", "2021-01-01", "2021-12-31", {"2021"}, False),  # only a NOT: nothing scored
        ("port", "2020-02-01", "2020-09-30", {"2020"}, True),  # scored: every shard's statistics
        ("talks OR ferry", "2022-01-01", "2022-12-31", {"2022"}, True),
    ],
)
def test_a_pruned_round_reads_only_the_shards_it_needs(
    pair: tuple[Index, Archive],
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    date_from: str,
    date_to: str,
    targets: set[str],
    scored: bool,
) -> None:
    index, archive = pair
    for limit, offset in [(10, 0), (5, 3), (0, 0)]:
        expected = index.search(query, date_from=date_from, date_to=date_to, limit=limit, offset=offset)
        counted = _reads(archive, monkeypatch)
        found = archive.search(query, date_from=date_from, date_to=date_to, limit=limit, offset=offset)
        _same(found, expected)
        assert expected.total > 0
        # a count (limit 0) scores nothing either
        assert set(counted) == (EVERY if scored and limit else targets), counted
        monkeypatch.undo()


def test_a_one_shard_round_takes_the_page_ids_from_its_articles(
    pair: tuple[Index, Archive], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, archive = pair
    expected = index.search("", date_from="2021-01-01", date_to="2021-12-31", limit=7)
    decoded: list[int] = []
    ids_of = ColumnarSnapshot.ids_of

    def counting(self: ColumnarSnapshot, docnums: Any) -> Any:
        decoded.append(len(docnums))
        return ids_of(self, docnums)

    monkeypatch.setattr(ColumnarSnapshot, "ids_of", counting)
    found = archive.search("", date_from="2021-01-01", date_to="2021-12-31", limit=7)
    _same(found, expected)
    assert len(found.hits) == 7
    assert decoded == []  # the fetched articles named the hits
    # a page too large to fetch with the ranking round still decodes its ids, with the same answer
    large = archive.search("", date_from="2021-01-01", date_to="2021-12-31", limit=300)
    _same(large, index.search("", date_from="2021-01-01", date_to="2021-12-31", limit=300))
    assert decoded


def test_the_manifest_is_parsed_again_only_when_replaced(
    pair: tuple[Index, Archive], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, archive = pair
    parsed: list[int] = []
    read_manifest = manifest.read_manifest

    def counting(root: Path) -> Any:
        parsed.append(1)
        return read_manifest(root)

    monkeypatch.setattr("searchlib.archive.archive.read_manifest", counting)
    for _ in range(3):
        archive.search("strike", date_from="2020-01-01", date_to="2020-12-31")
    assert parsed == []  # unchanged: one stat per check, no read
    late = Article(id="z999", date=dt.date(2025, 5, 5), title="report", body="strike strike ferry")
    # another process's writer adds a year shard: a new manifest, seen by the very next search
    with Archive.open(archive.root, executor="serial") as other:
        other.add(late)
    parsed.clear()  # (``other`` read it too)
    index.add(late)
    found = archive.search("strike", date_from="2025-01-01", date_to="2025-12-31")
    assert [h.article.id for h in found.hits] == ["z999"]
    assert archive.manifest.shards[-1] == "2025"
    assert len(parsed) == 1
    _same(archive.search("strike"), index.search("strike"))
    assert len(parsed) == 1


@pytest.mark.parametrize(("query", "scored"), [("", False), ("-strike", False), ("port", True)])
def test_a_thin_client_reads_no_shard(
    pair: tuple[Index, Archive], monkeypatch: pytest.MonkeyPatch, query: str, scored: bool
) -> None:
    index, archive = pair
    with Archive.open(archive.root, executor=ProcessExecutor(2), local_share=False) as thin:
        counted = _reads(thin, monkeypatch)
        for _ in range(2):  # statistics asked of the workers, then cached
            found = thin.search(query, date_from="2020-02-01", date_to="2021-09-30")
            _same(found, index.search(query, date_from="2020-02-01", date_to="2021-09-30"))
            assert found.total > 0
        # the shards' work, statistics included, runs on the workers: this process reads no shard
        assert set(counted) == set(), counted
        assert scored is bool(thin._stats_cache._entries)
