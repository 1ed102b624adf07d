"""Crash harness: kill -9 a writer process at random moments and check what survived.

A child process opens an index and writes batches of ``--batch`` articles with known ids
(``b00042-03``), committing each batch and then appending the batch number to an
acknowledgement file with flush + fsync. The parent kills the child with SIGKILL after a
random delay, reopens the index and checks that:

* every acknowledged batch is present, completely (losses);
* no batch is partly present (partial batches);
* no id occurs twice (duplicates);
* a new writer gets the lock at once (stuck locks);
* the index opens and searching works (open / search failures).

The next trial's child resumes at the first unacknowledged batch, so a batch that was
committed but not acknowledged before the kill is written again (it must not duplicate).

Usage::

    python tests/stress/crash_harness.py --trials 100
    python tests/stress/crash_harness.py --trials 5 --quick

Exit status 0 when every check held in every trial, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import searchlib

FILLER = (
    "Negotiators met again on Tuesday as the ceasefire talks resumed under heavy pressure from "
    "mediators in Cairo and Doha, officials said, while markets in the Baltic ports watched closely. "
)


def article(batch: int, item: int) -> searchlib.Article:
    return searchlib.Article(
        id=f"b{batch:05d}-{item:02d}",
        date="2024-05-06",
        title=f"Batch {batch} item {item}",
        body=f"common batch{batch} item{item} " + FILLER * (1 + (batch * 7 + item) % 12),
        entities=["Cairo", f"Org{batch % 5}"],
    )


def child(index: Path, ack: Path, start: int, batch_size: int, optimize_every: int, workers: int = 1) -> None:
    """Write batches forever (until killed); acknowledge each after its commit returns.

    With ``workers`` > 1 each batch goes through the parallel ingest (worker processes).
    """
    ix = searchlib.Index.open(index)
    # Tell the parent the imports and the open are done: its kill timer starts now, so a
    # slow start on a loaded machine does not turn every trial into a kill before any commit.
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    feed = index.parent / "batch.jsonl"
    with open(ack, "a", encoding="utf-8") as acks:
        batch = start
        while True:
            if workers > 1:
                rows = []
                for item in range(batch_size):
                    a = article(batch, item)
                    row = {"id": a.id, "date": a.date.isoformat(), "title": a.title, "body": a.body}
                    rows.append(json.dumps({**row, "entities": list(a.entity_names)}))
                feed.write_text("\n".join(rows) + "\n", "utf-8")
                ix.ingest(feed, workers=workers, commit_every=None, timeout=30)
            else:
                w = ix.writer(timeout=30)
                for item in range(batch_size):
                    w.add(article(batch, item))
                w.commit(optimize=optimize_every > 0 and batch % optimize_every == optimize_every - 1)
            acks.write(f"{batch}\n")
            acks.flush()
            os.fsync(acks.fileno())
            batch += 1


def read_acks(ack: Path) -> list[int]:
    if not ack.exists():
        return []
    out = []
    for line in ack.read_text("utf-8").splitlines():
        if line.strip().isdigit():
            out.append(int(line))
    return out


@dataclass
class Trial:
    number: int
    ran_for: float
    acked: int
    present: int
    losses: list[int] = field(default_factory=list)
    partial: list[int] = field(default_factory=list)
    duplicates: int = 0
    stuck_lock: bool = False
    open_error: str | None = None
    search_error: str | None = None

    @property
    def ok(self) -> bool:
        return not (
            self.losses or self.partial or self.duplicates or self.stuck_lock or self.open_error or self.search_error
        )


@dataclass
class Summary:
    trials: int = 0
    kills_before_first_ack: int = 0
    acked_batches: int = 0
    losses: int = 0
    partial_batches: int = 0
    duplicates: int = 0
    stuck_locks: int = 0
    open_errors: int = 0
    search_errors: int = 0
    unacked_but_committed: int = 0
    documents: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.losses
            or self.partial_batches
            or self.duplicates
            or self.stuck_locks
            or self.open_errors
            or self.search_errors
        )


def all_ids(ix: searchlib.Index) -> list[str]:
    ids: list[str] = []
    offset, page = 0, 5000
    while True:
        results = ix.search("", sort=searchlib.Sort.OLDEST, offset=offset, limit=page, highlight=None)
        ids.extend(h.article.id for h in results.hits)
        offset += page
        if offset >= results.total:
            return ids


def check(index: Path, acked: set[int], batch_size: int, number: int, ran_for: float) -> tuple[Trial, set[int]]:
    trial = Trial(number, ran_for, len(acked), 0)
    try:
        ix = searchlib.Index.open(index)
    except Exception as exc:
        trial.open_error = f"{type(exc).__name__}: {exc}"
        return trial, set()
    with ix:
        try:
            ix.writer().cancel()
        except searchlib.IndexLockedError:
            trial.stuck_lock = True
        try:
            ids = all_ids(ix)
            count = len(ix)
            total = ix.search("common", limit=0).total
            if count != len(ids) or total != count:
                trial.search_error = f"len(ix)={count}, all ids={len(ids)}, 'common' hits={total}"
            if acked:
                probe = max(acked)
                hits = ix.search(f"batch{probe}", limit=batch_size + 1)
                if hits.total != batch_size or not all(h.article.id.startswith(f"b{probe:05d}-") for h in hits):
                    trial.search_error = f"search for batch{probe} gave {hits.total} hits"
        except Exception as exc:
            trial.search_error = f"{type(exc).__name__}: {exc}"
            return trial, set()
    counts = Counter(ids)
    trial.duplicates = sum(n - 1 for n in counts.values() if n > 1)
    per_batch = Counter(int(i[1:6]) for i in counts)
    present = {b for b, n in per_batch.items() if n == batch_size}
    trial.partial = sorted(b for b, n in per_batch.items() if n != batch_size)
    trial.losses = sorted(acked - present)
    trial.present = len(present)
    return trial, present


READY_TIMEOUT = 120.0
"""Seconds a child may take to import searchlib and open the index before its kill timer starts."""


def _wait_until_ready(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until the child says it opened the index (or exits, or ``timeout`` passes)."""
    if proc.stdout is None:
        return
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if ready:
        proc.stdout.readline()


