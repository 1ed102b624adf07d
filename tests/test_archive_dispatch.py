"""Where an archive's rounds of read jobs run (searchlib.archive.dispatch): measured, per kind of job."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import Any

import pytest

from searchlib import Archive, Article, NoExtractor, Ranking, plan
from searchlib import query as q
from searchlib.archive import dispatch
from searchlib.archive.dispatch import Dispatcher
from searchlib.archive.executor import Job, SerialExecutor
from searchlib.querying import _filters


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


def test_cheap_shards_run_here_once_both_sides_are_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "PROBE_EVERY", 5)
    n = dispatch.FIRST_TIMINGS
    remote = Remote(0.05)
    d = Dispatcher(remote)
    for _ in range(1 + n):  # split: a warm-up round (not counted), then n timed
        assert d.run(_jobs(3), _here(0.0)) == ["here s0", "remote s1", "remote s2"]
    for _ in range(5):  # n rounds timing this process, then its choice
        assert d.run(_jobs(3), _here(0.0)) == ["here s0", "here s1", "here s2"]
    assert remote.ran == ["s1", "s2"] * (1 + n)
    d.run(_jobs(3), _here(0.0))  # the sixth in a row re-measures the executor
    assert remote.ran == ["s1", "s2"] * (2 + n)
    here, split = d.estimates()["rank"]
    assert here is not None and split is not None and here * 3 < split


def test_the_first_split_round_is_a_warm_up() -> None:
    remote = Remote(0.0)
    d = Dispatcher(remote)
    remote.delay = 0.2  # e.g. starting the workers
    d.run(_jobs(3), _here(0.0))
    assert d.estimates() == {"rank": (None, None)}
    remote.delay = 0.0
    for _ in range(dispatch.FIRST_TIMINGS):  # split again: now timed
        d.run(_jobs(3), _here(0.001))
    here, split = d.estimates()["rank"]
    assert here is None and split is not None and split < 100
    assert d.run(_jobs(3), _here(0.001)) == ["here s0", "here s1", "here s2"]  # then this process
    assert d.estimates()["rank"][0] is not None


def test_costly_shards_stay_split() -> None:
    """Split (a warm-up, then timed), here as many times to time this process, then split for good."""
    n = dispatch.FIRST_TIMINGS
    remote = Remote(0.0)
    d = Dispatcher(remote)
    rounds = [d.run(_jobs(3), _here(0.02)) for _ in range(2 * n + 4)]
    assert rounds[1 + n : 1 + 2 * n] == [["here s0", "here s1", "here s2"]] * n
    assert rounds[: 1 + n] + rounds[1 + 2 * n :] == [["here s0", "remote s1", "remote s2"]] * (n + 4)


def test_one_slow_round_does_not_flip_the_choice() -> None:
    """The choice compares medians: a round here slowed once (a view built on first use) is
    outvoted by the rounds around it, where a running mean sent the next rounds to the executor."""
    remote = Remote(0.03)
    d = Dispatcher(remote)
    for _ in range(1 + 2 * dispatch.FIRST_TIMINGS):
        d.run(_jobs(2), _here(0.0))
    ran = len(remote.ran)
    assert d.run(_jobs(2), _here(0.2)) == ["here s0", "here s1"]  # slow, once
    for _ in range(5):
        assert d.run(_jobs(2), _here(0.0)) == ["here s0", "here s1"]
    assert len(remote.ran) == ran


def test_a_split_round_does_not_time_its_own_job_as_a_round_here() -> None:
    """The job this process runs during a split round shares the cores with the workers: only
    whole rounds run here are timed as this process's cost."""
    d = Dispatcher(Remote(0.0))
    for _ in range(1 + dispatch.FIRST_TIMINGS):
        assert d.run(_jobs(3), _here(0.05)) == ["here s0", "remote s1", "remote s2"]
    assert d.estimates()["rank"][0] is None


def test_kinds_are_measured_apart() -> None:
    remote = Remote(0.03)
    d = Dispatcher(remote)
    for _ in range(1 + dispatch.FIRST_TIMINGS):
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


def test_kinds_timed_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``MAX_KINDS`` kinds a new one forgets the least recently used: memory stays bounded."""
    monkeypatch.setattr(dispatch, "MAX_KINDS", 2)
    d = Dispatcher(Remote(0.0))
    for kind in ("a", "b", "c"):
        for _ in range(2):
            d.run(_jobs(2), _here(0.0), kind=kind)
    assert sorted(d.estimates()) == ["b", "c"]
    d.run(_jobs(2), _here(0.0), kind="b")  # used again: "c" is now the least recently used
    d.run(_jobs(2), _here(0.0), kind="a")
    assert sorted(d.estimates()) == ["a", "b"]


def test_a_round_is_timed_as_the_kind_its_caller_names() -> None:
    """An archive times ranking rounds per query shape: a cheap shape runs here while a costly
    one, timed apart, stays split."""
    remote = Remote(0.03)
    d = Dispatcher(remote)
    for _ in range(1 + 2 * dispatch.FIRST_TIMINGS):  # both sides timed for both kinds
        d.run(_jobs(2), _here(0.0), kind="rank w")
        d.run(_jobs(2), _here(0.05), kind="rank p")
    assert d.run(_jobs(2), _here(0.0), kind="rank w") == ["here s0", "here s1"]
    assert d.run(_jobs(2), _here(0.05), kind="rank p") == ["here s0", "remote s1"]
    assert set(d.estimates()) == {"rank w", "rank p"}  # the jobs' own kind ("rank") never timed


@pytest.mark.parametrize(
    ("query", "dates", "shape"),
    [
        ("strike", None, "w"),
        ("strike port", None, "&(w,w)"),
        ("strike OR wages", None, "|(w,w)"),
        ('"strike port"', None, "p"),
        ("str*", None, "x"),
        ("strike -port", None, "&(w)-(w)"),
        ("strike", ("2024-01-01", "2024-01-31"), "&(d,w)"),
        ("", ("2024-01-01", "2024-01-31"), "&(d,e)"),
        ('strike entity:"Port Authority"', None, "&(k,w)"),
        (" OR ".join(f"w{i}" for i in range(40)), None, "long"),
    ],
)
def test_a_plans_shape_key_names_its_shape_without_its_words(query: str, dates: Any, shape: str) -> None:
    low, high = dates or (None, None)
    assert plan.shape_key(Ranking().plan(q.parse(query), _filters(low, high, (), None)).root) == shape


def test_an_archive_times_its_ranking_rounds_per_query_shape(tmp_path: Any) -> None:
    articles = [
        Article(id=f"a{i}", date=dt.date(2024, 1, 1 + i % 20), title="t", body=f"strike port wages {i}")
        for i in range(40)
    ]
    with Archive.create(tmp_path / "ar", shard_by="hash", shards=3, executor="serial", extractor=NoExtractor()) as ar:
        ar.add(*articles)

    class Elsewhere:  # runs the jobs as a pool would, but in this process (not a SerialExecutor: timed)
        def __init__(self) -> None:
            self.serial = SerialExecutor()

        def run(self, jobs: Sequence[Job]) -> list[Any]:
            return self.serial.run(jobs)

        def close(self) -> None:
            self.serial.close()

    with Archive.open(tmp_path / "ar", executor=Elsewhere(), extractor=NoExtractor()) as ar:
        for _ in range(3):
            assert ar.search("strike", highlight=None).total == 40
            assert ar.search('"strike port"', highlight=None).total == 40
        assert {"rank w", "rank p"} <= set(ar._dispatch.estimates())
        assert "rank" not in ar._dispatch.estimates()
