"""Where an archive's rounds of read jobs run (searchlib.archive.dispatch): measured, per kind of job."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import pytest

from searchlib import Ranking
from searchlib.archive import dispatch
from searchlib.archive.dispatch import Dispatcher
from searchlib.archive.executor import Job, SerialExecutor


class Remote:
    """An executor whose every round takes ``delay`` seconds; records the jobs it ran."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.ran: list[str] = []

    def run(self, jobs: Sequence[Job]) -> list[Any]:
        time.sleep(self.delay)
        self.ran += [j.shard for j in jobs]
        return [f"remote {j.shard}" for j in jobs]

    def close(self) -> None:
        pass


def _jobs(n: int, kind: str = "rank") -> list[Job]:
    return [Job(f"s{i}", f"/x/shards/s{i}", Ranking(), kind, {}) for i in range(n)]


def _here(delay: float) -> Any:
    def run(job: Job) -> str:
        time.sleep(delay)
        return f"here {job.shard}"

    return run


def test_cheap_shards_run_here_after_one_split_round(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "PROBE_EVERY", 5)
    remote = Remote(0.05)
    d = Dispatcher(remote)
    for _ in range(2):  # split: nothing measured yet (the first split round, a warm-up, is not counted)
        assert d.run(_jobs(3), _here(0.0)) == ["here s0", "remote s1", "remote s2"]
    for _ in range(5):
        assert d.run(_jobs(3), _here(0.0)) == ["here s0", "here s1", "here s2"]
    assert remote.ran == ["s1", "s2"] * 2
    d.run(_jobs(3), _here(0.0))  # the sixth in a row re-measures the executor
    assert remote.ran == ["s1", "s2"] * 3
    here, split = d.estimates()["rank"]
    assert here is not None and split is not None and here * 3 < split


def test_the_first_split_round_is_a_warm_up() -> None:
    remote = Remote(0.0)
    d = Dispatcher(remote)
    remote.delay = 0.2  # e.g. starting the workers
    d.run(_jobs(3), _here(0.0))
    assert d.estimates() == {"rank": (d.estimates()["rank"][0], None)}
    remote.delay = 0.0
    d.run(_jobs(3), _here(0.001))
    here, split = d.estimates()["rank"]
    assert here is not None and split is not None and split < 100


def test_costly_shards_stay_split() -> None:
    remote = Remote(0.0)
    d = Dispatcher(remote)
    for _ in range(4):
        assert d.run(_jobs(3), _here(0.02)) == ["here s0", "remote s1", "remote s2"]
    assert remote.ran == ["s1", "s2"] * 4


def test_kinds_are_measured_apart() -> None:
    remote = Remote(0.03)
    d = Dispatcher(remote)
    d.run(_jobs(2, "rank"), _here(0.0))
    d.run(_jobs(2, "rank"), _here(0.0))
    assert d.run(_jobs(2, "rank"), _here(0.0)) == ["here s0", "here s1"]
    assert d.run(_jobs(2, "dates"), _here(0.0)) == ["here s0", "remote s1"]  # no timing of "dates" yet


def test_one_job_runs_here_and_a_thin_client_sends_everything() -> None:
    remote = Remote(0.0)
    assert Dispatcher(remote).run(_jobs(1), _here(0.0)) == ["here s0"]
    thin = Dispatcher(remote, local_share=False)
    for _ in range(3):
        assert thin.run(_jobs(2), _here(0.0)) == ["remote s0", "remote s1"]


def test_serial_runs_everything_here() -> None:
    assert Dispatcher(SerialExecutor()).run(_jobs(3), _here(0.0)) == ["here s0", "here s1", "here s2"]


def test_an_error_here_abandons_the_round() -> None:
    def boom(job: Job) -> str:
        raise ValueError("bad shard")

    d = Dispatcher(Remote(0.0))
    with pytest.raises(ValueError, match="bad shard"):
        d.run(_jobs(3), boom)
    d.close()
