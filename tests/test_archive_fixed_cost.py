"""What a whole-archive search pays besides ranking (issue 13): work done once per commit or manifest, not per query.

- A kept :class:`~searchlib._whoosh.multi.Combined` view reads its page's article ids from one
  column of every id, built once for the view from the ``WHOLE_COLUMNS_FROM``-th round it
  serves, rather than decoding them segment by segment on every query; the answers stay the same.
  A date range alone walks that view's one order of every id (not one per segment).
- ``Archive.search`` checks the manifest twice (before asking the shards, for the alias table
  and the first attempt; and after), not three times.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from searchlib import Article, Index, Sort
from searchlib._whoosh import multi
from searchlib.archive import Archive
from searchlib.archive.manifest import Manifest


def _articles(n: int) -> list[Article]:
    return [
        Article(
            id=f"a{(i * 37) % n:03d}",  # ids not in document order: ties are broken by id
            date=dt.date(2024, 1, 1) + dt.timedelta(days=i % 40),
            title="report",
            body=f"strike port talks {'wages ' * (i % 3)}{i % 5}",
        )
        for i in range(n)
    ]


def _views() -> list[multi.Combined]:
    return [view for view, _ in multi._KEPT._views.values()]


@pytest.mark.parametrize("sort", [Sort.SCORE, Sort.NEWEST, Sort.OLDEST])
def test_a_reused_view_reads_ids_from_one_column_with_the_same_answers(tmp_path: Path, sort: Sort) -> None:
    multi._KEPT.clear()
    with Archive.create(tmp_path / "a", shard_by="hash", shards=3, executor="serial") as archive:
        archive.add(*_articles(60)[:30])
        archive.add(*_articles(60)[30:])  # two segments per shard
        first = archive.search("strike wages", sort=sort, limit=25)
        (view,) = _views()
        for _ in range(multi.WHOLE_COLUMNS_FROM - 2):
            assert archive.search("strike wages", sort=sort, limit=25) == first
        assert "id" not in view._lazy  # a view used a few times: decoded page by page, no column
        second = archive.search("strike wages", sort=sort, limit=25)
        assert _views() == [view] and view.uses == multi.WHOLE_COLUMNS_FROM
        assert "id" in view._lazy  # a view that keeps serving: the column of every id
        third = archive.search("port", sort=sort, limit=7, offset=3)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(multi, "WHOLE_COLUMNS_FROM", 10**9)
            assert archive.search("port", sort=sort, limit=7, offset=3) == third
        assert first == second
        assert [h.article.id for h in first] == [h.article.id for h in second]


@contextlib.contextmanager
def _beside_one_index(tmp_path: Path) -> Iterator[tuple[Archive, Index, list[Article]]]:
    """An empty archive of 3 hash shards (no views kept from other tests) and one index holding 60 articles."""
    multi._KEPT.clear()
    articles = _articles(60)
    with (
        Archive.create(tmp_path / "a", shard_by="hash", shards=3, executor="serial") as archive,
        Index.create(tmp_path / "one") as one,
    ):
        one.add(*articles)
        yield archive, one, articles


@pytest.mark.parametrize(("date_from", "date_to", "offset"), [("2024-01-05", "2024-01-30", 0), ("2024-01-01", None, 7)])
def test_a_reused_view_walks_one_id_order_for_a_date_range(
    tmp_path: Path, date_from: str, date_to: str | None, offset: int
) -> None:
    """A date range alone on a view that keeps serving walks one order of every id, not one per
    segment: the same page (article-id order) as a view used a few times and as one index."""
    with _beside_one_index(tmp_path) as (archive, one, articles):
        archive.add(*articles[:30])
        archive.add(*articles[30:])  # two segments per shard
        archive.delete("a037")  # a deleted document is walked past

        def page() -> list[str]:
            found = archive.search("", date_from=date_from, date_to=date_to, limit=12, offset=offset)
            return [h.article.id for h in found]

        one.delete("a037")
        want = [h.article.id for h in one.search("", date_from=date_from, date_to=date_to, limit=12, offset=offset)]
        assert want == sorted(want) and "a037" not in want and len(want) == 12
        assert page() == want  # a new view: each segment's id order, the picks sorted by id
        for _ in range(multi.WHOLE_COLUMNS_FROM):
            assert page() == want
        (view,) = _views()
        assert "id_order" in view._lazy  # a view that keeps serving: one order of every id


def test_a_view_keeps_each_plans_summed_statistics_for_its_commits(tmp_path: Path) -> None:
    """A whole-archive search sums every shard's statistics once per plan and view (the commits
    it was made of): later searches of that plan reuse the sums, other plans and later commits
    do not -- the scores stay one index's."""
    with _beside_one_index(tmp_path) as (archive, one, articles):
        archive.add(*articles)

        def scores(target: Any, query: str) -> list[tuple[str, float]]:
            return [(h.article.id, round(h.score, 9)) for h in target.search(query, limit=60)]

        for query in ["strike wages", "port", "strike wages", "talks OR wages"]:
            assert scores(archive, query) == scores(one, query)
        (view,) = _views()
        assert len(view._lazy["summed_stats"]) == 3  # one sum per plan
        with pytest.MonkeyPatch.context() as mp:  # a sum of more words than a view keeps: summed each time
            mp.setattr(multi, "SUMMED_MAX_KEYS", 1)
            assert scores(archive, "strike OR port") == scores(one, "strike OR port")
        assert len(view._lazy["summed_stats"]) == 3
        archive.delete("a037")  # a new commit: a new view, new sums
        one.delete("a037")
        for query in ["strike wages", "port"]:
            assert scores(archive, query) == scores(one, query)


def test_search_checks_the_manifest_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Archive.create(tmp_path / "a", shard_by="hash", shards=3, executor="serial") as archive:
        archive.add(*_articles(20))
        archive.search("strike")
        calls: list[Manifest] = []
        current = archive._current

        def counted() -> Manifest:
            calls.append(current())
            return calls[-1]

        monkeypatch.setattr(archive, "_current", counted)
        results: Any = archive.search("strike", limit=5)
        assert results.total == 20
        assert len(calls) == 2  # before (alias table and first attempt) and after
