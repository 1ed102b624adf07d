"""Merges in the background: the merge policy's merges run in a child process while ingest goes on.

Before, an ingest's commit ran the policy's merges itself (``segwriter.BackendWriter._merged``)
while the parallel-ingest workers, and the reader feeding them, waited: ~38 s of a 100,000-article
build and most of a 1,000,000-article one. With a :class:`BackgroundMerges` (one per ingest), a
commit that the policy says should merge only *starts* the merge, in a child process, and lists
the new segments at once; the ingest goes on producing segments, and the commits that follow
publish theirs without waiting. A finished merge is published by the next commit, atomically
with that commit's own changes (as Lucene's ``ConcurrentMergeScheduler`` and
``IndexWriter.commitMergedDeletes`` do):

* the merged segment replaces **exactly** the segments it read, taking the first one's place
  (documents keep their order); if one of them is gone (another process's commit merged it
  between two of the ingest's commits) or a file the merge wrote is missing, the merge is
  abandoned -- its files are orphans, which the commit's cleanup removes;
* deletions that landed on its sources since it started (ids replaced by later commits) are
  re-applied to the merged segment, through the document numbers the merge gave them;
* while it runs, its segment's files (``MAIN_<id>.*``, named before anything is written) are
  spared by every commit's cleanup of unlisted files in this process (:func:`protected`; a
  commit of another process between two of the ingest's commits is not, and the merge is then
  dropped, as a failed one), and the policy is not
  consulted (one merge at a time, as the serial policy did one commit at a time).

The ingest's last commit waits for a running merge, publishes it, and then runs whatever the
policy asks and waits for that too (in a child all the same, so that the memory the merge
touched goes back to the system): an ingest ends with the segments the serial policy gives.
An ingest that fails abandons the merge (:meth:`close`: the child is killed). A merge that
fails (an error, a full disk, the child killed by the OOM killer) is dropped, never the
ingest: its sources are intact and stay listed, its files are orphans that the commit cleans
up, and the ingest's report says so (``IngestReport.merge_failures``). The child dies with its
parent (``PR_SET_PDEATHSIG``, and it checks that its parent is still the one that started it)
and writes no table of contents: a kill -9 at any moment leaves the last commit as it was,
plus orphan files.

The child is a fresh interpreter started with :mod:`subprocess` that imports only searchlib
(its arguments arrive pickled on its stdin, its reply goes back on a pipe of its own), not a
``multiprocessing`` "spawn" child: that would import the caller's ``__main__`` again and so
re-run a script without an ``if __name__ == "__main__"`` guard -- a second ingest racing the
first, or worse -- on every ingest into an index on disk.

A child process and not a thread: the merge is Python code holding the GIL most of the time,
which would starve the reader that feeds the workers; and the memory a merge touches is given
back to the system when the child exits. Only for indexes on disk (the child opens the files).
"""

from __future__ import annotations

import contextlib
import copy
import os
import pickle
import resource
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.codec import whoosh3

from searchlib._whoosh import merging, sidecar, sidecar_merge, store
from searchlib._whoosh import schema as sch

__all__ = ["BackgroundMerges", "merge_in_child", "protected"]

POLL = 1.0
"""Seconds between checks that a waited-for child is still alive."""


def merge_in_child(
    path: str, fsync: bool, indexname: str, groups: list[list[Any]], targets: list[Any], conn: Any
) -> None:
    """The child's work: write each group's merged segment and sidecar; send back the segments.

    Sends ``("ok", merged segments, names of the files written, CPU seconds)`` or
    ``("error", report)``. Nothing is committed here.
    """
    try:
        from whoosh.reading import SegmentReader

        store.FSYNC = fsync
        folder = Path(path)
        storage = store.DurableStorage(path)
        schema = sch.build_schema()
        created: list[str] = []
        create_file = storage.create_file

        def recording(name: str, *args: Any, **kwargs: Any) -> Any:
            created.append(name)
            return create_file(name, *args, **kwargs)

        storage.create_file = recording  # type: ignore[method-assign]

        def columns_of(segment: Any) -> Any:
            reader = SegmentReader(storage, schema, segment)
            try:
                return sidecar.segment_columns(reader, folder, {})
            finally:
                reader.close()

        merged = []
        for sources, target in zip(groups, targets, strict=True):
            segment, parts = merging.merge_segments(storage, schema, sources, indexname, columns_of, target=target)
            sidecar_merge.save_merged(folder, segment.segment_id(), parts, durable=fsync)
            del parts
            created += [f"{segment.segment_id()}.cols.bin", f"{segment.segment_id()}.cols.json"]
            merged.append(segment)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(("ok", merged, created, usage.ru_utime + usage.ru_stime))
    except BaseException as exc:
        with contextlib.suppress(Exception):
            conn.send(("error", f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=5)}"))
    finally:
        conn.close()


_RUNNING: dict[str, list[Any]] = {}
"""The segments running merges write, by index folder: every commit of this process spares their files."""
_RUNNING_LOCK = threading.Lock()


def protected(path: Path | None) -> list[Any]:
    """Segments that merges of this process are writing into the index at ``path`` (cleanup spares their files)."""
    if path is None:
        return []
    with _RUNNING_LOCK:
        return list(_RUNNING.get(str(path.resolve()), ()))


def _register(path: Path, targets: list[Any], *, add: bool) -> None:
    key = str(path.resolve())
    with _RUNNING_LOCK:
        running = _RUNNING.setdefault(key, [])
        for target in targets:
            if add:
                running.append(target)
            elif target in running:
                running.remove(target)
        if not running:
            del _RUNNING[key]


RUNNER: Callable[..., None] = merge_in_child
"""The child's function (tests put a slower one in its place, to act while a merge runs)."""


