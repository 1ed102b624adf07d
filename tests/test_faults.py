"""Injected disk faults: ENOSPC, EIO and EACCES on open, write and rename at every point of a commit.

After each fault the error is a ``StorageError`` naming the operation and the path, the index
opens at the previous commit or the new one (never a mix), and the next writer works.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import searchlib
from searchlib import Article, Index
from searchlib._whoosh.store import DurableStorage

OPERATIONS = ("create", "write", "rename", "open")
MAX_POINTS = 12
"""Fault points tried per operation kind (spread evenly over one commit, first and last included)."""


class Faults:
    """Counts storage operations and raises ``OSError(code)`` at the ``at``-th one of ``kind``."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.at = 0
        self.code = errno.ENOSPC
        self.counts = dict.fromkeys(OPERATIONS, 0)

    def hit(self, kind: str, name: str) -> None:
        self.counts[kind] += 1
        if kind == self.kind and self.counts[kind] == self.at:
            raise OSError(self.code, os.strerror(self.code), name)


class _FailingFile:
    def __init__(self, inner: Any, faults: Faults, name: str) -> None:
        self._inner, self._faults, self._name = inner, faults, name

    def write(self, data: bytes) -> int:
        self._faults.hit("write", self._name)
        return int(self._inner.write(data))

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[Faults]:
    state = Faults()
    create, rename, open_file = DurableStorage.create_file, DurableStorage.rename_file, DurableStorage.open_file

    def create_file(self: DurableStorage, name: str, *args: Any, **kwargs: Any) -> Any:
        path = str(Path(self.folder) / name)
        state.hit("create", path)
        handle = create(self, name, *args, **kwargs)
        handle.file = _FailingFile(handle.file, state, path)
        return handle

    def rename_file(self: DurableStorage, old: str, new: str, safe: bool = False) -> None:
        state.hit("rename", str(Path(self.folder) / new))
        rename(self, old, new, safe=safe)

    def open_file_(self: DurableStorage, name: str, *args: Any, **kwargs: Any) -> Any:
        state.hit("open", str(Path(self.folder) / name))
        return open_file(self, name, *args, **kwargs)

    monkeypatch.setattr(DurableStorage, "create_file", create_file)
    monkeypatch.setattr(DurableStorage, "rename_file", rename_file)
    monkeypatch.setattr(DurableStorage, "open_file", open_file_)
    yield state


def _batch(tag: str, n: int = 3) -> list[Article]:
    return [Article(id=f"{tag}-{i}", date="2024-05-06", body=f"Hostage talks {tag} number {i}.") for i in range(n)]


def _operations_in_one_commit(tmp_path: Path, faults: Faults) -> dict[str, int]:
    probe = tmp_path / "probe"
    with Index.create(probe) as ix:
        ix.add(*_batch("a"))
        before = dict(faults.counts)
        ix.add(*_batch("b"))
        ix.search("talks")
    return {k: faults.counts[k] - before[k] for k in OPERATIONS}


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO, errno.EACCES])
@pytest.mark.parametrize("kind", OPERATIONS)
def test_every_fault_point_keeps_a_whole_commit(tmp_path: Path, faults: Faults, kind: str, code: int) -> None:
    points = _operations_in_one_commit(tmp_path, faults)[kind]
    assert points > 0, f"no {kind} operation in a commit"
    step = max(1, points // MAX_POINTS)
    for at in sorted({*range(1, points + 1, step), points}):
        path = tmp_path / f"ix-{kind}-{at}"
        with Index.create(path) as ix:
            ix.add(*_batch("a"))
        faults.kind, faults.code, faults.counts = kind, code, dict.fromkeys(OPERATIONS, 0)
        faults.at = at
        try:
            with Index.open(path) as ix:
                ix.add(*_batch("b"))
                ix.search("talks")
        except searchlib.StorageError as exc:
            assert exc.operation and str(path) in str(exc) and os.strerror(code) in str(exc)
        faults.kind = None
        with Index.open(path) as ix:
            ids = sorted(h.article.id for h in ix.search("", limit=100))
            assert ids in (sorted(a.id for a in _batch("a")), sorted(a.id for a in _batch("a") + _batch("b")))
            ix.add(*_batch("c"))  # the lock was released and the index is writable
            assert len(ix) == len(ids) + 3
        assert not searchlib.check_index(path).problems or all(
            "orphan" in p for p in searchlib.check_index(path).problems
        )
