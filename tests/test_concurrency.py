"""Writers, readers and processes sharing one index: locking, visibility and idempotence."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import Article, IndexLockedError
from searchlib._whoosh import segwriter

DAY = dt.date(2024, 5, 6)


def _article(doc_id: str, text: str = "", day: dt.date = DAY) -> Article:
    return Article(id=doc_id, date=day, body=f"{text or doc_id} common")


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private tempdir: in-memory indexes keep column temp files in <tempdir>/MAIN.tmp."""
    folder = tmp_path / "tempdir"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


@pytest.fixture
def index_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "ix"
    searchlib.Index.create(path).close()
    yield path


def _child(code: str, *args: object, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A Python child process running ``code`` with ``args`` in sys.argv[1:]."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _expect_line(proc: subprocess.Popen[str], expected: str, timeout: float = 20) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == expected:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"child exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
    raise AssertionError(f"child never printed {expected!r}")


# --- the write lock ------------------------------------------------------------------------


def test_second_writer_in_a_thread_fails_at_once_naming_the_holder(index_path: Path) -> None:
    with searchlib.Index.open(index_path) as ix:
        first = ix.writer()
        first.add(_article("held"))
        outcome: list[BaseException | float] = []

        def second() -> None:
            with searchlib.Index.open(index_path) as other:
                started = time.perf_counter()
                try:
                    other.writer()
                except BaseException as exc:
                    outcome.extend([exc, time.perf_counter() - started])

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(10)
        first.commit()
    exc, elapsed = outcome
    assert isinstance(exc, IndexLockedError)
    assert isinstance(elapsed, float) and elapsed < 1.0
    assert f"pid {os.getpid()}" in str(exc) and str(index_path) in str(exc)
    assert exc.holder is not None and str(os.getpid()) in exc.holder
    assert exc.path == index_path


LOCK_ATTEMPT = """
    import json, sys, time
    import searchlib
    ix = searchlib.Index.open(sys.argv[1])
    started = time.perf_counter()
    try:
        w = ix.writer(timeout=float(sys.argv[2]))
    except searchlib.IndexLockedError as exc:
        print(json.dumps({"error": str(exc), "holder": exc.holder, "seconds": time.perf_counter() - started}))
    else:
        w.add(searchlib.Article(id="child", date="2024-05-06", body="written by the child"))
        w.commit()
        print(json.dumps({"error": None, "seconds": time.perf_counter() - started, "count": len(ix)}))
"""

HOLD_LOCK = """
    import sys, time
    import searchlib
    ix = searchlib.Index.open(sys.argv[1])
    w = ix.writer()
    w.add(searchlib.Article(id="holder", date="2024-05-06", body="written by the holder"))
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    w.commit()
    print("committed", flush=True)
    time.sleep(30)  # keep running: the lock must be free once committed, not at exit
"""


def test_second_writer_in_another_process_fails_at_once_naming_the_holder(index_path: Path) -> None:
    with searchlib.Index.open(index_path) as ix:
        w = ix.writer()
        proc = _child(LOCK_ATTEMPT, index_path, 0)
        out, err = proc.communicate(timeout=30)
        w.cancel()
    result = json.loads(out)
    assert result["error"], err
    assert result["seconds"] < 1.0
    assert f"pid {os.getpid()}" in result["error"]
    assert "locked" in result["error"]


def test_writer_blocked_by_another_process_names_that_process(index_path: Path) -> None:
    proc = _child(HOLD_LOCK, index_path, 30)
    try:
        _expect_line(proc, "locked")
        with searchlib.Index.open(index_path) as ix:
            started = time.perf_counter()
            with pytest.raises(IndexLockedError) as info:
                ix.writer()
            assert time.perf_counter() - started < 1.0
            assert f"pid {proc.pid}" in str(info.value)
    finally:
        proc.kill()
        proc.wait()
    with searchlib.Index.open(index_path) as ix:  # the dead holder's lock is gone
        ix.writer().cancel()
        assert len(ix) == 0


def test_waiting_writer_in_a_thread_succeeds_after_the_first_commits(index_path: Path) -> None:
    with searchlib.Index.open(index_path) as ix:
        first = ix.writer()
        first.add(_article("first"))

        def commit_later() -> None:
            time.sleep(0.6)
            first.commit()

        thread = threading.Thread(target=commit_later)
        thread.start()
        with searchlib.Index.open(index_path) as other:
            started = time.perf_counter()
            with other.writer(timeout=10) as second:
                waited = time.perf_counter() - started
                second.add(_article("second"))
        thread.join()
        assert 0.4 < waited < 5
        assert {h.article.id for h in ix.search("common")} == {"first", "second"}


def test_waiting_writer_in_a_process_succeeds_after_the_holder_commits(index_path: Path) -> None:
    proc = _child(HOLD_LOCK, index_path, 1.0)
    try:
        _expect_line(proc, "locked")
        with searchlib.Index.open(index_path) as ix:
            started = time.perf_counter()
            with ix.writer(timeout=15) as w:
                waited = time.perf_counter() - started
                w.add(_article("parent"))
            assert 0.3 < waited < 10
            assert {h.article.id for h in ix.search("common OR holder")} == {"holder", "parent"}
    finally:
        proc.kill()
        proc.wait()


def test_timeout_expires_with_a_locked_error(index_path: Path) -> None:
    with searchlib.Index.open(index_path) as ix:
        first = ix.writer()
        try:
            with searchlib.Index.open(index_path) as other:
                started = time.perf_counter()
                with pytest.raises(IndexLockedError) as info:
                    other.writer(timeout=0.5)
                assert 0.4 < time.perf_counter() - started < 3
                assert "after waiting 0.5 s" in str(info.value)
        finally:
            first.cancel()
        ix.writer().cancel()  # and the lock is free again


def test_lock_is_free_after_writer_block_raises(index_path: Path) -> None:
    with searchlib.Index.open(index_path) as ix:
        with pytest.raises(RuntimeError), ix.writer() as w:
            w.add(_article("doomed"))
            raise RuntimeError("boom")
        with searchlib.Index.open(index_path) as other:
            other.writer().cancel()
        assert len(ix) == 0


def test_holder_is_still_named_after_a_handover(index_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a committing writer unlinked WRITER.json after releasing the lock, deleting the
    next holder's file; the delay below widens that window so the race shows every time."""
    original = segwriter.BackendWriter._release_holder

    def slow_release(self: segwriter.BackendWriter) -> None:
        time.sleep(0.5)  # the scheduler runs another thread between unlock and unlink
        original(self)

    monkeypatch.setattr(segwriter.BackendWriter, "_release_holder", slow_release)
    with searchlib.Index.open(index_path) as ix:
        first = ix.writer()
        thread = threading.Thread(target=first.commit)
        thread.start()
        time.sleep(0.1)
        with searchlib.Index.open(index_path) as other:
            second = other.writer(timeout=5)
            thread.join()
            try:
                with searchlib.Index.open(index_path) as third, pytest.raises(IndexLockedError) as info:
                    third.writer()
                assert info.value.holder is not None, str(info.value)
            finally:
                second.cancel()


# --- readers during writes -----------------------------------------------------------------

BATCH = 7
BATCHES = 20

WRITE_BATCHES = """
    import pathlib, sys, time
    import searchlib
    ix = searchlib.Index.open(sys.argv[1])
    batch, batches, go = int(sys.argv[2]), int(sys.argv[3]), pathlib.Path(sys.argv[4])
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    for b in range(batches):
        with ix.writer(timeout=30) as w:
            for i in range(batch):
                w.add(searchlib.Article(id=f"b{b}-{i}", date="2024-05-06", body=f"common batch{b} item{i}"))
    print("done", flush=True)
"""


def _watch(
    path: Path, stop: threading.Event, seen: list[tuple[int, int, int]], started: threading.Event | None = None
) -> None:
    with searchlib.Index.open(path) as reader:
        while not stop.is_set():
            if seen and started is not None:
                started.set()
            count = len(reader)
            results = reader.search("common", limit=1000, highlight=None)
            ids = [h.article.id for h in results]
            assert len(ids) == len(set(ids)), "duplicate ids visible"
            seen.append((count, results.total, len(ids)))
        seen.append((len(reader), reader.search("common", limit=0).total, -1))


def _check_seen(seen: list[tuple[int, int, int]]) -> None:
    assert len(seen) > 3
    counts = [c for c, _, _ in seen]
    totals = [t for _, t, _ in seen]
    assert counts == sorted(counts), "the document count went backwards"
    assert totals == sorted(totals), "the hit count went backwards"
    for count, total, hits in seen:
        assert count % BATCH == 0 and total % BATCH == 0, f"partial batch visible: {count}, {total}"
        assert hits in (-1, total)
    assert seen[-1][:2] == (BATCH * BATCHES, BATCH * BATCHES)


def test_reader_sees_whole_batches_from_a_writer_process(index_path: Path) -> None:
    go = index_path.parent / "go"
    proc = _child(WRITE_BATCHES, index_path, BATCH, BATCHES, go)
    seen: list[tuple[int, int, int]] = []
    stop, started = threading.Event(), threading.Event()
    try:
        _expect_line(proc, "ready")
        errors: list[BaseException] = []

        def run() -> None:
            try:
                _watch(index_path, stop, seen, started)
            except BaseException as exc:
                errors.append(exc)

        watcher = threading.Thread(target=run)
        watcher.start()
        assert started.wait(10)
        go.touch()
        _expect_line(proc, "done", timeout=60)
        stop.set()
        watcher.join(30)
        assert not errors, errors[0]
    finally:
        stop.set()
        proc.kill()
        proc.wait()
    _check_seen(seen)
    assert len({count for count, _, _ in seen}) > 2, "the reader never overlapped the writer"


def test_readers_in_threads_see_whole_batches_from_a_writer_thread(index_path: Path) -> None:
    stop = threading.Event()
    seen_by: list[list[tuple[int, int, int]]] = [[], []]
    errors: list[BaseException] = []

    def watch(seen: list[tuple[int, int, int]]) -> None:
        try:
            _watch(index_path, stop, seen)
        except BaseException as exc:
            errors.append(exc)

    watchers = [threading.Thread(target=watch, args=(s,)) for s in seen_by]
    for t in watchers:
        t.start()
    try:
        with searchlib.Index.open(index_path) as ix:
            for b in range(BATCHES):
                with ix.writer(timeout=10) as w:
                    for i in range(BATCH):
                        w.add(_article(f"b{b}-{i}", f"batch{b} item{i}"))
                time.sleep(0.01)
    finally:
        stop.set()
        for t in watchers:
            t.join(30)
    assert not errors, errors[0]
    for seen in seen_by:
        _check_seen(seen)


# --- idempotence ----------------------------------------------------------------------------


def _ids(ix: searchlib.Index) -> list[str]:
    return sorted(h.article.id for h in ix.search("", limit=10_000, highlight=None))


def test_same_id_twice_in_one_writer_keeps_the_latest(index_path: Path) -> None:
    with searchlib.Index.open(index_path) as ix:
        with ix.writer() as w:
            w.add(_article("x", "old version alpha"))
            w.add(_article("x", "middle version beta"))
            w.add(_article("x", "new version gamma"))
        assert _ids(ix) == ["x"] and len(ix) == 1
        assert ix.get("x").body == "new version gamma common"  # type: ignore[union-attr]
        assert ix.search("alpha").total == 0 and ix.search("beta").total == 0
        assert ix.search("gamma").total == 1
    with searchlib.Index.open(index_path) as again:
        assert len(again) == 1 and again.search("common").total == 1


def test_same_id_across_writers_keeps_the_latest(index_path: Path) -> None:
    with searchlib.Index.open(index_path) as ix:
        for version in range(5):
            with ix.writer() as w:
                w.add(_article("x", f"version v{version}x"))
                w.add(_article(f"other{version}"))
        assert len(ix) == 6
        assert ix.get("x").body == "version v4x common"  # type: ignore[union-attr]
        assert [ix.search(f"v{v}x").total for v in range(5)] == [0, 0, 0, 0, 1]
        with ix.writer() as w:  # add, delete and re-add inside one writer
            w.add(_article("y", "first y"))
            assert w.delete("y")
            w.add(_article("y", "second y"))
            assert w.delete("x")
            w.add(_article("x", "revived x"))
        assert _ids(ix) == sorted(["x", "y", *(f"other{v}" for v in range(5))])
        assert ix.get("x").body == "revived x common"  # type: ignore[union-attr]
        assert ix.search("first").total == 0


def test_reingesting_the_same_files_leaves_one_copy(index_path: Path, tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("date 2024-01-01 Alpha story.\n\ndate 2024-01-02 Beta story.\n")
    lines = tmp_path / "b.jsonl"
    lines.write_text(json.dumps({"id": "j1", "date": "2024-01-03", "body": "Gamma story v1"}) + "\n")
    with searchlib.Index.open(index_path) as ix:
        first = ix.ingest([text, lines])
        assert first.added == 3
        for _ in range(2):
            again = ix.ingest([text, lines, tmp_path])  # the directory names the same files again
            assert again.added == again.updated == 0 and again.unchanged == 3
        assert len(ix) == 3 and len(_ids(ix)) == 3
        lines.write_text(
            json.dumps({"id": "j1", "date": "2024-01-03", "body": "Gamma story v2"})
            + "\n"
            + json.dumps({"id": "j1", "date": "2024-01-03", "body": "Gamma story v3"})
            + "\n"
        )
        changed = ix.ingest(lines, commit_every=1)
        assert changed.updated == 2
        assert len(ix) == 3 and ix.search("gamma").total == 1
        assert ix.get("j1").body == "Gamma story v3"  # type: ignore[union-attr]
        same_file_twice = ix.ingest([lines, lines])
        assert same_file_twice.read == 2 and len(ix) == 3


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from("abcd"), st.integers(0, 99)),
        st.tuples(st.just("delete"), st.sampled_from("abcd"), st.just(0)),
        st.tuples(st.just("commit"), st.just(""), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_writes_match_a_dictionary_model(private_tmp: Path, ops: list[tuple[str, str, int]]) -> None:
    model: dict[str, int] = {}
    with searchlib.Index.in_memory() as ix:
        w = ix.writer()
        for op, doc_id, version in ops:
            if op == "add":
                w.add(_article(doc_id, f"{doc_id} ver{version}x"))
                model[doc_id] = version
            elif op == "delete":
                assert w.delete(doc_id) == (doc_id in model)
                model.pop(doc_id, None)
            else:
                w.commit()
                w = ix.writer()
        w.commit()
        assert _ids(ix) == sorted(model)
        assert len(ix) == len(model)
        for doc_id, version in model.items():
            assert ix.get(doc_id).body == f"{doc_id} ver{version}x common"  # type: ignore[union-attr]
            assert ix.search(f"ver{version}x").total == sum(v == version for v in model.values())


# --- in-memory indexes and the temp folder -------------------------------------------------
# Whoosh's RamStorage keeps column temp files in <tempdir>/MAIN.tmp, one folder for every
# in-memory index on the machine; a finishing writer deleted the others' files. Regression tests.


def test_two_in_memory_indexes_write_at_the_same_time(private_tmp: Path) -> None:
    with searchlib.Index.in_memory() as a, searchlib.Index.in_memory() as b:
        wa = a.writer()
        wa.add(_article("alpha"))
        with b.writer() as wb:
            wb.add(_article("beta"))
        wa.commit()
        assert len(a) == 1 and len(b) == 1


IN_MEMORY_CHILD = """
    import searchlib
    ix = searchlib.Index.in_memory()
    ix.add(searchlib.Article(date="2024-05-06", body="child in memory"))
    print(len(ix), flush=True)
"""


def test_in_memory_index_is_not_disturbed_by_another_process(private_tmp: Path) -> None:
    with searchlib.Index.in_memory() as ix:
        w = ix.writer()
        w.add(_article("parent"))
        proc = _child(IN_MEMORY_CHILD, env={"TMPDIR": str(private_tmp)})
        out, err = proc.communicate(timeout=30)
        assert out.strip() == "1", err
        w.commit()
        assert len(ix) == 1


@pytest.mark.parametrize("writes_in", ["another index object", "another process"])
def test_a_reader_reusing_its_folder_listing_still_sees_every_commit(tmp_path: Path, writes_in: str) -> None:
    """Readers skip re-listing the folder while its modification time is settled and unchanged."""
    path = tmp_path / "ix"
    with searchlib.Index.create(path, extractor=searchlib.NoExtractor()) as setup, setup.writer() as w:
        w.add(_article("a1"))
    old = time.time_ns() - 60 * 1_000_000_000
    os.utime(path, ns=(old, old))  # settled: a listing may be reused from now on
    with searchlib.Index.open(path) as reader:
        assert reader.search("common").total == 1
        assert reader.search("common").total == 1
        assert reader._backend._listing is not None  # the listing is remembered
        if writes_in == "another index object":
            with searchlib.Index.open(path) as other, other.writer() as w:
                w.add(_article("a2"))
        else:
            code = (
                "import datetime as dt, sys, searchlib\n"
                "with searchlib.Index.open(sys.argv[1]) as ix, ix.writer() as w:\n"
                "    w.add(searchlib.Article(id='a2', date=dt.date(2024, 5, 6), body='a2 common'))\n"
            )
            subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=120)
        assert reader.search("common").total == 2
