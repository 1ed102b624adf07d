"""The one-pass views of several shards (:mod:`searchlib._whoosh.multi`) live no longer than their commits.

A :class:`~searchlib._whoosh.multi.Combined` view is kept between rounds while its shards
stay at the same commits; it must not keep a closed archive's files open or mapped (an
rmtree would not free the disk), nor the sidecars of a commit its shard has moved on from,
nor -- in an executor worker, where a "rank" task with hidden ids ranks through a one-shard
view -- the files of shards the worker has forgotten.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from searchlib import Article, Sort
from searchlib._whoosh import multi
from searchlib.archive import Archive, tasks
from searchlib.querying import _filters, _parse

pytestmark = pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/self")


def _articles(n: int, start: int = 0) -> list[Article]:
    return [
        Article(
            id=f"a{i:03d}",
            date=dt.date(2024, 1, 1) + dt.timedelta(days=i),
            title="report",
            body=f"strike port talks {i % 7}",
        )
        for i in range(start, start + n)
    ]


def _held(root: Path) -> list[str]:
    """Files under ``root`` this process has open or memory-mapped."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own fd)
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
    with open("/proc/self/maps", encoding="utf-8") as maps:
        found += [line.split(None, 5)[-1].strip() for line in maps if len(line.split(None, 5)) == 6]
    return sorted({f for f in found if f.startswith(str(root))})


@pytest.fixture
def views(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[weakref.ref[Any]]]:
    """Weak references to every view made during the test (none kept from earlier tests)."""
    made: list[weakref.ref[Any]] = []

    class Recorded(multi.Combined):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            made.append(weakref.ref(self))

    multi._KEPT.clear()
    monkeypatch.setattr(multi, "Combined", Recorded)
    yield made
    multi._KEPT.clear()


def _alive(made: list[weakref.ref[Any]]) -> list[Any]:
    gc.collect()
    return [v for v in (ref() for ref in made) if v is not None]


def _rank_args(archive: Archive, query: str, hidden: frozenset[str]) -> dict[str, Any]:
    plan = archive.ranking.plan(_parse(query, False)[0], _filters(None, None, (), None))
    return {
        "plan": plan,
        "query": query,
        "stats": None,
        "sort": Sort.NEWEST,
        "wanted": 5,
        "collapse": False,
        "recency": None,
        "facets": None,
        "hidden": hidden,
    }


def test_close_releases_every_file_the_views_used(tmp_path: Path, views: list[weakref.ref[Any]]) -> None:
    root = tmp_path / "a"
    archive = Archive.create(root, shard_by="hash", shards=3, executor="serial")
    archive.add(*_articles(120))
    assert archive.search("strike", limit=5).total == 120  # a round in this process: a view of 3 shards
    # an executor worker's "rank" task with hidden ids ranks through a one-shard view
    name = next(iter(archive.manifest.shards))
    hidden = frozenset(h.article.id for h in archive.search("strike", limit=120).hits[:40])
    page = tasks.run_task(
        str(archive._shard_path(name)), archive.ranking, "rank", _rank_args(archive, "strike", hidden)
    )
    assert page.total and not {h[1] for h in page.hits} & hidden
    assert len(_alive(views)) == 2
    assert any(path.endswith(".bin") for path in _held(root))  # sidecars mapped while open

    archive.close()
    del archive
    assert _alive(views) == []
    assert len(multi._KEPT) == 0
    assert _held(root) == []


def test_a_new_commit_replaces_the_view(tmp_path: Path, views: list[weakref.ref[Any]]) -> None:
    with Archive.create(tmp_path / "a", shard_by="hash", shards=3, executor="serial") as archive:
        archive.add(*_articles(60))
        assert archive.search("strike", limit=5).total == 60
        assert archive.search("port", limit=5).total == 60  # same commits: the same view
        assert len(_alive(views)) == 1
        archive.add(*_articles(1, start=60))  # a new commit of one shard
        assert archive.search("strike", limit=5).total == 61
        gc.collect()
        assert [ref() is not None for ref in views] == [False, True]  # the old view went with its commit
        assert len(multi._KEPT) == 1


def test_threads_share_the_views_while_a_writer_commits(tmp_path: Path, views: list[weakref.ref[Any]]) -> None:
    with Archive.create(tmp_path / "a", shard_by="hash", shards=3, executor="serial") as archive:
        archive.add(*_articles(60))
        errors: list[BaseException] = []
        totals: list[int] = []

        def search() -> None:
            try:
                for _ in range(30):
                    totals.append(archive.search("strike", limit=5).total)
            except BaseException as exc:  # reported below
                errors.append(exc)

        readers = [threading.Thread(target=search) for _ in range(4)]
        for thread in readers:
            thread.start()
        for i in range(10):
            archive.add(*_articles(1, start=60 + i))
        for thread in readers:
            thread.join()
        assert errors == []
        assert totals and all(60 <= t <= 70 for t in totals)
        assert archive.search("strike", limit=5).total == 70
        assert len(multi._KEPT) <= multi.KEEP
        assert len(_alive(views)) <= multi.KEEP  # the views of commits gone went with them


def test_up_to_keep_views_are_all_kept_and_the_least_recently_used_goes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bound of ``keep`` views keeps ``keep`` of them: with more than half of it in use, a
    negative slice bound once evicted views far below it (each rebuilt on its next search)."""

    class Layout:  # what a view is keyed by (a commit's layout), alive while the test holds it
        pass

    class Part:
        def __init__(self) -> None:
            self.layout = Layout()

    made: list[Any] = []

    class Fake:
        def __init__(self, parts: Any, hidden: Any) -> None:
            self.uses = 1
            made.append(self)

    monkeypatch.setattr(multi, "Combined", Fake)
    kept = multi._Kept(16)
    parts = [[Part(), Part()] for _ in range(20)]
    for pair in parts[:16]:
        kept.get(pair, [(), ()])
    assert len(kept) == 16
    for pair in parts[:16]:  # every one found again: none rebuilt
        kept.get(pair, [(), ()])
    assert len(made) == 16
    kept.get(parts[0], [(), ()])  # parts[0] most recently used: parts[1] goes first
    kept.get(parts[16], [(), ()])
    assert len(kept) == 16 and len(made) == 17
    kept.get(parts[0], [(), ()])
    assert len(made) == 17
    kept.get(parts[1], [(), ()])
    assert len(made) == 18
