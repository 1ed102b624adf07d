"""Index lifecycle, writers, locking, upserts, and errors with context."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

import searchlib
from searchlib import Article, Index


def art(doc_id: str, body: str = "Hostage talks resumed.", date: str = "2024-05-06") -> Article:
    return Article(id=doc_id, date=date, body=body)


def test_create_open_and_persist(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(art("1"), art("2", "Dock strike."))
    with Index.open(path) as ix:
        assert len(ix) == 2 and ix.get("2").body == "Dock strike."  # type: ignore[union-attr]
        assert ix.stats().documents == 2 and ix.stats().path == str(path)
    with pytest.raises(searchlib.IndexExistsError):
        Index.create(path)
    with Index.create(path, overwrite=True) as ix:
        assert len(ix) == 0


def test_open_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(searchlib.IndexNotFoundError, match="does not exist") as info:
        Index.open(tmp_path / "missing")
    assert info.value.path == tmp_path / "missing"
    with pytest.raises(searchlib.IndexNotFoundError):
        Index.open(tmp_path)
    Index.create(tmp_path / "old").close()
    marker = tmp_path / "old" / "searchlib.json"
    marker.write_text(json.dumps({"format": 0}))
    with pytest.raises(searchlib.IncompatibleIndexError, match="format 0"):
        Index.open(tmp_path / "old")
    with Index.open(tmp_path / "new", create=True) as ix:
        assert len(ix) == 0


def test_writer_context_commits_or_cancels() -> None:
    ix = Index.in_memory()
    with ix.writer() as w:
        w.add(art("1"))
    with pytest.raises(RuntimeError), ix.writer() as w:
        w.add(art("2"))
        raise RuntimeError("boom")
    assert [h.article.id for h in ix.search("")] == ["1"]
    w = ix.writer()
    w.commit()
    with pytest.raises(searchlib.IndexClosedError):
        w.add(art("3"))


def test_upserts_leave_one_copy_the_latest() -> None:
    ix = Index.in_memory()
    with ix.writer() as w:
        w.add(art("1", "first"))
        w.add(art("1", "second"))
        w.add(art("1", "third"))
    with ix.writer() as w:
        w.add(art("1", "fourth"))
        w.add(art("1", "fifth"))
    assert len(ix) == 1 and ix.get("1").body == "fifth"  # type: ignore[union-attr]
    assert ix.search("fifth").total == 1 and ix.search("third").total == 0


def test_update_requires_an_existing_id_and_delete_reports() -> None:
    ix = Index.in_memory()
    ix.add(art("1"))
    with ix.writer() as w:
        w.update(art("1", "changed"))
        with pytest.raises(searchlib.DocumentNotFoundError) as info:
            w.update(art("nope"))
        assert info.value.id == "nope"
    assert ix.get("1").body == "changed"  # type: ignore[union-attr]
    assert ix.delete("1", "nope") == 1 and len(ix) == 0
    with ix.writer() as w:
        w.add(art("2"))
        assert w.delete("2")
    assert len(ix) == 0


def test_second_writer_is_told_who_holds_the_lock(tmp_path: Path) -> None:
    ix = Index.create(tmp_path / "ix")
    other = Index.open(tmp_path / "ix")
    with ix.writer():
        with pytest.raises(searchlib.IndexLockedError) as info:
            other.writer()
        assert info.value.holder is not None and "pid" in str(info.value)
        with pytest.raises(searchlib.IndexLockedError, match=r"after waiting 0\.2 s"):
            other.writer(timeout=0.2)
    with other.writer() as w:  # released on commit
        w.add(art("1"))
    assert len(ix) == 1


def test_readers_follow_commits(tmp_path: Path) -> None:
    writer_ix = Index.create(tmp_path / "ix")
    reader_ix = Index.open(tmp_path / "ix")
    assert reader_ix.search("talks").total == 0
    writer_ix.add(art("1"))
    assert reader_ix.search("talks").total == 1


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EIO, errno.EACCES])
def test_disk_faults_become_storage_errors_and_keep_the_last_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    from whoosh.filedb.filestore import FileStorage

    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(art("1"))
        real = FileStorage.create_file

        def failing(self: FileStorage, name: str, **kwargs: object) -> object:
            raise OSError(err, os.strerror(err), str(Path(self.folder) / name))

        monkeypatch.setattr(FileStorage, "create_file", failing)
        with pytest.raises(searchlib.StorageError) as info:
            ix.add(art("2", "Dock strike."))
        assert info.value.operation in {"add document", "commit", "open writer"}
        assert str(path) in str(info.value) and os.strerror(err) in str(info.value)
        monkeypatch.setattr(FileStorage, "create_file", real)
    with Index.open(path) as ix:
        assert [h.article.id for h in ix.search("")] == ["1"]
        ix.add(art("3", "Strike over."))  # the lock was released
        assert len(ix) == 2


def test_commits_fsync_files_and_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        synced.clear()
        ix.add(art("1"))
    toc = [name for name in os.listdir(path) if name.endswith(".toc")]
    assert str(path) in synced  # the directory, around the rename of the table of contents
    assert any(Path(s).name.startswith("MAIN_") for s in synced)  # the new segment's files
    assert toc and not any(s.endswith(".toc") for s in synced[-1:])  # the last sync is the directory


def _batch(start: int, size: int) -> list[Article]:
    return [Article(id=f"d{n}", date="2025-01-01", body=f"merge policy words {n}") for n in range(start, start + size)]


def test_commits_merge_similar_segments_and_leave_capped_ones_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten segments of one size level merge into one; segments at half the byte cap never merge."""
    from searchlib._whoosh import merging

    monkeypatch.setattr(merging, "MIN_LEVEL_DOCS", 5)
    ix = Index.in_memory()
    for batch in range(30):
        ix.add(*_batch(batch * 5, 5))
    assert ix.stats().segments == 3  # thirty batches of five: three merges of ten
    for n in range(30):
        ix.add(*_batch(1000 + n, 1))
    assert ix.stats().segments < 10
    assert ix.stats().documents == 180
    with ix.writer() as writer:
        writer.commit(optimize=True)
    assert ix.stats().segments == 1
    assert ix.search("policy", limit=1).total == 180

    monkeypatch.setattr(merging, "MAX_SEGMENT_BYTES", 64)  # every segment is past half the cap
    capped = Index.in_memory()
    for batch in range(12):
        capped.add(*_batch(batch * 5, 5))
    assert capped.stats().segments == 12
