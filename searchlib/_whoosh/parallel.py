"""Parallel ingest: worker processes each build a segment; the lock-holding parent commits them.

The parent reads and parses the input, skips unchanged articles, and routes every article to
a worker by a hash of its id (so copies of one id meet in one worker, which keeps the last).
Workers extract entities, analyse and write postings, the costly part, on their own cores.
At each commit the parent collects the workers' segments, deletes older copies of the ids
they wrote, and writes one table of contents: the commit stays atomic.

Workers are started with ``spawn`` (they inherit no lock file descriptor), die with their
parent (``PR_SET_PDEATHSIG`` on Linux, and a parent check every second elsewhere), and never
hold the index lock, so a killed ingest leaves no stuck lock, only orphan segment files that
the next commit or ``check_index(repair=True)`` removes.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import queue
import signal
import traceback
import zlib
from pathlib import Path
from typing import Any

from searchlib._whoosh.store import Backend
from searchlib.entities import EntityExtractor, entities_for
from searchlib.errors import StorageError
from searchlib.models import Article

CHUNK = 64
"""Articles sent to a worker per message."""
BACKLOG = 8
"""Messages queued per worker before the reader waits (without a bound, the reader, which is
faster than the workers, would hold the rest of the input in memory)."""
REPLY_TIMEOUT = 1.0
WORKER_GC_THRESHOLDS = (100_000, 50, 50)
"""Worker processes collect garbage less often than the default (700, 10, 10)."""


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _work(path: str, extractor: EntityExtractor, inbox: Any, outbox: Any, parent: int) -> None:
    """A worker's loop: articles in, one segment out per ``finish``."""
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        return
    # A worker allocates millions of small containers (postings by term) that live until the
    # segment is written; the default collector rescans them ~10% of the worker's time.
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    try:
        backend = Backend.open(Path(path))
        writer = None
        while True:
            try:
                kind, payload = inbox.get(timeout=REPLY_TIMEOUT)
            except queue.Empty:
                if os.getppid() != parent:
                    return
                continue
            if kind == "articles":
                if writer is None:
                    writer = backend.segment_writer()
                for article, digest in payload:
                    entities = entities_for(article.title, article.body, article.entities, extractor)
                    writer.upsert(article, entities, digest)
            elif kind == "restore":  # an upgrade: articles as another index stored them (no extraction)
                if writer is None:
                    writer = backend.segment_writer()
                for article, digest, sketch, group, extracted in payload:
                    entities = article.entities or ()
                    writer.restore(article, entities, digest, sketch=sketch, group=group, extracted=extracted)
            elif kind == "finish":
                segment = writer.finish_segment() if writer is not None else None
                writer = None
                outbox.put(("segment", segment))
            else:
                return
    except BaseException as exc:  # reported to the parent, which cancels the commit
        outbox.put(("error", f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=5)}"))


class WorkerPool:
    """``workers`` processes building segments of the index at ``path``."""

    def __init__(self, path: Path, extractor: EntityExtractor, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.path = path
        self.outbox = context.Queue()
        self.inboxes = [context.Queue(maxsize=BACKLOG) for _ in range(workers)]
        self.buffers: list[list[tuple[Article, str]]] = [[] for _ in range(workers)]
        self.restored: list[list[tuple[Article, str, tuple[int, ...], str, bool]]] = [[] for _ in range(workers)]
        self.procs = [
            context.Process(target=_work, args=(str(path), extractor, inbox, self.outbox, os.getpid()), daemon=True)
            for inbox in self.inboxes
        ]
        for proc in self.procs:
            proc.start()

    def send(self, article: Article, digest: str) -> None:
        """Queue ``article`` (its checksum ``digest`` computed already) for the worker its id routes to."""
        worker = zlib.crc32(article.id.encode("utf-8")) % len(self.procs)
        buffer = self.buffers[worker]
        buffer.append((article, digest))
        if len(buffer) >= CHUNK:
            self._put(worker, ("articles", buffer[:]))
            buffer.clear()

    def send_restored(self, row: tuple[Article, str, tuple[int, ...], str, bool]) -> None:
        """Queue an article read from an older index (``BackendWriter.restore``'s arguments) for an upgrade."""
        worker = zlib.crc32(row[0].id.encode("utf-8")) % len(self.procs)
        buffer = self.restored[worker]
        buffer.append(row)
        if len(buffer) >= CHUNK:
            self._put(worker, ("restore", buffer[:]))
            buffer.clear()

    def _put(self, worker: int, message: tuple[str, Any]) -> None:
        """Queue ``message`` for ``worker``, waiting while its backlog is full (and it is alive)."""
        while True:
            try:
                self.inboxes[worker].put(message, timeout=REPLY_TIMEOUT)
                return
            except queue.Full:
                if not self.procs[worker].is_alive():
                    self._raise_dead()

    def _raise_dead(self) -> None:
        """Raise the error a dead worker reported, or that it died."""
        try:
            kind, payload = self.outbox.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            kind, payload = "died", None
        raise self._failure(payload if kind == "error" else None)

    def _failure(self, report: str | None) -> StorageError:
        what = f"failed: {report}" if report is not None else "died"
        return StorageError(f"an ingest worker for {self.path} {what}", path=self.path, operation="parallel ingest")

    def finish(self) -> list[Any]:
        """Every worker's segment for the articles sent since the last finish."""
        for worker, buffer in enumerate(self.buffers):
            if buffer:
                self._put(worker, ("articles", buffer[:]))
                buffer.clear()
            if self.restored[worker]:
                self._put(worker, ("restore", self.restored[worker][:]))
                self.restored[worker].clear()
            self._put(worker, ("finish", None))
        segments: list[Any] = []
        while len(segments) < len(self.procs):
            try:
                kind, payload = self.outbox.get(timeout=REPLY_TIMEOUT)
            except queue.Empty:
                if not all(proc.is_alive() for proc in self.procs):
                    self._raise_dead()
                continue
            if kind == "error":
                raise self._failure(payload)
            segments.append(payload)
        return segments

    def close(self) -> None:
        for inbox in self.inboxes:
            with contextlib.suppress(Exception):  # a full backlog (a stuck worker) is killed below
                inbox.put_nowait(("stop", None))
            inbox.cancel_join_thread()  # never block exit on data a dead worker cannot read
        self.outbox.cancel_join_thread()
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
