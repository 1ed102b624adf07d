"""Where a round of read jobs runs: in this process, on the executor, or split between them, by measured cost.

The process that searches an archive holds every shard open already (it sums their
statistics), so it can run any read job itself. A round of one job always runs here (no
task round trip at all: a date filter that leaves one shard). A round of several is run one
of two ways, whichever has been finishing sooner for that kind of job:

- **split**: the executor gets every job but the first, which this process runs meanwhile;
- **here**: this process runs every job in turn.

Both are timed as they run -- milliseconds per job of a round run here, milliseconds per
split round (the first split round of a kind, which may have started the executor's workers,
is not counted) -- and a round goes "here" when ``jobs x ms per job here`` is at most the ms
of a split round, each the median of the kind's last ``WINDOW`` timings: one slow round (a
view built on first use, a page fault, another process's burst) does not flip the choice,
as it did a running mean, which then took a dozen slow rounds to forget it. A kind first
splits ``FIRST_TIMINGS`` times (after a warm-up round), then runs here as often; after
``PROBE_EVERY`` rounds in a row on one side, one round runs on the other to re-measure it.
Only whole rounds are timed: the job this process runs during a split round
shares the cores with the executor's workers and is not a round run here. The price: the side
not chosen is re-timed only by those probes, so a side that got cheaper wins back its kind
only after a few of them (each probe adds one timing to its median).

A caller may time its rounds under a finer kind than the job's: an archive's ranking rounds
are timed per query shape (``"rank &(d,w)"``, :func:`searchlib.plan.shape_key`), so cheap
shapes -- a word alone -- run here while costly ones go parallel, where one estimate for
every query would send them all the same way. Small shards on a busy machine thus run where
they cost least (a process round trip can cost more than the shards' whole work), large
shards (or an idle machine with several cores) go parallel. Answers are the same either way;
only the time differs. ``local_share=False`` (a thin client) sends every job to the executor.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from searchlib.archive.executor import Job, SerialExecutor, ShardExecutor

__all__ = ["FIRST_TIMINGS", "MAX_KINDS", "PROBE_EVERY", "WINDOW", "Dispatcher"]

PROBE_EVERY = 32
"""Rounds run on one side in a row before one runs on the other to re-measure it."""

MAX_KINDS = 256
"""Kinds timed at most; a new one beyond it forgets the least recently used (bounds memory)."""

WINDOW = 9
"""Timings kept per kind and side; the choice compares their medians."""

FIRST_TIMINGS = 3
"""Rounds a new kind runs on each side before the choice compares them (a first round here may
build a view: one timing alone would send the kind to the executor for ``PROBE_EVERY`` rounds)."""

T = TypeVar("T")


def _median(timings: collections.deque[float]) -> float | None:
    return statistics.median(timings) if timings else None


class _Kind:
    """One kind's timings and where its recent rounds ran."""

    __slots__ = ("here", "last", "split", "streak", "warm")

    def __init__(self) -> None:
        self.here: collections.deque[float] = collections.deque(maxlen=WINDOW)  # ms per job, rounds run here
        self.split: collections.deque[float] = collections.deque(maxlen=WINDOW)  # ms per split round
        self.warm = False  # a split round has run (the executor is started)
        self.last: bool | None = None  # where the last round went (True: here)
        self.streak = 0  # rounds in a row that went there


class Dispatcher:
    """Runs rounds of read jobs for one archive (see the module docstring); shared by its threads."""

    def __init__(self, executor: ShardExecutor, *, local_share: bool = True) -> None:
        self.executor = executor
        self.local_share = local_share
        self._kinds: dict[str, _Kind] = {}
        self._lock = threading.Lock()
        self._helper: cf.ThreadPoolExecutor | None = None  # waits on an executor without ``start``

    def _kind(self, kind: str) -> _Kind:
        """``kind``'s timings, made on first use and moved last on every use (so past
        ``MAX_KINDS`` the least recently used goes); the lock is held."""
        found = self._kinds.pop(kind, None)
        if found is None:
            if len(self._kinds) >= MAX_KINDS:
                del self._kinds[next(iter(self._kinds))]
            found = _Kind()
        self._kinds[kind] = found
        return found

    def all_here(self, kind: str, jobs: int) -> bool:
        """Whether a round of ``jobs`` jobs of ``kind`` should run entirely in this process."""
        with self._lock:
            timed = self._kind(kind)
            if len(timed.split) < FIRST_TIMINGS:
                here = False  # the executor first (its first round a warm-up) ...
            elif len(timed.here) < FIRST_TIMINGS:
                here = True  # ... then this process
            else:
                here = statistics.median(timed.here) * jobs <= statistics.median(timed.split)
            timed.streak = timed.streak + 1 if here == timed.last else 1
            if timed.streak > PROBE_EVERY:  # re-measure the other side now and then
                here, timed.streak = not here, 1
            timed.last = here
            return here

    def estimates(self) -> dict[str, tuple[float | None, float | None]]:
        """kind -> (ms per job here, ms per split round): the medians the choice compares, None
        before a side has been timed (diagnostics, benchmarks)."""
        with self._lock:
            return {name: (_median(timed.here), _median(timed.split)) for name, timed in sorted(self._kinds.items())}

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
            ms = (time.perf_counter() - started) * 1000 / max(jobs, 1)
            with self._lock:
                self._kind(kind).here.append(ms)
        return out

    def run(
        self, jobs: Sequence[Job], here: Callable[[Job], Any], *, kind: str | None = None, split: bool = False
    ) -> list[Any]:
        """Every job's result, in order; ``here(job)`` runs one in this process. The round is
        timed as ``kind`` (default: the jobs' own); ``split=True``: the caller asked
        :meth:`runs_here` already and was told no (it is not asked again)."""
        if not jobs:
            return []
        kind = jobs[0].kind if kind is None else kind
        if not split and self.runs_here(kind, len(jobs)):
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
            first = here(jobs[0])
        except BaseException:
            pending.cancel()
            raise
        rest = collect()
        ms = (time.perf_counter() - started) * 1000
        with self._lock:
            timed = self._kind(kind)
            if timed.warm:
                timed.split.append(ms)
            timed.warm = True  # the first split round of a kind may have started the workers: not its cost
        return [first, *rest]

    def close(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.shutdown(wait=True)