_BOOT = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from searchlib._whoosh.background import _child_main; _child_main()"
)
"""What the child runs: the caller's import path first (tests' runners live in test modules), then searchlib."""


def _child_main() -> None:
    """The child process's entry: read (parent pid, reply fd, runner, arguments) from stdin, run it."""
    from searchlib._whoosh.parallel import _die_with_parent

    parent, fd, runner, args = pickle.load(sys.stdin.buffer)
    conn = Connection(fd, readable=False)
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        return
    runner(*args, conn)


class _Job:
    """One running merge: its child, its groups (source ids, sizes, deletions when it started) and targets."""

    def __init__(self, path: Path, indexname: str, segments: Sequence[Any], groups: list[list[int]]) -> None:
        codec = whoosh3.W3Codec()
        self.targets = [codec.new_segment(None, indexname) for _ in groups]
        self.sources = [[_snapshot(segments[i]) for i in group] for group in groups]
        copies = [[copy.deepcopy(segments[i]) for i in group] for group in groups]
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                pass_fds=(write_fd,),
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self.conn = Connection(read_fd, writable=False)
        args = (str(path), store.FSYNC, indexname, copies, self.targets)
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # a child that died at once: wait() reports it
            pickle.dump(list(sys.path), self.proc.stdin)
            pickle.dump((os.getpid(), write_fd, RUNNER, args), self.proc.stdin)
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()
        self.reply: tuple[Any, ...] | None = None

    def done(self) -> bool:
        if self.reply is None and self.conn.poll():
            self._receive()
        return self.reply is not None

    def _died(self) -> tuple[str, str]:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        code = self.proc.returncode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return ("error", f"the merge process died ({how})")

    def _receive(self) -> None:
        try:
            self.reply = tuple(self.conn.recv())
        except (EOFError, OSError):
            self.reply = self._died()

    def wait(self) -> None:
        while self.reply is None:
            if self.conn.poll(POLL):
                self._receive()
            elif self.proc.poll() is not None and not self.conn.poll():
                self.reply = self._died()

    def end(self) -> None:
        """Stop the child (if it still runs) and release its resources."""
        if self.proc.poll() is None and self.reply is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(Exception):
            self.conn.close()


class BackgroundMerges:
    """The merges of one ingest into the index at ``path``, run one at a time in a child process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._job: _Job | None = None
        self.cpu = 0.0
        """CPU seconds the finished merges' children used."""
        self.merges = 0
        """Segments merged and published so far."""
        self.failures: list[str] = []
        """Why each merge that failed (and was dropped) failed."""

    @property
    def running(self) -> bool:
        """Whether a merge was started and not yet published (it may have finished)."""
        return self._job is not None

    def start(self, segments: Sequence[Any], groups: list[list[int]], indexname: str) -> None:
        """Merge each group of ``segments`` (indexes into it) in a child process."""
        if self._job is not None:
            raise RuntimeError("a merge is already running")
        job = _Job(self.path, indexname, segments, groups)
        _register(self.path, job.targets, add=True)
        self._job = job

    def publish(self, segments: list[Any], storage: Any, *, wait: bool) -> list[Any]:
        """``segments`` with a finished merge's segments in place of its sources (``wait``: wait for it).

        Deletions made in the sources since the merge started are applied to the merged
        segment. A merge whose sources or files are gone is dropped (its files are orphans);
        so is one that failed, with the reason kept in :attr:`failures`: a merge only
        tidies up, its sources are intact and stay listed.
        """
        job = self._job
        if job is None or not (job.done() or wait):
            return segments
        job.wait()
        self._job = None
        job.end()
        _register(self.path, job.targets, add=False)  # listed from now on, or orphans to clean
        assert job.reply is not None
        at = {seg.segment_id(): i for i, seg in enumerate(segments)}
        if any(sid not in at for group in job.sources for sid, _, _ in group):
            return segments  # merged away by another writer meanwhile (which may have failed the merge)
        if job.reply[0] != "ok":
            self.failures.append(f"merging segments of {self.path} failed: {job.reply[1]}")
            return segments
        _, merged, created, cpu = job.reply
        self.cpu += float(cpu)
        if not all(storage.file_exists(name) for name in created):
            return segments
        result: list[Any] = list(segments)
        for group, segment in zip(job.sources, merged, strict=True):
            _apply_new_deletions(segment, group, [segments[at[sid]] for sid, _, _ in group])
            result[at[group[0][0]]] = segment
            for sid, _, _ in group[1:]:
                result[at[sid]] = None
            self.merges += 1
        return [seg for seg in result if seg is not None]

    def close(self) -> None:
        """Abandon a merge that was not published: its child is killed, its files left as orphans."""
        job, self._job = self._job, None
        if job is not None:
            job.end()
            _register(self.path, job.targets, add=False)


def _snapshot(segment: Any) -> tuple[str, int, frozenset[int]]:
    """A source as the merge reads it: its id, its documents and which of them are deleted."""
    deleted = frozenset(segment.deleted_docs()) if segment.has_deletions() else frozenset()
    return str(segment.segment_id()), int(segment.doc_count_all()), deleted


def _apply_new_deletions(merged: Any, group: list[tuple[str, int, frozenset[int]]], now: list[Any]) -> None:
    """Delete in ``merged`` the documents deleted in its sources since the merge started."""
    base = 0
    for (_, count, then), segment in zip(group, now, strict=True):
        live = np.ones(count, dtype=bool)
        if then:
            live[np.fromiter((d for d in then if d < count), dtype=np.int64)] = False
        if segment.has_deletions():
            newnum = base + np.cumsum(live, dtype=np.int64) - 1
            for docnum in segment.deleted_docs():
                if docnum < count and live[docnum]:
                    merged.delete_document(int(newnum[docnum]))
        base += int(live.sum())
