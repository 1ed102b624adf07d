"""Where shard tasks run: in this process, in a local process pool, or on a Dask cluster.

Every executor takes a list of jobs (shard name, shard path, task, arguments) and returns
their results in order, or raises: a job that fails because its worker died becomes an
:class:`~searchlib.errors.ArchiveError` naming the shard, never a missing piece of the
answer. Errors a shard raises on purpose (a :class:`~searchlib.errors.SearchlibError`, such
as a query syntax error) pass through unchanged; an error from a worker process carries
that worker's traceback as its ``__cause__`` (:class:`~searchlib.archive.tasks.RemoteTraceback`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

from searchlib.archive import tasks
from searchlib.archive.pool import Round, ShardWorkers
from searchlib.errors import ArchiveError, SearchlibError
from searchlib.index import Ranking

__all__ = ["DaskExecutor", "Job", "ProcessExecutor", "SerialExecutor", "ShardExecutor", "make_executor"]


@attrs.frozen
class Job:
    shard: str
    path: str
    ranking: Ranking
    kind: str
    args: dict[str, Any]
    pinned: bool = True
    """Run on the shard's own worker (Dask); ``False`` lets the scheduler balance (builds)."""


class ShardExecutor(Protocol):
    def run(self, jobs: Sequence[Job]) -> list[Any]:
        """Every job's result, in order; raises if any job could not be run."""

    def close(self) -> None:
        """Release workers (a Dask client given by the caller stays open)."""


class SerialExecutor:
    """Runs shard tasks one after another in this process (small archives, tests, debugging)."""

    def run(self, jobs: Sequence[Job]) -> list[Any]:
        return [tasks.run_task(j.path, j.ranking, j.kind, j.args) for j in jobs]

    def close(self) -> None:
        pass


def _failed(job: Job, exc: BaseException, where: str, root: Path | None) -> ArchiveError:
    return ArchiveError(
        f"shard {job.shard!r} failed {where}: {type(exc).__name__}: {exc}; no partial answer was returned",
        path=root,
        shard=job.shard,
    )


class ProcessExecutor:
    """A local pool of processes (default: one per core, at most 4), started on first use.

    Each process owns the shards it was first given and keeps them open
    (:class:`~searchlib.archive.pool.ShardWorkers`: one pickled message per worker a round,
    over its own pipe). If a process dies mid-query the query raises :class:`ArchiveError`;
    the process is replaced and the next query runs normally.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or min(os.cpu_count() or 1, 4)
        self._pool = ShardWorkers(self.workers)

    def start(self, jobs: Sequence[Job]) -> Round:
        """Send the jobs and return at once; ``.result()`` collects them (the caller works meanwhile)."""
        return self._pool.start(jobs)

    def run(self, jobs: Sequence[Job]) -> list[Any]:
        return self._pool.run(jobs)

    def pids(self) -> list[int]:
        """Process ids of the running workers."""
        return self._pool.pids()

    def close(self) -> None:
        self._pool.close()


WORKERS_TTL = 2.0
"""Seconds the list of Dask workers is reused before the scheduler is asked again."""

WAIT_FOR_WORKERS = 60.0
"""Seconds a query waits for a Dask cluster with no workers yet."""


ACTOR_POLL = 1.0
"""Seconds between checks, while waiting on a Dask actor, that its worker is still in the cluster."""


class _DaskRound:
    """A round sent to Dask actors; :meth:`result` waits for every reply."""

    def __init__(self, executor: DaskExecutor, sent: list[tuple[str, list[tuple[int, Job]], Any]], size: int) -> None:
        self._executor = executor
        self._sent = sent  # (worker, [(slot, job)], actor future)
        self._size = size

    def result(self) -> list[Any]:
        out: list[Any] = [None] * self._size
        errors: list[tuple[int, tasks.Failure]] = []
        for (_worker, mine, _future), replies in zip(self._sent, self._executor._gather(self._sent), strict=True):
            for (slot, _job), (ok, value) in zip(mine, replies, strict=True):
                if ok:
                    out[slot] = value
                else:
                    errors.append((slot, value))
        tasks.raise_first_failure(errors)
        return out

    def cancel(self) -> None:
        """Nothing to stop: the actors' late replies are simply never read."""


