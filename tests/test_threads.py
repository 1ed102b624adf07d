"""The thread contract: one Index shared by threads (and a fork) reads and writes correctly."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import searchlib
from searchlib import Article

TOTAL = 200


def _shared(tmp_path: Path) -> searchlib.Index:
    ix = searchlib.Index.create(tmp_path / "ix")
    ix.add(*[Article(id=f"a{i}", date="2025-01-01", body=f"common talks item{i} Cairo") for i in range(TOTAL)])
    return ix


def _in_threads(count: int, target: Callable[[], None]) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


@pytest.mark.parametrize("with_writer", [False, True], ids=["read-only", "writer-committing"])
def test_eight_threads_share_one_index(tmp_path: Path, with_writer: bool) -> None:
    """The issue's repro: every search of 8 threads sees all 200 matches, no raw exception."""
    ix = _shared(tmp_path)
    bad: list[object] = []
    stop = threading.Event()
    commits: list[int] = []

    def reader() -> None:
        for _ in range(60):
            try:
                results = ix.search("common talks", limit=20)
                if results.total != TOTAL:
                    bad.append(results.total)
            except Exception as exc:
                bad.append(repr(exc))

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            ix.add(Article(id=f"x{n % 5}", date="2025-01-02", body=f"other words {n}"), timeout=30)
            commits.append(n)

    background = threading.Thread(target=writer)
    if with_writer:
        background.start()
    try:
        _in_threads(8, reader)
    finally:
        stop.set()
        if with_writer:
            background.join(60)
    ix.close()
    assert (len(bad), bad[:3]) == (0, [])
    assert not with_writer or commits, "the writer never committed while the readers ran"


