"""Where a round of read jobs runs: in this process, on the executor, or split between them, by measured cost.

The process that searches an archive holds every shard open already (it sums their
statistics), so it can run any read job itself. A round of one job always runs here (no
task round trip at all: a date filter that leaves one shard). A round of several is run one
of two ways, whichever has been finishing sooner for that kind of job:

- **split**: the executor gets every job but the first, which this process runs meanwhile;
- **here**: this process runs every job in turn.

Both are timed as they run (an exponentially weighted mean per kind: milliseconds per job
run here, milliseconds per split round; the first split round of a kind, which may have
started the executor's workers, is not counted), and a round goes "here" when ``jobs x ms per job
here`` is at most the ms of a split round. A caller may time its rounds under a finer kind than
the job's: an archive's ranking rounds are timed per query shape (``"rank &(d,w)"``,
:func:`searchlib.plan.shape_key`), so cheap shapes -- a word alone -- run here while costly ones
go parallel, where one mean over every query would send them all the same way. Every split
round also times one job here, so the "here" estimate never goes stale; after
``PROBE_EVERY`` rounds in a row run here, one round is split again to refresh the other.
Small shards on a busy machine thus run where they cost least (a process round trip can
cost more than the shards' whole work), large shards (or an idle machine with several cores)
go parallel. Answers are the same either way; only the time differs. ``local_share=False``
(a thin client) sends every job to the executor.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from searchlib.archive.executor import Job, SerialExecutor, ShardExecutor

__all__ = ["PROBE_EVERY", "Dispatcher"]

PROBE_EVERY = 32
"""Rounds run in this process in a row before one is split again to re-measure the executor."""

MAX_KINDS = 256
"""Kinds timed at most; a new one beyond it forgets the one timed first (bounds memory)."""

T = TypeVar("T")

WEIGHT = 0.2
"""Weight of the newest timing in the running means."""


class Dispatcher:
    """Runs rounds of read jobs for one archive (see the module docstring); shared by its threads."""

    def __init__(self, executor: ShardExecutor, *, local_share: bool = True) -> None:
        self.executor = executor
        self.local_share = local_share
        self._here_ms: dict[str, float] = {}  # kind -> ms per job run in this process
        self._split_ms: dict[str, float] = {}  # kind -> ms per split round
        self._streak: dict[str, int] = {}  # kind -> rounds run here in a row
        self._warm: dict[str, bool] = {}  # kind -> a split round has run (the executor is started)
        self._lock = threading.Lock()
        self._helper: cf.ThreadPoolExecutor | None = None  # waits on an executor without ``start``

    def _mean(self, table: dict[str, float], kind: str, ms: float) -> None:
        with self._lock:
            old = table.get(kind)
            if old is None and len(table) >= MAX_KINDS:
                forgotten = next(iter(table))
                for tables in (self._here_ms, self._split_ms, self._streak, self._warm):
                    tables.pop(forgotten, None)
            table[kind] = ms if old is None else (1 - WEIGHT) * old + WEIGHT * ms

    def all_here(self, kind: str, jobs: int) -> bool:
        """Whether a round of ``jobs`` jobs of ``kind`` should run entirely in this process."""
        with self._lock:
            here, split = self._here_ms.get(kind), self._split_ms.get(kind)
            if here is None or split is None or here * jobs > split:
                self._streak.pop(kind, None)  # none in a row (absent: a kind never timed adds nothing)
                return False
            streak = self._streak.get(kind, 0) + 1
            if streak > PROBE_EVERY:  # re-measure the executor now and then
                self._streak[kind] = 0
                return False
            self._streak[kind] = streak
            return True

    def estimates(self) -> dict[str, tuple[float | None, float | None]]:
        """kind -> (ms per job here, ms per split round), as measured so far (diagnostics, benchmarks)."""
        with self._lock:
            kinds = sorted({*self._here_ms, *self._split_ms})
            return {k: (self._here_ms.get(k), self._split_ms.get(k)) for k in kinds}

    def runs_here(self, kind: str, jobs: int) -> bool:
        """Whether a round of ``jobs`` jobs of ``kind`` is to run entirely in this process now.

        A caller that can run such a round more cheaply than job by job (one pass over every
        shard, :func:`searchlib.archive.tasks.rank_here`) asks this, then times the round
        with :meth:`timed_here`; otherwise :meth:`run` decides the same way.
        """
        if isinstance(self.executor, SerialExecutor):
            return True
        return self.local_share and (jobs == 1 or self.all_here(kind, jobs))

    def timed_here(self, kind: str, jobs: int, fn: Callable[[], T]) -> T:
        """``fn()``, a round of ``jobs`` jobs of ``kind`` run in this process, timed into the estimates."""
        started = time.perf_counter()
        out = fn()
        if not isinstance(self.executor, SerialExecutor):
            self._mean(self._here_ms, kind, (time.perf_counter() - started) * 1000 / max(jobs, 1))
        return out

    def run(self, jobs: Sequence[Job], here: Callable[[Job], Any], *, kind: str | None = None) -> list[Any]:
        """Every job's result, in order; ``here(job)`` runs one in this process. The round is
        timed as ``kind`` (default: the jobs' own)."""
        if not jobs:
            return []
        kind = jobs[0].kind if kind is None else kind
        if self.runs_here(kind, len(jobs)):
            return self.timed_here(kind, len(jobs), lambda: [here(j) for j in jobs])
        if not self.local_share:
            return self.executor.run(jobs)
        started = time.perf_counter()
        start = getattr(self.executor, "start", None)
        if start is not None:  # the executor sends the jobs and returns: this thread runs its share meanwhile
            pending = start(jobs[1:])
            collect: Callable[[], list[Any]] = pending.result
        else:
            with self._lock:
                if self._helper is None:
                    self._helper = cf.ThreadPoolExecutor(1, thread_name_prefix="searchlib-archive")
                helper = self._helper
            pending = helper.submit(self.executor.run, jobs[1:])
            collect = pending.result
        try:
            own = time.perf_counter()
            first = here(jobs[0])
            self._mean(self._here_ms, kind, (time.perf_counter() - own) * 1000)
        except BaseException:
            pending.cancel()
            raise
        rest = collect()
        ms = (time.perf_counter() - started) * 1000
        with self._lock:
            warm = self._warm.get(kind, False)
            self._warm[kind] = True
        if warm:  # the first split round of a kind may have started the workers: seconds, not the round's cost
            self._mean(self._split_ms, kind, ms)
        return [first, *rest]

    def close(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.shutdown(wait=True)
