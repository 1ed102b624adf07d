"""Parallel ingest: the same index as one process, exact upserts, and no orphan or stuck lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pytest

import searchlib
from searchlib import Index
from searchlib._whoosh import parallel


def _corpus(folder: Path, n: int, *, tag: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        lines.append(
            f"date 2024-{i % 12 + 1:02d}-{i % 28 + 1:02d} Article {i}{tag} about wage talks in Gdańsk, number {i}.\n\n"
            f"Halina Wrzosek said the Baltic Dockworkers' Federation (BDF) would meet on day {i}.\n"
        )
    path = folder / f"part{tag}.txt"
    path.write_text("".join(lines), "utf-8")
    return path


def _snapshot(ix: Index) -> list[tuple[str, str, tuple[str, ...]]]:
    hits = ix.search("", limit=10_000, highlight=None).hits
    return sorted((h.article.id, h.article.body, h.article.entity_names) for h in hits)


def test_two_workers_build_the_same_index_as_one(tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in", 300)
    with Index.create(tmp_path / "one") as one, Index.create(tmp_path / "two") as two:
        r1 = one.ingest(source)
        r2 = two.ingest(source, workers=2, commit_every=120)
        assert (r1.added, r2.added) == (300, 300)
        assert _snapshot(one) == _snapshot(two)
        for query in ["wage talks", '"Halina Wrzosek"', "entity:BDF", "date:2024-03"]:
            assert one.search(query).total == two.search(query).total > 0
        again = two.ingest(source, workers=2)
        assert (again.added, again.unchanged) == (0, 300) and len(two) == 300
    report = searchlib.check_index(tmp_path / "two")
    assert report.ok, report.summary()


def test_parallel_upserts_keep_one_copy_the_latest(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add(searchlib.Article(id="x", date="2024-01-01", body="The first version."))
        feed = tmp_path / "feed.jsonl"
        feed.write_text(
            '{"id": "x", "date": "2024-01-02", "body": "The second version."}\n'
            '{"id": "y", "date": "2024-01-02", "body": "Another article."}\n'
            '{"id": "x", "date": "2024-01-03", "body": "The third version."}\n',
            "utf-8",
        )
        report = ix.ingest(feed, workers=2)
        assert (report.added, report.updated) == (1, 2)
        assert len(ix) == 2 and ix.get("x").body == "The third version."  # type: ignore[union-attr]
        assert searchlib.check_index(tmp_path / "ix").ok


def test_killed_parallel_ingest_leaves_no_worker_and_no_lock(tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in", 3000)
    index = tmp_path / "ix"
    Index.create(index).close()
    script = textwrap.dedent(
        f"""
        import searchlib
        if __name__ == "__main__":
            with searchlib.Index.open({str(index)!r}) as ix:
                ix.ingest({str(source)!r}, workers=2, commit_every=500)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(index.glob("MAIN.w*.tmp")):
        time.sleep(0.05)
    time.sleep(1.0)
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False)
    workers = [int(pid) for pid in children.stdout.split()]
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10  # PR_SET_PDEATHSIG kills workers at once; the fallback check takes a second
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "worker processes outlived their parent"
    with Index.open(index) as ix:
        count = len(ix)
        assert count % 500 == 0  # whole commits only
        with ix.writer(timeout=0) as w:  # the lock is free
            w.add(searchlib.Article(id="after", date="2024-01-01", body="Written after the crash."))
        assert len(ix) == count + 1
    assert not [p for p in searchlib.check_index(index, repair=True).problems if "copy" in p]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_workers_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Index.in_memory().ingest(tmp_path, workers=0)


def _worker(doc_id: str) -> int:
    """The worker of two that parallel ingest routes ``doc_id`` to (copies are grouped within a worker)."""
    return zlib.crc32(doc_id.encode("utf-8")) % 2


def _feed(path: Path) -> Path:
    """Articles for a worker to split across segments: near-duplicate pairs, and ids sent twice."""
    rows = []
    for i in range(40):
        body = f"Dockworkers in port {i % 7} voted on the wage offer of the federation, round {i}. " * 3
        rows.append({"id": f"a{i}", "date": f"2024-02-{i % 28 + 1:02d}", "body": body})
        if i % 5 == 0:  # a near-duplicate (one word changed), given an id routed to the same worker
            copy = next(f"copy{i}-{n}" for n in range(100) if _worker(f"copy{i}-{n}") == _worker(f"a{i}"))
            rows.append({"id": copy, "date": "2024-03-01", "body": body.replace("voted", "balloted", 1)})
    for i in range(0, 40, 3):  # later versions of ids already sent in the same commit
        rows.append({"id": f"a{i}", "date": "2024-04-01", "body": f"Version two of article {i} on ferry timetables."})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), "utf-8")
    return path


def _groups(ix: Index) -> list[list[str]]:
    return sorted(sorted(article.id for article in group.articles) for group in ix.duplicates(size=1000))


@pytest.mark.parametrize("budget", [1, 600])
def test_workers_write_segments_at_their_budget_and_commit_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """A worker writes its segment out whenever it holds ``budget`` characters: the commit lists
    them all, an id sent again keeps only its last version, and near-duplicates group as before."""
    feed = _feed(tmp_path / "feed.jsonl")
    finished: list[int] = []  # segments handed to each commit
    finish = parallel.WorkerPool.finish
    monkeypatch.setattr(parallel.WorkerPool, "finish", lambda pool: finished.append(len(got := finish(pool))) or got)
    with Index.create(tmp_path / "whole") as whole:
        whole.ingest(feed, workers=2, commit_every=None)
        expected = (_snapshot(whole), _groups(whole))
    monkeypatch.setattr(parallel, "WORKER_BUFFER_CHARS", budget)
    with Index.create(tmp_path / "split") as split:
        report = split.ingest(feed, workers=2, commit_every=None)
        assert (report.added, report.updated) == (48, 14)
        assert len(split) == 48
        assert (_snapshot(split), _groups(split)) == expected
        assert any(len(group) > 1 for group in expected[1])
        assert split.get("a3").body.startswith("Version two")  # type: ignore[union-attr]
    assert finished[0] == 2 and finished[1] > 2
    assert searchlib.check_index(tmp_path / "split").ok


def test_a_worker_gives_memory_back_after_every_segment_it_writes(tmp_path: Path) -> None:
    """The worker's ``release`` (glibc's ``malloc_trim`` in a real worker) runs after each write and each finish."""
    from searchlib import Article, NoExtractor
    from searchlib._whoosh.store import Backend

    Index.create(tmp_path / "ix", extractor=NoExtractor()).close()
    released: list[int] = []
    buffer = parallel._WorkerSegments(
        Backend.open(tmp_path / "ix"), 1, release=lambda: released.append(len(buffer.written))
    )
    for i in range(3):  # a budget of one character: every article after the first writes the one before
        article = Article(id=f"a{i}", date="2024-01-02", body=f"Ferry timetable number {i} changes.")
        buffer.writer_for(article).upsert(article, (), f"digest{i}")
    assert released == [1, 2]
    assert len(buffer.finish()) == 3
    assert released == [1, 2, 3, 0]  # the last segment written, then everything since the commit let go
    parallel._release(parallel._libc())  # glibc here (Linux CI); None elsewhere: both accepted
