"""``Index.upgrade`` is atomic: faults and crashes at every step leave the old or the new index whole.

The fixture is the committed format-7 index (tests/data/format7-index), copied to tmp_path.
Steps are the named points of :mod:`searchlib._whoosh.upgrade` (``_step``); an in-process
"crash" is a BaseException the upgrade does not clean up after, and one test kills a real
process (``os._exit``) at the step where the index is briefly not at its path.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest
from test_format7 import FIXTURE, stored_as_written

from searchlib import Archive, IncompatibleIndexError, Index, IndexLockedError, SearchlibError, StorageError
from searchlib._whoosh import schema as sch
from searchlib._whoosh import upgrade as wu
from searchlib._whoosh.segwriter import BackendWriter
from searchlib._whoosh.store import DurableStorage

STEPS = ["locked", "checked", "built", "ready", "aside", "swapped", "cleaned"]
COMMITTED = {"aside", "swapped", "cleaned"}


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs (no cleanup catches BaseException)."""


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "ix"
    shutil.copytree(FIXTURE, target)
    return target


def _digest(path: Path) -> str:
    """The contents of an index folder (its lock file aside)."""
    h = hashlib.sha256()
    for file in sorted(path.iterdir()):
        if file.name != "MAIN_WRITELOCK":
            h.update(file.name.encode() + file.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def expected() -> dict[str, object]:
    return stored_as_written(FIXTURE)


def _assert_upgraded(path: Path, expected: dict[str, object]) -> None:
    assert wu.read_format(path) == sch.FORMAT_VERSION
    assert stored_as_written(path) == expected
    with Index.open(path) as ix:
        assert len(ix) == 20 and ix.search("strike").total > 0
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_leaves_one_whole_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected: dict[str, object], step: str
) -> None:
    path = _copy(tmp_path)
    original = _digest(path)

    def crash(name: str) -> None:
        if name == step:
            raise Crash(name)

    monkeypatch.setattr(wu, "_step", crash)
    with pytest.raises(Crash):
        Index.upgrade(path)
    monkeypatch.undo()
    if step in COMMITTED:  # the new index is at the path, or moved there by the next open
        with Index.open(path) as ix:
            assert len(ix) == 20
        _assert_upgraded(path, expected)
    else:  # the old index is untouched, byte for byte
        assert path.is_dir() and _digest(path) == original
        assert wu.read_format(path) == 7
    Index.upgrade(path)  # finishing or redoing it works
    _assert_upgraded(path, expected)


def test_a_killed_process_between_the_renames_is_recovered(tmp_path: Path, expected: dict[str, object]) -> None:
    """The real thing: the process dies when the old index is set aside and the new one not yet in place."""
    path = _copy(tmp_path)
    script = (
        "import os, sys\n"
        "from searchlib import Index\n"
        "from searchlib._whoosh import upgrade as wu\n"
        "wu._step = lambda name: os._exit(3) if name == 'aside' else None\n"
        "Index.upgrade(sys.argv[1])\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert not path.exists()  # the moment a crash can leave: both copies are whole next to it
    with Index.open(path) as ix:  # opening finishes the upgrade
        assert len(ix) == 20
    _assert_upgraded(path, expected)


def test_a_disk_fault_while_building_keeps_the_old_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _copy(tmp_path)
    original = _digest(path)
    real = BackendWriter.restore
    calls = []

    def failing(self: BackendWriter, *args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 7:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(BackendWriter, "restore", failing)
    with pytest.raises(StorageError, match="No space left"):
        Index.upgrade(path)
    assert _digest(path) == original and sorted(p.name for p in tmp_path.iterdir()) == ["ix"]


def test_too_little_free_disk_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy(tmp_path)
    original = _digest(path)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(wu.shutil, "disk_usage", lambda _: usage(10**9, 10**9 - 4096, 4096))
    with pytest.raises(StorageError, match=r"not enough free disk space to upgrade .* MB free") as caught:
        Index.upgrade(path)
    assert caught.value.operation == "upgrade"
    assert _digest(path) == original and sorted(p.name for p in tmp_path.iterdir()) == ["ix"]


def test_an_index_locked_by_a_writer_is_not_upgraded(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    lock = DurableStorage(str(path)).lock("MAIN_WRITELOCK")
    assert lock.acquire(blocking=False)
    try:
        with pytest.raises(IndexLockedError, match="locked for writing"):
            Index.upgrade(path)
    finally:
        lock.release()
    assert wu.read_format(path) == 7


def test_an_archive_upgrades_shard_by_shard(tmp_path: Path) -> None:
    root = tmp_path / "arch"
    with Archive.create(root, shard_by="hash", shards=2, executor="serial") as archive:
        names = sorted(p.name for p in (root / "shards").iterdir())
    assert len(names) == 2
    shutil.rmtree(root / "shards" / names[0])
    shutil.copytree(FIXTURE, root / "shards" / names[0])  # one old shard, one current
    with pytest.raises(SearchlibError, match="searchlib upgrade"), Archive.open(root, executor="serial") as archive:
        archive.search("strike")
    report = Index.upgrade(root)
    assert report.upgraded == 1 and report.articles == 20
    assert {(name, old) for name, old, _ in report.indexes} == {
        (f"shards/{names[0]}", 7),
        (f"shards/{names[1]}", sch.FORMAT_VERSION),
    }
    with Archive.open(root, executor="serial") as archive:
        assert archive.search("strike").total > 0
    assert wu.read_format(root / "shards" / names[0]) == sch.FORMAT_VERSION
    os.listdir(root)  # nothing else to check: the manifest is not touched


def test_opening_during_an_upgrade_leaves_it_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected: dict[str, object]
) -> None:
    """``Index.open`` runs recovery first; while an upgrade holds the lock that must not touch its work."""
    path = _copy(tmp_path)
    partial, ready, aside = wu._siblings(path)
    seen = []

    def meanwhile(name: str) -> None:
        if name == "built":
            with pytest.raises(IncompatibleIndexError, match="searchlib upgrade"):
                Index.open(path)  # the old index, still in place
            assert partial.is_dir()
        elif name == "aside":
            wu.recover(path)  # another process looking between the renames
            assert ready.is_dir() and aside.is_dir() and not path.exists()
        seen.append(name)

    monkeypatch.setattr(wu, "_step", meanwhile)
    Index.upgrade(path)
    assert seen == STEPS
    monkeypatch.undo()
    _assert_upgraded(path, expected)


def test_an_index_named_by_a_link_or_dot_is_upgraded_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected: dict[str, object]
) -> None:
    path = _copy(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(path, target_is_directory=True)
    assert Index.upgrade(link).articles == 20
    assert link.is_symlink() and wu.read_format(link) == sch.FORMAT_VERSION
    link.unlink()
    _assert_upgraded(path, expected)
    monkeypatch.chdir(path)
    with Index.open(".") as ix:
        assert len(ix) == 20
    assert Index.upgrade(".").upgraded == 0


def test_worker_processes_build_the_same_index(tmp_path: Path, expected: dict[str, object]) -> None:
    path = _copy(tmp_path)
    assert Index.upgrade(path, workers=2).articles == 20
    _assert_upgraded(path, expected)
    with Index.open(path) as ix:
        groups = {tuple(a.id for a in g.articles) for g in ix.duplicates()}
        assert groups == {("ddb9dfb97f3f7c20", "wire-0011"), ("92e82e8b29593c02", "wire-0012")}
    with pytest.raises(ValueError, match="workers"):
        Index.upgrade(path, workers=0)