def run(
    trials: int,
    *,
    batch_size: int = 8,
    min_delay: float = 0.3,
    max_delay: float = 2.0,
    optimize_every: int = 9,
    workers: int = 1,
    seed: int | None = None,
    workdir: Path | None = None,
    verbose: bool = True,
) -> Summary:
    rng = random.Random(seed)
    started = time.perf_counter()
    summary = Summary()
    # a killed child's workers may still be exiting: cleaning up must not fail the run
    with tempfile.TemporaryDirectory(prefix="crash-harness-", dir=workdir, ignore_cleanup_errors=True) as folder:
        index, ack = Path(folder) / "ix", Path(folder) / "acks.txt"
        searchlib.Index.create(index).close()
        env = {**os.environ, "TMPDIR": folder}
        for number in range(1, trials + 1):
            acked_before = set(read_acks(ack))
            start = max(acked_before) + 1 if acked_before else 0
            proc = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(index),
                    str(ack),
                    str(start),
                    str(batch_size),
                    str(optimize_every),
                    str(workers),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            delay = rng.uniform(min_delay, max_delay)
            _wait_until_ready(proc, READY_TIMEOUT)
            t0 = time.perf_counter()
            try:
                proc.wait(delay)
                died = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                summary.failures.append(f"trial {number}: child exited {proc.returncode} early: {died[-500:]}")
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
            acked = set(read_acks(ack))
            if acked == acked_before:
                summary.kills_before_first_ack += 1
            trial, present = check(index, acked, batch_size, number, time.perf_counter() - t0)
            summary.trials += 1
            summary.acked_batches = len(acked)
            summary.losses += len(trial.losses)
            summary.partial_batches += len(trial.partial)
            summary.duplicates += trial.duplicates
            summary.stuck_locks += trial.stuck_lock
            summary.open_errors += trial.open_error is not None
            summary.search_errors += trial.search_error is not None
            summary.unacked_but_committed = len(present - acked)
            summary.documents = len(present) * batch_size
            if not trial.ok:
                summary.failures.append(f"trial {number}: {asdict(trial)}")
            if verbose:
                status = "ok  " if trial.ok else "FAIL"
                print(
                    f"trial {number:3d} {status} killed after {delay:4.2f} s: acked {len(acked):4d} batches, "
                    f"present {trial.present:4d}, losses {len(trial.losses)}, partial {len(trial.partial)}, "
                    f"duplicates {trial.duplicates}, stuck lock {trial.stuck_lock}"
                    + (f", open error {trial.open_error}" if trial.open_error else "")
                    + (f", search error {trial.search_error}" if trial.search_error else ""),
                    flush=True,
                )
    summary.seconds = time.perf_counter() - started
    return summary


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:
        index, ack, start, batch_size, optimize_every, workers = args[1:7]
        child(Path(index), Path(ack), int(start), int(batch_size), int(optimize_every), int(workers))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="short kill delays (for the pytest smoke test)")
    parser.add_argument("--batch", type=int, default=8, help="articles per batch")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--optimize-every", type=int, default=9, help="commit with optimize=True every N batches (0: never)"
    )
    parser.add_argument("--max-delay", type=float, default=None, help="longest run before the kill, in seconds")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--workers", type=int, default=1, help="write through the parallel ingest with N workers")
    opts = parser.parse_args(args)
    min_delay, max_delay = (0.3, 1.2) if opts.quick else (0.3, 2.5)
    if opts.max_delay is not None:
        max_delay = max(min_delay, opts.max_delay)
    summary = run(
        opts.trials,
        batch_size=opts.batch,
        min_delay=min_delay,
        max_delay=max_delay,
        optimize_every=opts.optimize_every,
        workers=opts.workers,
        seed=opts.seed,
        verbose=not opts.json,
    )
    if opts.json:
        print(json.dumps({**asdict(summary), "ok": summary.ok}))
    else:
        print(
            f"\n{summary.trials} trials in {summary.seconds:.0f} s: {summary.acked_batches} batches acknowledged "
            f"({summary.documents} documents), {summary.kills_before_first_ack} kills before any new ack, "
            f"{summary.unacked_but_committed} committed-but-unacknowledged batch(es) at the end\n"
            f"losses {summary.losses}, partial batches {summary.partial_batches}, duplicates {summary.duplicates}, "
            f"stuck locks {summary.stuck_locks}, open errors {summary.open_errors}, "
            f"search errors {summary.search_errors}"
        )
        for failure in summary.failures:
            print("  " + failure)
    return 0 if summary.ok and not summary.failures else 1


if __name__ == "__main__":
    sys.exit(main())
