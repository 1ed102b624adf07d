"""Where a parallel build's memory is: peak RSS per process role, split into anonymous and file pages.

Ingests the seeded corpus with ``workers=2`` (the default build) and samples every process of
the tree -- this one (the parent), the ingest workers and the background merge children --
four times a second: resident memory (``VmRSS``) and its split into anonymous memory
(``RssAnon``) and pages of memory-mapped files (``RssFile``: page cache, which the kernel can
take back, but counted in RSS) from ``/proc/PID/status``. Prints and writes (markdown, JSON and
a PNG of the tree's memory over the build) the peak of each, per role and for the whole tree.
Linux only (``/proc``); needs psutil (the ``bench`` extra).

    python benchmarks/bench_build_memory.py --quick                       # CI: 600 articles
    python benchmarks/bench_build_memory.py --articles 100000 --commit-every 10000
    python benchmarks/bench_build_memory.py --articles 1000000 --commit-every 100000   # ~25 min
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, env_markdown, environment, table, write_result
from benchmarks.corpus import corpus_files, ensure_corpus
from searchlib import Index

FIELDS = ("VmRSS", "RssAnon", "RssFile")
ROLES = ("parent", "worker", "merge", "other")


def _status(pid: int) -> dict[str, int] | None:
    """``FIELDS`` of process ``pid`` in MB, or None once it is gone."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in FIELDS:
                    found[key] = int(value.split()[0]) // 1024
    except OSError:
        return None
    return found if len(found) == len(FIELDS) else None


def _role(cmdline: str, me: bool) -> str:
    if me:
        return "parent"
    if "_child_main" in cmdline:
        return "merge"
    if "spawn_main" in cmdline:
        return "worker"
    return "other"


class Sampler:
    """Every ``interval`` s: each process's memory, kept as peaks per role and a tree timeline."""

    def __init__(self, interval: float = 0.25) -> None:
        import psutil

        self.me = psutil.Process()
        self.interval = interval
        self.peaks: dict[str, dict[str, int]] = {role: dict.fromkeys(FIELDS, 0) for role in ROLES}
        self.tree = dict.fromkeys(FIELDS, 0)
        self.at_peak: dict[str, dict[str, int]] = {}
        self.timeline: list[tuple[float, int, int]] = []  # (seconds, tree RSS, tree anonymous)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.perf_counter()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            now: dict[str, dict[str, int]] = {}
            for proc in [self.me, *self.me.children(recursive=True)]:
                try:
                    cmd = " ".join(proc.cmdline())
                except psutil.Error:
                    continue
                found = _status(proc.pid)
                if found is None:
                    continue
                role = _role(cmd, proc.pid == self.me.pid)
                sums = now.setdefault(role, dict.fromkeys(FIELDS, 0))
                for key in FIELDS:
                    sums[key] += found[key]
                    self.peaks[role][key] = max(self.peaks[role][key], found[key])  # one process's peak
            tree = {key: sum(s[key] for s in now.values()) for key in FIELDS}
            if tree["VmRSS"] > self.tree["VmRSS"]:
                self.at_peak = now
            for key in FIELDS:
                self.tree[key] = max(self.tree[key], tree[key])
            self.timeline.append((time.perf_counter() - self._started, tree["VmRSS"], tree["RssAnon"]))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _plot(path: Path, timeline: list[tuple[float, int, int]], title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = [t for t, _, _ in timeline]
    ax.plot(xs, [r for _, r, _ in timeline], label="RSS (all processes)")
    ax.plot(xs, [a for _, _, a in timeline], label="anonymous memory")
    ax.set_xlabel("seconds")
    ax.set_ylabel("MB")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--commit-every", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="600 articles, a commit every 200 (CI)")
    parser.add_argument("--name", default=None, help="results file stem")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        sys.exit("bench_build_memory needs Linux's /proc")
    if args.quick:
        args.articles, args.commit_every = 600, 200
    corpus, info = ensure_corpus(Path(__file__).parent / "data", args.articles, args.seed)
    with tempfile.TemporaryDirectory() as tmp, Sampler() as sampler:
        started = time.perf_counter()
        with Index.create(Path(tmp) / "ix") as ix:
            report = ix.ingest(corpus_files(corpus), workers=args.workers, commit_every=args.commit_every)
        seconds = time.perf_counter() - started
    if report.added != args.articles:
        sys.exit(f"indexed {report.added} of {args.articles} articles: nothing to report")
    rows = [[role, *(f"{sampler.peaks[role][k]:,}" for k in FIELDS)] for role in ROLES if sampler.peaks[role]["VmRSS"]]
    rows.append(["whole tree", *(f"{sampler.tree[k]:,}" for k in FIELDS)])
    peak_rows = [[role, *(f"{sums[k]:,}" for k in FIELDS)] for role, sums in sorted(sampler.at_peak.items())]
    name = args.name or f"build-memory-{args.articles}-s{args.seed}"
    rate = report.added / seconds
    title = f"{report.added:,} articles, workers={args.workers}, commit every {args.commit_every:,}"
    markdown = "\n\n".join(
        [
            f"# Build memory: {title}",
            env_markdown(environment(info, args.seed)),
            f"`python benchmarks/bench_build_memory.py --articles {args.articles} --seed {args.seed} "
            f"--commit-every {args.commit_every} --workers {args.workers}`: {seconds:.1f} s ({rate:,.0f} articles/s)",
            "Peak MB of one process of each role (whole tree: the peak of the sums; RSS = anonymous + file pages):",
            table(["role", "RSS", "anonymous", "file pages"], rows),
            "The tree's processes at its RSS peak (MB, summed per role):",
            table(["role", "RSS", "anonymous", "file pages"], peak_rows),
        ]
    )
    print(markdown)
    raw: dict[str, Any] = {
        "args": vars(args),
        "seconds": seconds,
        "peaks": sampler.peaks,
        "tree": sampler.tree,
        "at_peak": sampler.at_peak,
        "timeline": sampler.timeline,
    }
    write_result(name, markdown, raw)
    _plot(RESULTS / f"{name}-memory.png", sampler.timeline, title)


if __name__ == "__main__":
    main()
