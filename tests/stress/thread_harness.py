"""Thread harness: many threads in several processes share one index while writers commit.

Each process opens the index once and shares that one ``Index`` between its threads:
``--writers`` writer threads and ``--readers`` reader threads. Writer ``p1w0`` owns the ids
``p1w0-000`` … (``--batch`` of them); each of its ``--commits`` commits rewrites all of them
with its version number ``n`` in the body, in one writer (waiting for the lock), and
every other commit also deletes one id and adds it back, so commits mix updates, deletes
and adds. Readers search ``common`` (all articles) with every hit and check that what they
got is one whole commit:

* ``total`` equals the number of hits and no id occurs twice;
* each writer's ids are either all absent (before its first commit) or all present, all at
  one version (a torn commit shows two versions or a missing id);
* a writer's version never goes back between two searches of one thread.

Every exception is a failure; one outside ``SearchlibError`` is counted as escaped. Only
the public API is used, so the harness holds for any engine behind ``Index``.

Usage::

    python tests/stress/thread_harness.py --processes 3 --readers 8 --writers 2 --commits 200
    python tests/stress/thread_harness.py --quick

Exit status 0 when every search was right, 1 otherwise; ``--json`` prints the summary.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import searchlib

VERSION = re.compile(r"\bv(\d+)\b")


@dataclass
class Summary:
    processes: int = 0
    threads: int = 0
    commits: int = 0
    searches: int = 0
    wrong: int = 0  # searches that saw no whole commit, and any other failure
    escaped: int = 0  # exceptions outside SearchlibError
    lock_timeouts: int = 0  # writers that waited past the lock timeout (fairness, not correctness)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def add(self, other: Summary) -> None:
        self.commits += other.commits
        self.searches += other.searches
        self.wrong += other.wrong
        self.escaped += other.escaped
        self.lock_timeouts += other.lock_timeouts
        self.failures.extend(other.failures[: max(0, 20 - len(self.failures))])

    @property
    def ok(self) -> bool:
        return (
            self.wrong == 0 and self.escaped == 0 and self.lock_timeouts == 0 and self.commits > 0 and self.searches > 0
        )


def _article(owner: str, item: int, version: int) -> searchlib.Article:
    return searchlib.Article(
        id=f"{owner}-{item:03d}",
        date="2025-01-01",
        body=f"common talks {owner} v{version} item{item} in Cairo",
        source="Harness",
        entities=["Cairo"],
    )


def _check(results: searchlib.Results, owners: list[str], batch: int, seen: dict[str, int]) -> str | None:
    """Why ``results`` is not one whole commit, or None when it is."""
    hits = results.hits
    if results.total != len(hits):
        return f"total {results.total} but {len(hits)} hits"
    ids = [hit.article.id for hit in hits]
    if len(set(ids)) != len(ids):
        return "an id occurs twice"
    versions: dict[str, set[int]] = {}
    counts: dict[str, int] = {}
    for hit in hits:
        owner = hit.article.id.rsplit("-", 1)[0]
        match = VERSION.search(hit.article.body)
        if owner not in owners or match is None:
            return f"unexpected article {hit.article.id}"
        versions.setdefault(owner, set()).add(int(match.group(1)))
        counts[owner] = counts.get(owner, 0) + 1
    for owner, found in versions.items():
        if len(found) != 1 or counts[owner] != batch:
            return f"{owner}: {counts[owner]} of {batch} ids at versions {sorted(found)} (a torn commit)"
        (version,) = found
        if version < seen.get(owner, 0):
            return f"{owner}: version {version} after {seen[owner]} (went back)"
        seen[owner] = version
    return None


def run_process(
    index: Path,
    proc: int,
    owners: list[str],
    *,
    readers: int,
    writers: int,
    commits: int,
    batch: int,
    lock_timeout: float = 600,
) -> Summary:
    """This process's share: ``writers`` + ``readers`` threads on one shared ``Index``."""
    summary = Summary(processes=1, threads=readers + writers)
    lock = threading.Lock()
    done = threading.Event()

    def fail(message: str, exc: BaseException | None = None) -> None:
        with lock:
            summary.wrong += 1
            if exc is not None and not isinstance(exc, searchlib.SearchlibError):
                summary.escaped += 1
            if len(summary.failures) < 20:
                if exc is not None and not isinstance(exc, searchlib.SearchlibError):  # where it came from
                    message += " at " + " <- ".join(
                        f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
                        for frame in reversed(traceback.extract_tb(exc.__traceback__)[-6:])
                    )
                summary.failures.append(message)

    with searchlib.Index.open(index) as ix:

        def write(owner: str) -> None:
            try:
                for version in range(1, commits + 1):
                    with ix.writer(timeout=lock_timeout) as w:
                        if version % 2 == 0:
                            w.delete(f"{owner}-000")
                        for item in range(batch):
                            w.add(_article(owner, item, version))
                    with lock:
                        summary.commits += 1
            except searchlib.IndexLockedError as exc:  # starved, not wrong: counted apart
                with lock:
                    summary.lock_timeouts += 1
                    summary.failures.append(f"writer {owner}: {exc!r}")
            except Exception as exc:
                fail(f"writer {owner}: {exc!r}", exc)

        def read() -> None:
            seen: dict[str, int] = {}
            while True:
                finished = done.is_set()
                try:
                    results = ix.search("common", limit=10_000, highlight=None)
                    problem = _check(results, owners, batch, seen)
                except Exception as exc:
                    fail(f"search: {exc!r}", exc)
                else:
                    if problem is not None:
                        fail(problem)
                with lock:
                    summary.searches += 1
                if finished:
                    return

        mine = [owner for owner in owners if owner.startswith(f"p{proc}w")]
        threads = [threading.Thread(target=write, args=(owner,)) for owner in mine]
        threads += [threading.Thread(target=read) for _ in range(readers)]
        for thread in threads:
            thread.start()
        for thread in threads[: len(mine)]:
            thread.join()
        done.set()
        for thread in threads:
            thread.join()
    return summary


