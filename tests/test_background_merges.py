"""Background merges: an ingest's merges run beside it, are published whole, and lose nothing.

The merge policy is made eager (segments of a few documents merge in pairs) so that small
ingests merge often; slow merge runners (this module's functions, run in the merge's child
process) let a test act while a merge is running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import searchlib
from searchlib import Article, Index
from searchlib._whoosh import background, merging
from searchlib._whoosh.background import BackgroundMerges

RELEASE = "SEARCHLIB_TEST_MERGE_RELEASE"
STARTED = "SEARCHLIB_TEST_MERGE_STARTED"


def held_runner(*args: Any) -> None:
    """A merge that starts only once the file named by ``$SEARCHLIB_TEST_MERGE_RELEASE`` exists."""
    release = Path(os.environ[RELEASE])
    while not release.exists():
        time.sleep(0.02)
    background.merge_in_child(*args)


class _Hang:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def send(self, message: Any) -> None:
        self.marker.write_text(str(os.getpid()), "utf-8")
        time.sleep(600)

    def close(self) -> None:
        pass


def hanging_runner(path: str, fsync: bool, indexname: str, groups: Any, targets: Any, conn: Any) -> None:
    """A merge that writes its segment, then says so in ``$SEARCHLIB_TEST_MERGE_STARTED`` and never replies."""
    background.merge_in_child(path, fsync, indexname, groups, targets, _Hang(Path(os.environ[STARTED])))


@pytest.fixture
def eager_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merging, "MIN_LEVEL_DOCS", 2)
    monkeypatch.setattr(merging, "FACTOR", 2)


@pytest.fixture
def held(tmp_path: Path, eager_policy: None, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, BackgroundMerges, Path]:
    """An index's path, its background merges, and the file whose creation lets a merge start."""
    release = tmp_path / "release"
    monkeypatch.setenv(RELEASE, str(release))
    monkeypatch.setattr(background, "RUNNER", held_runner)
    path = tmp_path / "ix"
    return path, BackgroundMerges(path), release


def _two_segments_merging(ix: Index, merges: BackgroundMerges) -> None:
    """Two commits of five articles each: their segments' merge starts, and is held."""
    for batch in range(2):
        w = ix.writer()
        for i in range(batch * 5, batch * 5 + 5):
            w.add(_article(i))
        w._commit_merging(merges, last=False)
    assert merges.running


def _article(i: int, version: int = 0) -> Article:
    return Article(
        id=f"a{i:03d}",
        date=f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
        title=f"Dock talks {i}",
        body=f"Version {version} of article {i}: wage talks in Gdańsk went on, said Halina Wrzosek {i % 7}.",
    )


def _contents(ix: Index) -> list[tuple[str, str, float]]:
    hits = ix.search("wage talks", limit=10_000, highlight=None).hits
    return sorted((h.article.id, h.article.body, round(h.score, 9)) for h in hits)


def _segment_count(path: Path) -> int:
    """Segments with files on disk (listed or not)."""
    return len({p.name.split(".")[0] for p in path.glob("MAIN_*.cols.json")})


def _listed(path: Path) -> set[str]:
    """Segments the latest table of contents lists."""
    from whoosh.index import open_dir

    ix = open_dir(str(path))
    try:
        return {seg.segment_id() for seg in ix._read_toc().segments}
    finally:
        ix.close()