class DaskExecutor:
    """Shard tasks on a Dask distributed cluster, each shard pinned to one worker.

    A shard goes to the worker chosen by a stable hash of its name among the workers alive,
    so that worker keeps it open between queries. Reading rounds go to one
    :class:`~searchlib.archive.tasks.ShardActor` per worker (``actors=True``, the default):
    one direct call per worker a round, not a task through the scheduler (~2 ms instead of
    ~15-30 ms a round here). If a worker dies mid-query the query raises
    :class:`ArchiveError` and the actors are made again for the next query. With
    ``actors=False`` every job is a task (``client.submit(..., workers=[w],
    allow_other_workers=True)``) and a dead worker's task is rerun on another (Dask's
    ``allowed-failures``). Builds are always tasks the scheduler may balance over every
    worker. Workers must see the archive at the same path (a shared disk).
    """

    def __init__(self, client: Any, *, owns_client: bool = False, actors: bool = True) -> None:
        self.client = client
        self.owns_client = owns_client
        """Close the client with the archive (the CLI's own client); a caller's client stays open."""
        self.actors = actors
        self._known: tuple[float, list[str]] = (0.0, [])
        self._actors: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _worker_for(self, shard: str, workers: list[str]) -> str:
        digest = hashlib.blake2b(shard.encode("utf-8"), digest_size=8).digest()
        return workers[int.from_bytes(digest, "big") % len(workers)]

    def _workers(self, fresh: bool = False) -> list[str]:
        """Worker addresses, asked of the scheduler at most every ``WORKERS_TTL`` seconds."""
        when, workers = self._known
        if workers and not fresh and time.monotonic() - when < WORKERS_TTL:
            return workers
        try:
            info = self.client.scheduler_info(n_workers=-1)
        except TypeError:  # older distributed: every worker by default
            info = self.client.scheduler_info()
        workers = sorted(info["workers"])
        self._known = (time.monotonic(), workers)
        with self._lock:
            for gone in set(self._actors) - set(workers):
                del self._actors[gone]
        return workers

    def _alive(self) -> list[str]:
        workers = self._workers()
        if not workers:  # a cluster still starting: wait for a worker rather than fail
            try:
                self.client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
            except Exception as exc:
                raise ArchiveError(f"no Dask worker joined within {WAIT_FOR_WORKERS:.0f} s: {exc}") from exc
            workers = self._workers(fresh=True)
        return workers

    def _actor(self, worker: str) -> Any:
        with self._lock:
            actor = self._actors.get(worker)
        if actor is None:
            made = self.client.submit(tasks.ShardActor, workers=[worker], actor=True, pure=False)
            with self.client.as_current():  # the handle binds to the current client: ours, not another's
                actor = made.result()
            with self._lock:
                actor = self._actors.setdefault(worker, actor)
        return actor

    def _lost(self, job: Job, exc: BaseException) -> ArchiveError:
        with self._lock:
            self._actors.clear()  # made again, on the workers alive then, by the next round
        self._known = (0.0, [])
        return _failed(job, exc, "on the Dask cluster (its worker was lost)", Path(job.path).parent.parent)

    def _gather(self, sent: list[tuple[str, list[tuple[int, Job]], Any]]) -> list[list[tuple[bool, Any]]]:
        """Every actor call's reply, in order; ArchiveError if a call fails or its worker leaves the cluster.

        The replies are awaited together on the client's event loop, in one hop to it (not one
        ``result()`` per worker: each hop costs ~0.1-0.3 ms on a busy machine); every
        ``ACTOR_POLL`` seconds without every reply, the workers still waited on are checked
        against the scheduler's list.
        """
        if len(sent) == 1:
            worker, mine, future = sent[0]
            return [self._wait(worker, mine[0][1], future)]
        waits: list[Any] = []

        async def first() -> None:
            waits.extend(asyncio.ensure_future(future) for _w, _m, future in sent)
            await asyncio.wait(waits, timeout=ACTOR_POLL, return_when=asyncio.FIRST_EXCEPTION)

        async def again() -> None:
            pending = [w for w in waits if not w.done()]  # (all may have finished since the check)
            if pending:
                await asyncio.wait(pending, timeout=ACTOR_POLL, return_when=asyncio.FIRST_EXCEPTION)

        self.client.sync(first)
        while True:
            for (_worker, mine, _future), waited in zip(sent, waits, strict=True):
                if waited.done() and waited.exception() is not None:
                    exc = waited.exception()
                    raise self._lost(mine[0][1], exc) from exc
            if all(w.done() for w in waits):
                return [w.result() for w in waits]
            alive = self._workers(fresh=True)
            for (worker, mine, _future), waited in zip(sent, waits, strict=True):
                if not waited.done() and worker not in alive:
                    raise self._lost(mine[0][1], RuntimeError(f"worker {worker} left the cluster"))
            self.client.sync(again)

    def _wait(self, worker: str, job: Job, future: Any) -> list[tuple[bool, Any]]:
        """An actor call's reply; ArchiveError if the call fails or its worker leaves the cluster."""
        while True:
            try:
                return future.result(timeout=ACTOR_POLL)  # type: ignore[no-any-return]
            except TimeoutError:
                if worker not in self._workers(fresh=True):
                    raise self._lost(job, RuntimeError(f"worker {worker} left the cluster")) from None
            except Exception as exc:
                raise self._lost(job, exc) from exc

    def start(self, jobs: Sequence[Job]) -> Any:
        """Send the jobs and return at once; ``.result()`` collects them (the caller works meanwhile)."""
        if not self.actors or not all(j.pinned for j in jobs):
            return self._submit(jobs)
        workers = self._alive()
        groups: dict[str, list[tuple[int, Job]]] = {}
        for slot, job in enumerate(jobs):
            groups.setdefault(self._worker_for(job.shard, workers), []).append((slot, job))
        sent = []
        for worker, mine in groups.items():
            try:
                actor = self._actor(worker)
                future = actor.run([(j.path, j.ranking, j.kind, j.args) for _slot, j in mine])
            except Exception as exc:
                raise self._lost(mine[0][1], exc) from exc
            sent.append((worker, mine, future))
        return _DaskRound(self, sent, len(jobs))

    def run(self, jobs: Sequence[Job]) -> list[Any]:
        return self.start(jobs).result()  # type: ignore[no-any-return]

    def _submit(self, jobs: Sequence[Job]) -> _TaskRound:
        workers = self._alive()
        futures = [
            self.client.submit(
                tasks.run_task,
                j.path,
                j.ranking,
                j.kind,
                j.args,
                pure=False,
                **({"workers": [self._worker_for(j.shard, workers)], "allow_other_workers": True} if j.pinned else {}),
            )
            for j in jobs
        ]
        return _TaskRound(jobs, futures)

    def close(self) -> None:
        with self._lock:
            self._actors.clear()
        if self.owns_client:
            self.client.close()


