"""The local process pool's transport: long-lived shard workers on pipes, one message per worker a round.

``concurrent.futures.ProcessPoolExecutor`` costs milliseconds per round of shard tasks on a
busy machine (a management thread, a call queue and a result queue, a wake-up per task). Here
each worker process owns a fixed set of shards (the first time a shard is asked for it goes to
the worker holding the fewest, and stays there, so the worker keeps it open) and talks to the
caller over its own :func:`multiprocessing.Pipe`: a round sends each worker that has jobs one
pickled message ``(request id, jobs)`` and reads one reply ``(request id, results)``, waiting
on every worker at once with :func:`multiprocessing.connection.wait`. A reply carrying an
older request id (a round abandoned by an error) is dropped.

Errors: a job that raises sends back its error and the text of its traceback
(:func:`~searchlib.archive.tasks.failure`); the round re-raises the first job's error with
that traceback as its ``__cause__`` (:class:`~searchlib.archive.tasks.RemoteTraceback`).

Failure: a worker that dies while it holds jobs of the round (its pipe closes, its process
sentinel fires) makes the round raise :class:`~searchlib.errors.ArchiveError` naming a
shard it held, never a partial answer; the dead worker is replaced before the next round. A
worker found dead *between* rounds is replaced before anything is sent to it, so the round
runs normally. Workers die with their parent: they exit when the parent's end of the pipe
closes (at the parent's exit or death), ignore Ctrl-C (the parent handles it), and are
daemonic (terminated at the parent's normal exit).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import signal
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from searchlib.archive import tasks
from searchlib.errors import ArchiveError

__all__ = ["Round", "ShardWorkers"]

Message = tuple[int, list[tuple[int, str, Any, str, dict[str, Any]]]]
"""(request id, [(slot in the round, shard path, ranking, task kind, arguments), ...])."""


def serve(conn: Connection) -> None:
    """A worker's loop: run each message's jobs in order, reply with their results; stop at EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    while True:
        try:
            message: Message | None = conn.recv()
        except (EOFError, OSError):  # the parent closed its end or died
            return
        if message is None:
            return
        request, jobs = message
        replies = tasks.run_jobs([(path, ranking, kind, args) for _slot, path, ranking, kind, args in jobs])
        results = [(job[0], ok, value) for job, (ok, value) in zip(jobs, replies, strict=True)]
        try:
            conn.send((request, results))
        except (BrokenPipeError, OSError):
            return


class _Worker:
    """One worker process and the caller's end of its pipe."""

    def __init__(self, context: Any) -> None:
        here, there = multiprocessing.Pipe(duplex=True)
        self.process = context.Process(target=serve, args=(there,), daemon=True, name="searchlib-shard-worker")
        self.process.start()
        there.close()
        self.conn: Connection = here

    def alive(self) -> bool:
        return bool(self.process.is_alive())

    def stop(self, timeout: float = 5.0) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(None)
        self.conn.close()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout)


class Round:
    """A round of jobs sent to the workers; :meth:`result` waits for every reply (see :meth:`ShardWorkers.start`)."""

    def __init__(
        self,
        pool: ShardWorkers,
        request: int,
        sent: dict[int, list[tuple[int, Any]]],
        size: int,
    ) -> None:
        self._pool = pool
        self._request = request
        self._sent = sent  # worker number -> [(slot, job), ...]
        self._size = size
        self._done = False

    def result(self) -> list[Any]:
        """Every job's result in order; raises the first job's error, or ArchiveError if a worker died."""
        try:
            return self._pool._collect(self._request, self._sent, self._size)
        finally:
            self._finish()

    def cancel(self) -> None:
        """Give up on the round (its late replies are dropped) and free the pool for the next."""
        self._finish()

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._pool._lock.release()


