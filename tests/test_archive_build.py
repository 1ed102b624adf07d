"""Archive ingest builds its shards in parallel: one task per shard on the archive's executor.

Builds on the process pool and in-process give what one index gives; moves (a changed date,
or one id sent to several shards by one input) end with one copy; a shard that fails to
build leaves the others committed and the manifest consistent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import searchlib
from searchlib import Article, Index, check_index
from searchlib.archive import Archive, build
from searchlib.archive.executor import Job, SerialExecutor
from searchlib.archive.manifest import read_manifest
from searchlib.errors import ArchiveError, StorageError
from tests.conftest import EXAMPLE

QUERIES = ["strike", '"wage talks" OR port', "entity:HRB", ""]


class Recording(SerialExecutor):
    """Runs jobs in this process and remembers them."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def run(self, jobs: Sequence[Job]) -> list[Any]:
        self.jobs += jobs
        return super().run(jobs)


def _same(archive: Archive, one: Index) -> None:
    assert len(archive) == len(one)
    for query in QUERIES:
        got = archive.search(query, limit=20, highlight=None)
        want = one.search(query, limit=20, highlight=None)
        assert got.total == want.total
        assert [(h.article.id, round(h.score, 9)) for h in got] == [(h.article.id, round(h.score, 9)) for h in want]
    assert archive.facets("") == one.facets("")


@pytest.mark.parametrize(("scheme", "shards"), [("month", 0), ("hash", 3)])
def test_one_build_task_per_shard(tmp_path: Path, corpus_index: Index, scheme: str, shards: int) -> None:
    executor = Recording()
    with Archive.create(tmp_path / "a", shard_by=scheme, shards=shards or 4, executor=executor) as archive:
        report = archive.ingest([searchlib.sample_corpus_path(), EXAMPLE])
        builds = [j for j in executor.jobs if j.kind == "build"]
        assert sorted(j.shard for j in builds) == list(archive.manifest.shards)
        assert not any(j.pinned for j in builds)  # Dask may balance builds over its workers
        assert (report.read, report.added, report.updated, report.unchanged) == (62, 62, 0, 0)
        _same(archive, corpus_index)
        assert not (archive.root / build.BUILD_DIR).exists()  # batch files are removed
        again = archive.ingest([searchlib.sample_corpus_path(), EXAMPLE])
        assert (again.added, again.updated, again.unchanged) == (0, 0, 62)
    for name in read_manifest(tmp_path / "a").shards:  # every shard is a valid index on its own
        assert check_index(tmp_path / "a" / "shards" / name).ok


def test_process_pool_build_equals_one_index(tmp_path: Path, corpus_index: Index) -> None:
    with Archive.create(tmp_path / "a", shard_by="year", executor="process") as archive:
        report = archive.ingest([searchlib.sample_corpus_path(), EXAMPLE], commit_every=10)
        assert report.added == 62 and archive.manifest.shards == ("2024", "2025")
        _same(archive, corpus_index)
    with Archive.open(tmp_path / "a", executor="serial") as archive:
        _same(archive, corpus_index)


def _write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_ingest_moves_articles_whose_date_changed(tmp_path: Path) -> None:
    with Archive.create(tmp_path / "a", shard_by="year", executor="serial") as archive:
        archive.add(
            Article(id="x", date="2023-02-01", body="Ferry strike."),
            Article(id="y", date="2023-03-01", body="Port news."),
        )
        feed = _write_jsonl(
            tmp_path / "feed.jsonl",
            [
                {"id": "x", "date": "2024-05-05", "body": "Ferry strike, later."},  # moves 2023 -> 2024
                {"id": "y", "date": "2023-03-01", "body": "Port news."},  # unchanged
                {"id": "z", "date": "2025-01-01", "body": "Harbour talks."},  # one input, two shards:
                {"id": "z", "date": "2024-01-01", "body": "Harbour talks, dated again."},  # the last wins
            ],
        )
        report = archive.ingest(feed)
        assert (report.read, report.added, report.updated, report.unchanged) == (4, 2, 1, 1)
        assert archive.get("x").date.year == 2024  # type: ignore[union-attr]
        assert archive.get("z").body == "Harbour talks, dated again."  # type: ignore[union-attr]
        assert archive.search("ferry").total == 1 and archive.search("harbour").total == 1
        m = archive.manifest
        assert not m.moving and m.shards == ("2023", "2024", "2025")
        assert len(archive) == 3
    assert check_index(tmp_path / "a").ok


def test_failed_shard_build_leaves_the_others_committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "a"
    with Archive.create(root, shard_by="year", executor="serial") as archive:
        archive.add(Article(id="x", date="2023-02-01", body="Ferry strike."))

    class FailingIndex:  # what the build tasks open: the 2024 shard cannot be written
        create = staticmethod(Index.create)

        @staticmethod
        def open(path: Any, **kw: Any) -> Index:
            if Path(path).name == "2024":
                raise StorageError("disk full", path=Path(path), operation="commit")
            return Index.open(path, **kw)

    monkeypatch.setattr(build, "Index", FailingIndex)
    feed = _write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {"id": "x", "date": "2024-05-05", "body": "Ferry strike, later."},  # would move to the failing shard
            {"id": "w", "date": "2025-01-01", "body": "Port talks."},
            {"id": "v", "date": "2024-01-01", "body": "Harbour news."},
        ],
    )
    with Archive.open(root, executor="serial") as archive:
        with pytest.raises(ArchiveError, match=r"2024.*failed to build.*disk full.*other shards are committed") as info:
            archive.ingest(feed)
        assert info.value.shard == "2024"
        assert archive.get("w") is not None  # the 2025 shard committed
        assert archive.get("v") is None
        assert archive.get("x").date.year == 2023  # type: ignore[union-attr]  # the move never happened
        assert archive.search("ferry").total == 1
        m = archive.manifest
        assert set(m.shards) == {"2023", "2024", "2025"} and m.moving == {"x": "2023"}
    monkeypatch.undo()
    with Archive.open(root, executor="serial") as archive:  # the next ingest finishes the job
        report = archive.ingest(feed)
        assert report.unchanged == 1 and archive.get("x").date.year == 2024  # type: ignore[union-attr]
        assert archive.search("ferry").total == 1 and len(archive) == 3 and not archive.manifest.moving
    assert check_index(root).ok
