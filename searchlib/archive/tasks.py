"""The work one shard does for an archive query, run wherever the executor puts it.

Every task is a top-level function of plain, picklable arguments, so a local process pool
and a Dask worker run the same code. Each process keeps the shard indexes it opened
(``_OPEN``): a worker that served a shard once answers its next query without reopening it.

A task's error crosses back to the caller as :func:`failure` ``(error, traceback text)``;
:func:`reraisable` gives the caller the error with a :class:`RemoteTraceback` of the worker's
frames as its ``__cause__`` (what ``concurrent.futures`` does), so an unexpected error still
names the file and line where it happened. The error's own type and attributes are unchanged.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from searchlib.index import Index, Ranking
from searchlib.shards import rank_given, rank_here
from searchlib.shards import run as run_on

__all__ = [
    "RemoteTraceback",
    "ShardActor",
    "failure",
    "forget",
    "portable",
    "raise_first_failure",
    "rank_here",
    "reraisable",
    "run_jobs",
    "run_on",
    "run_task",
]

_OPEN: dict[tuple[str, float, float], Index] = {}
_LOCK = threading.Lock()


def _index(path: str, ranking: Ranking) -> Index:
    key = (path, ranking.k1, ranking.b)
    with _LOCK:
        index = _OPEN.get(key)
        if index is None:
            index = _OPEN[key] = Index.open(path, ranking=ranking)
        return index


def forget(root: Path) -> None:
    """Close this process's cached shards under ``root`` (when an archive closes)."""
    prefix = str(root)
    with _LOCK:
        for key in [k for k in _OPEN if k[0].startswith(prefix)]:
            _OPEN.pop(key).close()


def run_task(path: str, ranking: Ranking, kind: str, args: dict[str, Any]) -> Any:
    """Run task ``kind`` on the shard index at ``path`` (see :mod:`searchlib.archive.archive`)."""
    if kind == "build":
        from searchlib.archive.build import build_shard  # the writing side, only where builds run

        return build_shard(path, ranking, args["batch"], args["extractor"], args["commit_every"])
    return run_on(_index(path, ranking), kind, args)


Reply = tuple[bool, Any]
"""(True, result) or (False, :func:`failure`)."""


def _same_round(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(a[k] == b[k] for k in a if k not in ("hidden", "expect"))


def run_jobs(jobs: Sequence[tuple[str, Ranking, str, dict[str, Any]]]) -> list[Reply]:
    """A worker's share of a round: a :data:`Reply` for each (path, ranking, kind, args), in order.

    "rank" jobs of one round (same arguments but ``hidden`` and ``expect``: the same plan, statistics and
    page) on several shards this worker holds run together, in one pass over all their
    segments (:func:`searchlib.shards.rank_given`): the worker sends back only its best
    ``wanted`` hits (and their articles) rather than ``wanted`` per shard. Other jobs run one
    by one (:func:`run_task`).
    """
    out: list[Reply | None] = [None] * len(jobs)
    batches: list[list[int]] = []
    for at, (_path, ranking, kind, args) in enumerate(jobs):
        if kind != "rank":
            continue
        for batch in batches:
            _p, other_ranking, _k, other = jobs[batch[0]]
            if other_ranking == ranking and _same_round(other, args):
                batch.append(at)
                break
        else:
            batches.append([at])
    for batch in batches:
        if len(batch) < 2:
            continue
        try:
            pages = rank_given(
                [_index(jobs[at][0], jobs[at][1]) for at in batch],
                jobs[batch[0]][3]["query"],
                [jobs[at][3] for at in batch],
            )
            for at, page in zip(batch, pages, strict=True):
                out[at] = (True, page)
        except Exception as exc:
            for at in batch:
                out[at] = (False, failure(exc))
    for at, (path, ranking, kind, args) in enumerate(jobs):
        if out[at] is None:
            try:
                out[at] = (True, run_task(path, ranking, kind, args))
            except Exception as exc:
                out[at] = (False, failure(exc))
    return [reply for reply in out if reply is not None]


def portable(exc: BaseException) -> BaseException:
    """``exc`` if it pickles (searchlib's errors do), else a RuntimeError with its text (to cross processes)."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class RemoteTraceback(Exception):
    """The traceback, as text, of an error in the process that ran a shard task: that error's ``__cause__``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'


Failure = tuple[BaseException, str]
"""A failed task's error (:func:`portable`) and the text of its traceback where it was raised."""


def failure(exc: BaseException) -> Failure:
    """What a worker sends back for a task that raised ``exc``: the error and its traceback's text."""
    return portable(exc), "".join(traceback.format_exception(exc))


def reraisable(sent: Failure) -> BaseException:
    """The caller's side of :func:`failure`: the error, its ``__cause__`` the worker's traceback."""
    exc, text = sent
    exc.__cause__ = RemoteTraceback(text)
    return exc


def raise_first_failure(errors: list[tuple[int, Failure]]) -> None:
    """Raise the failure of the lowest job slot among ``(slot, failure)`` pairs (nothing if none)."""
    if errors:  # the first job's, with the worker's traceback as its __cause__
        raise reraisable(min(errors, key=lambda e: e[0])[1])


class ShardActor:
    """A Dask actor, one per worker: runs that worker's shard jobs of a round in one call.

    An actor's method call goes from the client to its worker directly, not through the
    scheduler's task graph, so a round costs one message per worker (what the local pool's
    pipes do, :mod:`searchlib.archive.pool`). The shards stay open in the worker's ``_OPEN``.
    """

    def run(self, jobs: list[tuple[str, Ranking, str, dict[str, Any]]]) -> list[Reply]:
        """A reply for each (path, ranking, kind, args), in order (:func:`run_jobs`)."""
        return run_jobs(jobs)