class ShardWorkers:
    """``workers`` long-lived processes (spawn-started on first use), each owning the shards it was given.

    One round at a time: :meth:`start` holds the pool until the round's :meth:`Round.result`
    (or :meth:`Round.cancel`), so threads sharing an archive take turns.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.size = workers
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker | None] = [None] * workers
        self._home: dict[str, int] = {}
        self._requests = itertools.count(1)
        self._lock = threading.Lock()

    def pids(self) -> list[int]:
        """Process ids of the running workers (tests, diagnostics)."""
        return [w.process.pid for w in self._workers if w is not None and w.process.pid is not None]

    def _home_of(self, shard: str, pinned: bool, load: list[int]) -> int:
        if not pinned:  # a build: the least busy worker of this round
            return min(range(self.size), key=lambda i: (load[i], i))
        home = self._home.get(shard)
        if home is None:
            owned = [0] * self.size
            for i in self._home.values():
                owned[i] += 1
            home = self._home[shard] = min(range(self.size), key=lambda i: (owned[i], i))
        return home

    def _worker(self, number: int) -> _Worker:
        worker = self._workers[number]
        if worker is None or not worker.alive():  # never started, or died since the last round
            if worker is not None:
                worker.conn.close()
            worker = self._workers[number] = _Worker(self._context)
        return worker

    def start(self, jobs: Sequence[Any]) -> Round:
        """Send ``jobs`` (:class:`~searchlib.archive.executor.Job`) to their shards' workers; returns at once."""
        self._lock.acquire()
        try:
            request = next(self._requests)
            load = [0] * self.size
            sent: dict[int, list[tuple[int, Any]]] = {}
            for slot, job in enumerate(jobs):
                home = self._home_of(job.shard, job.pinned, load)
                load[home] += 1
                sent.setdefault(home, []).append((slot, job))
            for number, mine in sent.items():
                worker = self._worker(number)
                message: Message = (request, [(slot, j.path, j.ranking, j.kind, j.args) for slot, j in mine])
                try:
                    worker.conn.send(message)
                except (BrokenPipeError, OSError) as exc:
                    self._lost(number)
                    raise self._died(mine[0][1], exc) from exc
        except BaseException:
            self._lock.release()
            raise
        return Round(self, request, sent, len(jobs))

    def run(self, jobs: Sequence[Any]) -> list[Any]:
        return self.start(jobs).result()

    def _lost(self, number: int) -> None:
        worker, self._workers[number] = self._workers[number], None
        if worker is not None:
            worker.conn.close()
            if worker.alive():
                worker.process.kill()
            worker.process.join(5.0)

    @staticmethod
    def _died(job: Any, exc: BaseException | None) -> ArchiveError:
        detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
        return ArchiveError(
            f"shard {job.shard!r} failed because its worker process died{detail}; no partial answer was returned",
            path=Path(job.path).parent.parent,
            shard=job.shard,
        )

    def _collect(self, request: int, sent: dict[int, list[tuple[int, Any]]], size: int) -> list[Any]:
        results: list[Any] = [None] * size
        errors: list[tuple[int, tasks.Failure]] = []
        waiting = {number: self._workers[number] for number in sent}
        while waiting:
            by_handle: dict[Any, int] = {}
            for number, worker in waiting.items():
                assert worker is not None
                by_handle[worker.conn] = number
                by_handle[worker.process.sentinel] = number
            for ready in wait(list(by_handle)):
                number = by_handle[ready]
                if number not in waiting:
                    continue
                worker = waiting[number]
                assert worker is not None
                try:
                    reply = worker.conn.recv() if worker.conn.poll() else None
                except (EOFError, OSError):
                    reply = None
                if reply is None:
                    if worker.alive() and ready is not worker.process.sentinel:
                        continue  # woken without a whole message: wait again
                    self._lost(number)
                    raise self._died(sent[number][0][1], None)
                got, replies = reply
                if got != request:
                    continue  # a late reply to an abandoned round
                del waiting[number]
                for slot, ok, value in replies:
                    if ok:
                        results[slot] = value
                    else:
                        errors.append((slot, value))
        tasks.raise_first_failure(errors)
        return results

    def close(self) -> None:
        """Stop the workers (after a round in flight); a later round starts new ones."""
        with self._lock:
            workers, self._workers = self._workers, [None] * self.size
        for worker in workers:
            if worker is not None:
                worker.stop()