def test_two_threads_adding_are_serialised(tmp_path: Path) -> None:
    """Writers of one Index in two threads queue (with a timeout) and both commits land whole."""
    ix = _shared(tmp_path)
    errors: list[BaseException] = []

    def add(prefix: str) -> Callable[[], None]:
        def run() -> None:
            try:
                for n in range(10):
                    ix.add(
                        *[Article(id=f"{prefix}{n}-{i}", date="2025-02-01", body=f"{prefix} words") for i in range(5)],
                        timeout=60,
                    )
            except BaseException as exc:
                errors.append(exc)

        return run

    threads = [threading.Thread(target=add(prefix)) for prefix in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert (ix.search("left", limit=1).total, ix.search("right", limit=1).total, len(ix)) == (50, 50, TOTAL + 100)
    ix.close()


def test_a_second_writer_thread_without_timeout_is_refused_at_once(tmp_path: Path) -> None:
    with searchlib.Index.create(tmp_path / "ix") as ix:
        held = ix.writer()
        outcome: list[BaseException] = []

        def second() -> None:
            try:
                ix.add(Article(id="b", date="2025-01-01", body="b"))
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(10)
        held.cancel()
        assert len(outcome) == 1 and isinstance(outcome[0], searchlib.IndexLockedError)
        assert str(os.getpid()) in str(outcome[0])
        ix.add(Article(id="c", date="2025-01-01", body="c"))  # the lock was released
        assert len(ix) == 1


def test_in_memory_index_is_shared_by_threads() -> None:
    with searchlib.Index.in_memory() as ix:
        ix.add(*[Article(id=f"a{i}", date="2025-01-01", body=f"common item{i}") for i in range(50)])
        bad: list[object] = []

        def reader() -> None:
            for _ in range(40):
                try:
                    if ix.search("common", limit=5).total != 50:
                        bad.append("short")
                except Exception as exc:
                    bad.append(repr(exc))

        _in_threads(6, reader)
        assert bad == []


@pytest.mark.parametrize(
    ("damaged", "read"),
    [
        ("*_stored.col", lambda ix: ix.get("a3")),  # ids are looked up in the sidecar, rebuilt from these
        ("*_stored.col", lambda ix: ix.search("common talks", limit=5)),  # the sidecar is rebuilt from these
        ("*.body_text.col", lambda ix: ix.search("common talks", limit=5)),
    ],
)
def test_damaged_index_raises_index_problem_not_raw_errors(
    tmp_path: Path, damaged: str, read: Callable[[searchlib.Index], object]
) -> None:
    """Garbage in an index file surfaces as IndexProblem (pickle/zlib/struct errors stay inside)."""
    path = tmp_path / "ix"
    with searchlib.Index.create(path) as ix:
        ix.add(*[Article(id=f"a{i}", date="2025-01-01", body=f"common talks item{i}") for i in range(30)])
    for damaged_file in path.glob(damaged):
        data = bytearray(damaged_file.read_bytes())
        data[16:] = bytes((b * 7 + 13) % 256 for b in data[16:])
        damaged_file.write_bytes(bytes(data))
    for sidecar in path.glob("*.cols.*"):  # without it the stored articles are analysed again
        sidecar.unlink()
    with searchlib.Index.open(path) as ix, pytest.raises(searchlib.IndexProblem, match="searchlib check") as info:
        read(ix)
    assert info.value.path == path


def test_damaged_index_on_write_raises_index_problem(tmp_path: Path) -> None:
    """Writers read the index too (ids to replace, near-duplicates): damage is an IndexProblem there as well."""
    path = tmp_path / "ix"
    with searchlib.Index.create(path) as ix:
        ix.add(*[Article(id=f"a{i}", date="2025-01-01", body=f"common talks item{i}") for i in range(30)])
    for stored_file in path.glob("*_stored.col"):  # a replaced id's checksum is read from the stored fields
        data = bytearray(stored_file.read_bytes())
        data[16:] = bytes((b * 7 + 13) % 256 for b in data[16:])
        stored_file.write_bytes(bytes(data))
    with searchlib.Index.open(path) as ix, pytest.raises(searchlib.IndexProblem, match="searchlib check"):
        ix.add(*[Article(id=f"a{i}", date="2025-01-01", body=f"common talks item{i} again") for i in range(30)])


def _search_in_child(ix: searchlib.Index, queue: multiprocessing.Queue[object]) -> None:
    try:
        ix.add(Article(id="child", date="2025-03-01", body="common talks from the child"), timeout=30)
        queue.put(ix.search("common talks", limit=1).total)
    except BaseException as exc:
        queue.put(repr(exc))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_forked_child_gets_its_own_searchers_and_locks(tmp_path: Path) -> None:
    """After fork a child may keep using an Index opened by the parent (README: Guarantees)."""
    ix = _shared(tmp_path)
    assert ix.search("common talks", limit=1).total == TOTAL  # the parent has pooled searchers
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[object] = context.Queue()
    # A parent thread holds the in-process write lock while forking: the child must not inherit it.
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with ix.writer():
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    child = context.Process(target=_search_in_child, args=(ix, queue))
    try:
        child.start()
        release.set()  # the parent's writer commits (nothing); the child's writer waits for it
        holder.join(30)
        result = queue.get(timeout=60)
    finally:
        child.join(60)
    assert result == TOTAL + 1
    assert ix.search("common talks", limit=1).total == TOTAL + 1
    ix.close()


def test_closed_in_memory_indexes_are_freed() -> None:
    """The write locks and the fork registry hold no index alive (in-memory data would leak)."""
    import gc
    import weakref

    ix = searchlib.Index.in_memory()
    ix.add(Article(id="a", date="2025-01-01", body="common talks"))
    assert ix.search("common").total == 1
    ref = weakref.ref(ix._backend)
    ix.close()
    del ix
    gc.collect()
    assert ref() is None


def test_segment_files_removed_before_a_new_searcher_opens_them_are_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit in another process merges the segments a new searcher is about to read: the read
    is retried at the new commit (Whoosh alone answers None for the stored fields, a TypeError)."""
    from searchlib._whoosh.store import Backend

    path = tmp_path / "ix"
    with searchlib.Index.create(path) as ix:
        for k in range(3):
            ix.add(*[Article(id=f"a{k}-{i}", date="2025-01-01", body=f"common talks item{k}x{i}") for i in range(5)])
    checkout = Backend._checkout
    merged: list[bool] = []

    def checkout_then_merge(self: Backend) -> Any:
        searcher = checkout(self)
        if not merged:
            merged.append(True)
            with searchlib.Index.open(path) as other, other.writer() as w:
                w.commit(optimize=True)  # deletes the files of the three segments
        return searcher

    monkeypatch.setattr(Backend, "_checkout", checkout_then_merge)
    with searchlib.Index.open(path) as ix:
        results = ix.search("common", limit=100, highlight=None)
        assert merged and results.total == 15
        assert sorted(h.article.body for h in results.hits) == sorted(
            f"common talks item{k}x{i}" for k in range(3) for i in range(5)
        )


def test_a_pooled_searcher_that_fails_to_refresh_is_replaced_by_a_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reusing a pooled searcher's readers is only a saving; when Whoosh's refresh fails (seen
    under concurrent commits from other processes: a reader closed twice), the search still
    answers, from a searcher opened afresh at the latest commit."""
    from whoosh.reading import ReaderClosed
    from whoosh.searching import Searcher

    with searchlib.Index.create(tmp_path / "ix") as ix:
        ix.add(Article(id="a1", date="2025-01-01", body="harbour strike in Gdansk"))
        assert ix.search("harbour").total == 1  # leaves a searcher in the pool
        ix.add(Article(id="a2", date="2025-01-02", body="harbour reopens"))

        def broken(self: Any) -> Any:
            raise ReaderClosed("Reader already closed")

        monkeypatch.setattr(Searcher, "refresh", broken)
        found = ix.search("harbour")
        assert found.total == 2
        assert sorted(hit.article.id for hit in found.hits) == ["a1", "a2"]
