"""Parallel ingest: worker processes each build a segment; the lock-holding parent commits them.

The parent reads and parses the input, skips unchanged articles, and routes every article to
a worker by a hash of its id (so copies of one id meet in one worker, which keeps the last).
Workers extract entities, analyse and write postings, the costly part, on their own cores.
At each commit the parent collects the workers' segments, deletes older copies of the ids
they wrote, and writes one table of contents: the commit stays atomic. A worker writes its
segment out whenever it holds ``WORKER_BUFFER_CHARS`` of text (as Lucene flushes by RAM), so
its memory is bounded whatever the commit interval; those segments wait for the commit too.

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from searchlib._whoosh.segwriter import BackendWriter
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
WORKER_BUFFER_CHARS = 50_000_000
"""Text a worker holds in one in-memory segment before writing it out (~11,000 news articles,
~400-450 MB of the worker's memory, measured; a commit every 10,000 articles with 2 workers never reaches it)."""
WORKER_GC_THRESHOLDS = (100_000, 50, 50)
"""Worker processes collect garbage less often than the default (700, 10, 10)."""
WORKER_MMAP_THRESHOLD = 4 << 20
"""Allocations glibc serves with their own map in a worker (returned whole when freed)."""


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _libc() -> Any:
    """glibc, or None elsewhere (the tuning below is then skipped)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def _tune_malloc(libc: Any) -> None:
    """Fix glibc's map threshold in a worker, whose arrays of a segment come and go in the MBs.

    By default the threshold rises to the largest block freed (up to 32 MB), after which a
    segment's arrays are carved from the heap, whose free space is not returned to the
    system; a fixed one keeps them in maps of their own (measured on a worker at 1M
    articles: its peak ~45 MB lower, ~2% more CPU). ``M_MMAP_THRESHOLD`` is -3.
    """
    if libc is not None:
        libc.mallopt(-3, WORKER_MMAP_THRESHOLD)


def _release(libc: Any) -> None:
    """Return the heap's free pages to the system after a segment is written (``malloc_trim``)."""
    if libc is not None:
        libc.malloc_trim(0)


def _work(path: str, extractor: EntityExtractor, inbox: Any, outbox: Any, parent: int, budget: int) -> None:
    """A worker's loop: articles in, one segment out per ``finish``."""
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        return
    # A worker allocates millions of small containers (postings by term) that live until the
    # segment is written; the default collector rescans them ~10% of the worker's time.
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    libc = _libc()
    _tune_malloc(libc)
    try:
        buffer = _WorkerSegments(Backend.open(Path(path)), budget, release=lambda: _release(libc))
        while True:
            try:
                kind, payload = inbox.get(timeout=REPLY_TIMEOUT)
            except queue.Empty:
                if os.getppid() != parent:
                    return
                continue
            if kind == "articles":
                for article, digest in payload:
                    entities = entities_for(article.title, article.body, article.entities, extractor)
                    buffer.writer_for(article).upsert(article, entities, digest)
            elif kind == "restore":  # an upgrade: articles as another index stored them (no extraction)
                for article, digest, sketch, group, extracted in payload:
                    buffer.writer_for(article).restore(
                        article, article.entities or (), digest, sketch=sketch, group=group, extracted=extracted
                    )
            elif kind == "finish":
                outbox.put(("segments", buffer.finish()))
            else:
                return
    except BaseException as exc:  # reported to the parent, which cancels the commit
        outbox.put(("error", f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=5)}"))


class _WorkerSegments:
    """A worker's articles since the last commit: written segments plus the one being built.

    The segment being built is written out once it holds ``budget`` characters of text.
    An id sent again replaces its copy, in the open segment (the writer's upsert) or, when a
    written segment holds it, as a deletion in that segment, which reaches the parent with it.
    Near-duplicates are grouped across all of them (the pending sketches carry over).
    """

    def __init__(self, backend: Backend, budget: int, *, release: Callable[[], None] = lambda: None) -> None:
        self.backend = backend
        self.budget = budget
        self.release = release  # called after each segment is written (the worker trims its heap)
        self.writer: BackendWriter | None = None
        self.chars = 0
        self.written: list[Any] = []
        self.placed: dict[str, tuple[Any, int]] = {}  # id -> (written segment, its document number there)
        self.pending: dict[str, list[tuple[str, str, bytes]]] | None = None  # the written segments' sketches

    def writer_for(self, article: Article) -> BackendWriter:
        """The open segment's writer, after forgetting any written copy of ``article``'s id."""
        if self.chars >= self.budget:
            self._write()
        written = self.placed.pop(article.id, None)
        if written is not None:
            segment, docnum = written
            segment.delete_document(docnum)
        if self.writer is None:
            self.writer = self.backend.segment_writer()
            if self.pending is not None:
                self.writer.group_with(self.pending)
        self.chars += len(article.title) + len(article.body)
        return self.writer

    def _write(self) -> None:
        writer, self.writer, self.chars = self.writer, None, 0
        if writer is None:
            return
        segment = writer.finish_segment()
        self.pending = writer.pending_sketches()  # not the writer: what it built is freed
        if segment is not None:
            self.placed.update((doc_id, (segment, docnum)) for doc_id, docnum in writer.written_ids().items())
            self.written.append(segment)
        del writer
        self.release()

    def finish(self) -> list[Any]:
        """Every segment written since the last commit (the open one written now); then start afresh."""
        self._write()
        written, self.written, self.placed, self.pending = self.written, [], {}, None
        self.release()
        return written


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
            context.Process(
                target=_work,
                args=(str(path), extractor, inbox, self.outbox, os.getpid(), WORKER_BUFFER_CHARS),
                daemon=True,
            )
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
        """Every segment the workers wrote for the articles sent since the last finish."""
        for worker, buffer in enumerate(self.buffers):
            if buffer:
                self._put(worker, ("articles", buffer[:]))
                buffer.clear()
            if self.restored[worker]:
                self._put(worker, ("restore", self.restored[worker][:]))
                self.restored[worker].clear()
            self._put(worker, ("finish", None))
        segments: list[Any] = []
        finished = 0
        while finished < len(self.procs):
            try:
                kind, payload = self.outbox.get(timeout=REPLY_TIMEOUT)
            except queue.Empty:
                if not all(proc.is_alive() for proc in self.procs):
                    self._raise_dead()
                continue
            if kind == "error":
                raise self._failure(payload)
            segments.extend(payload)
            finished += 1
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