class _TaskRound:
    """A round of Dask tasks (builds, or ``actors=False``); :meth:`result` waits for them."""

    def __init__(self, jobs: Sequence[Job], futures: list[Any]) -> None:
        self._jobs = jobs
        self._futures = futures

    def result(self) -> list[Any]:
        out = []
        for job, future in zip(self._jobs, self._futures, strict=True):
            try:
                out.append(future.result())
            except SearchlibError:
                raise
            except Exception as exc:
                self.cancel()
                raise _failed(job, exc, "on the Dask cluster", Path(job.path).parent.parent) from exc
        return out

    def cancel(self) -> None:
        for f in self._futures:
            f.cancel()


def make_executor(executor: Any) -> ShardExecutor:
    """``"process"`` (default), ``"serial"``, a Dask ``Client``, or an object with ``run``/``close``."""
    if executor is None or executor == "process":
        return ProcessExecutor()
    if executor == "serial":
        return SerialExecutor()
    if isinstance(executor, str):
        raise ValueError(f"executor must be 'process', 'serial' or a Dask Client, not {executor!r}")
    if hasattr(executor, "scheduler_info") and hasattr(executor, "submit"):
        return DaskExecutor(executor)
    if hasattr(executor, "run") and hasattr(executor, "close"):
        return executor  # type: ignore[no-any-return]
    raise TypeError(f"not an executor: {executor!r}")