def _corpus(folder: Path, n: int, *, version: int = 0, start: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"v{version}-{start}.jsonl"
    lines = []
    for i in range(start, start + n):
        a = _article(i, version)
        lines.append(json.dumps({"id": a.id, "date": a.date.isoformat(), "title": a.title, "body": a.body}))
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_an_ingest_with_background_merges_equals_one_without(
    tmp_path: Path, eager_policy: None, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    first = _corpus(tmp_path / "in", 120)
    updates = _corpus(tmp_path / "in", 60, version=1, start=30)  # replaces ids in merged (and merging) segments
    seen: list[BackgroundMerges] = []

    class Recording(BackgroundMerges):
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            seen.append(self)

    monkeypatch.setattr(searchlib.index, "BackgroundMerges", Recording)
    with Index.create(tmp_path / "bg") as ix:
        ix.ingest(first, workers=workers, commit_every=10)
        ix.ingest(updates, workers=workers, commit_every=10)
        background_contents = _contents(ix)
        assert len(ix) == 120
    assert sum(m.merges for m in seen) > 0, "no merge ran in the background"
    assert all(not m.running for m in seen)
    monkeypatch.setattr(searchlib.index, "BackgroundMerges", lambda path: None)  # merges inside commits
    with Index.create(tmp_path / "fg") as ix:
        ix.ingest(first, workers=workers, commit_every=10)
        ix.ingest(updates, workers=workers, commit_every=10)
        assert _contents(ix) == background_contents
    assert [a for a, body, _ in background_contents if "Version 1" in body] == [f"a{i:03d}" for i in range(30, 90)]
    report = searchlib.check_index(tmp_path / "bg")
    assert report.ok, report.summary()


def test_deletions_made_while_a_merge_runs_are_applied_to_the_merged_segment(
    held: tuple[Path, BackgroundMerges, Path],
) -> None:
    path, merges, release = held
    with Index.create(path) as ix:
        _two_segments_merging(ix, merges)
        w = ix.writer()
        assert w.delete("a001") and w.delete("a007")
        w.add(_article(3, version=1))  # an update: the old copy, in a merging segment, is deleted
        w.add(_article(10))
        w._commit_merging(merges, last=False)
        assert merges.running and _segment_count(path) >= 3
        assert sorted(h.article.id for h in ix.search("wage", limit=100).hits) == [
            f"a{i:03d}" for i in range(11) if i not in (1, 7)
        ]
        release.write_text("go", "utf-8")
        w = ix.writer()
        w._commit_merging(merges, last=True)  # waits for the merge, publishes it
        assert not merges.running and merges.merges == 1
        ids = sorted(h.article.id for h in ix.search("wage", limit=100).hits)
        assert ids == [f"a{i:03d}" for i in range(11) if i not in (1, 7)]
        assert ix.get("a003").body.startswith("Version 1")  # type: ignore[union-attr]
        assert ix.get("a001") is None and ix.get("a007") is None
        assert len(ix) == 9
    report = searchlib.check_index(path)
    assert report.ok, report.summary()


def test_a_merge_whose_sources_are_gone_is_dropped(
    held: tuple[Path, BackgroundMerges, Path],
) -> None:
    path, merges, release = held
    with Index.create(path) as ix:
        _two_segments_merging(ix, merges)
        w = ix.writer()
        w.commit(optimize=True)  # another writer merges the sources away meanwhile
        release.write_text("go", "utf-8")
        w = ix.writer()
        w.add(_article(20))
        w._commit_merging(merges, last=True)
        assert merges.merges == 0 and not merges.running
        assert len(ix) == 11
    assert searchlib.check_index(path).ok
    assert _segment_count(path) == 2  # the abandoned merge's files were cleaned up


def test_kill_during_a_background_merge_keeps_the_last_commit(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    started = tmp_path / "started"
    acks = tmp_path / "acks"
    Index.create(index).close()
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import searchlib
        from searchlib._whoosh import background, merging
        from test_background_merges import _article, hanging_runner
        if __name__ == "__main__":
            merging.MIN_LEVEL_DOCS, merging.FACTOR = 2, 2
            background.RUNNER = hanging_runner
            merges = background.BackgroundMerges(searchlib.Path({str(index)!r}))
            with searchlib.Index.open({str(index)!r}) as ix:
                for batch in range(1000):
                    w = ix.writer()
                    for i in range(batch * 5, batch * 5 + 5):
                        w.add(_article(i))
                    w._commit_merging(merges, last=False)
                    with open({str(acks)!r}, "a") as f:
                        f.write(f"{{batch}}\\n")
        """
    ).replace("searchlib.Path", "__import__('pathlib').Path")
    env = {**os.environ, STARTED: str(started)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (started.exists() and started.read_text()):
        time.sleep(0.05)
    assert started.exists(), "the merge never ran"
    merger = int(started.read_text())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(merger):
        time.sleep(0.1)
    assert not _alive(merger), "the merge process outlived its parent"
    acked = len(acks.read_text().split())
    with Index.open(index) as ix:
        assert len(ix) in (5 * acked, 5 * acked + 5)  # the commits made, one maybe not acknowledged
        assert _segment_count(index) > len(_listed(index))  # the merge's segment, written, never listed
        with ix.writer(timeout=0) as w:  # the lock is free
            w.add(Article(id="after", date="2024-01-01", body="Written after the crash."))
        assert _segment_count(index) == len(_listed(index))  # its files were removed by the commit
    report = searchlib.check_index(index)
    assert report.ok, report.summary()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_a_script_without_a_main_guard_is_not_run_again_by_the_merge_child(tmp_path: Path) -> None:
    """The merge child imports searchlib only: a ``multiprocessing`` spawn child would re-run the
    caller's ``__main__`` (here: a second ingest into the same index, on every merge)."""
    runs = tmp_path / "runs"
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import json, os
            from pathlib import Path
            from searchlib import Index
            from searchlib._whoosh import merging
            with open({str(runs)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")
            merging.MIN_LEVEL_DOCS, merging.FACTOR = 2, 2
            source = Path({str(tmp_path / "in.jsonl")!r})
            source.write_text("".join(
                json.dumps({{"id": f"a{{i}}", "date": "2024-01-02", "title": "t", "body": f"wage talks {{i}}"}}) + "\\n"
                for i in range(40)
            ))
            with Index.create({str(tmp_path / "ix")!r}) as ix:
                report = ix.ingest(source, commit_every=5)
                print(report.added, len(ix), len(report.merge_failures))
            """
        ),
        "utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["40", "40", "0"]
    assert len(runs.read_text().split()) == 1  # the script's top level ran once
    assert _segment_count(tmp_path / "ix") < 8  # merges ran (eight commits of five)
    assert searchlib.check_index(tmp_path / "ix").ok


def started_runner(*args: Any) -> None:
    """The first merge says it started (``$SEARCHLIB_TEST_MERGE_STARTED``) and waits to be killed; later ones merge."""
    started = Path(os.environ[STARTED])
    if not started.exists():
        started.write_text(str(os.getpid()), "utf-8")
        time.sleep(600)
    background.merge_in_child(*args)


def test_a_merge_child_killed_is_dropped_and_reported_never_the_ingest(
    tmp_path: Path, eager_policy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the OOM killer would: the merge is only tidying up, its sources stay listed, nothing is lost."""
    import threading

    started = tmp_path / "started"
    monkeypatch.setenv(STARTED, str(started))
    monkeypatch.setattr(background, "RUNNER", started_runner)

    def kill_the_first_merge() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (started.exists() and started.read_text()):
            time.sleep(0.01)
        os.kill(int(started.read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill_the_first_merge, daemon=True)
    killer.start()
    with Index.create(tmp_path / "ix") as ix:
        report = ix.ingest(_corpus(tmp_path / "in", 42), commit_every=5)
        killer.join(timeout=60)
        assert report.added == 42 and len(ix) == 42
        assert len(report.merge_failures) == 1 and "killed by signal 9" in report.merge_failures[0]
        assert "1 background merge(s) failed" in report.summary()
        assert len(ix.search("wage talks", limit=100, highlight=None).hits) == 42
    report_check = searchlib.check_index(tmp_path / "ix")
    assert report_check.ok, report_check.summary()  # the killed merge's files were cleaned up