def run(
    *, processes: int, readers: int, writers: int, commits: int, batch: int, workdir: Path | None = None
) -> Summary:
    """Create an index, run ``processes - 1`` children and this process, and add up their summaries."""
    started = time.perf_counter()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="thread-harness-"))
    index = workdir / "ix"
    searchlib.Index.create(index, overwrite=True).close()
    owners = [f"p{p}w{w}" for p in range(processes) for w in range(writers)]
    spec = json.dumps({"readers": readers, "writers": writers, "commits": commits, "batch": batch, "owners": owners})
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", str(index), str(p), spec],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(1, processes)
    ]
    total = Summary(processes=processes, threads=processes * (readers + writers))
    total.add(run_process(index, 0, owners, readers=readers, writers=writers, commits=commits, batch=batch))
    for p, child in enumerate(children, start=1):
        out, err = child.communicate()
        try:
            total.add(Summary(**json.loads(out)))
        except (ValueError, TypeError):
            total.wrong += 1
            total.failures.append(f"process {p} exited {child.returncode}: {err.strip()[-500:]}")
    total.seconds = round(time.perf_counter() - started, 1)
    return total


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        index, proc, spec = Path(args[1]), int(args[2]), json.loads(args[3])
        owners = spec.pop("owners")
        summary = run_process(index, proc, owners, **spec)
        print(json.dumps(asdict(summary)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--readers", type=int, default=8, help="reader threads per process")
    parser.add_argument("--writers", type=int, default=2, help="writer threads per process")
    parser.add_argument("--commits", type=int, default=100, help="commits per writer thread")
    parser.add_argument("--batch", type=int, default=20, help="articles each writer owns")
    parser.add_argument("--quick", action="store_true", help="2 processes, 3 readers, 1 writer, 5 commits")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args(args)
    if opts.quick:
        opts.processes, opts.readers, opts.writers, opts.commits = 2, 3, 1, 5
    summary = run(
        processes=opts.processes, readers=opts.readers, writers=opts.writers, commits=opts.commits, batch=opts.batch
    )
    if opts.json:
        print(json.dumps({**asdict(summary), "ok": summary.ok}))
    else:
        print(
            f"{summary.processes} processes x {summary.threads // max(summary.processes, 1)} threads: "
            f"{summary.commits} commits, {summary.searches} searches, {summary.wrong} wrong answers, "
            f"{summary.escaped} exceptions outside SearchlibError, {summary.lock_timeouts} writers starved "
            f"past the lock timeout, {summary.seconds} s"
        )
        for failure in summary.failures:
            print("  ", failure)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
