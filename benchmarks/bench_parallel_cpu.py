"""Who is busy in a parallel ingest: the parent's CPU against the workers', per ``workers``.

Indexes the first ``--articles`` articles of the seeded corpus with the default extractor and
``commit_every=None`` (or ``--commit-every``), once per ``--workers`` value, and prints the wall
time, the parent process's CPU time (it reads, parses, routes and commits) and the worker
processes' CPU time (``RUSAGE_CHILDREN`` once the pool has been joined), each as a share of the
wall time: a parent near 100% is the bottleneck; workers well under 100% each are waiting for
it. The CPU of all processes per article is what two cores divide: on a loaded machine it is
the steadier figure to compare (wall time depends on who else runs).

    python benchmarks/bench_parallel_cpu.py --articles 3000 --workers 1,2

With ``--rss`` it also samples the resident memory of the whole process tree (parent, workers,
a background merge's child; summed, as ``bench_index.py`` reports it) every 0.2 s and prints
the peak so far at each ``--rss-every`` articles read. Merges run in a child process whose
CPU is counted with the workers' (``RUSAGE_CHILDREN``); where the code has background merges
the merges' own CPU is printed apart.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import searchlib.index
from benchmarks.corpus import ensure_corpus
from searchlib import Index, IngestProgress

MERGES: list[Any] = []


def _record_merges() -> None:
    """Keep every ingest's BackgroundMerges (code that has them) to read their CPU afterwards."""
    base = getattr(searchlib.index, "BackgroundMerges", None)
    if base is None:
        return

    class Recording(base):  # type: ignore[misc, valid-type]
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            MERGES.append(self)

    searchlib.index.BackgroundMerges = Recording  # type: ignore[attr-defined]


class TreeRss:
    """Samples the summed RSS of this process and its descendants in a thread."""

    def __init__(self, interval: float = 0.2) -> None:
        import psutil

        self.me = psutil.Process()
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.parent = self.child = 0  # peaks: this process's, and any one descendant's
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil

        while not self.stop.wait(self.interval):
            sizes = []
            for proc in [self.me, *self.me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    sizes.append(proc.memory_info().rss)
            if not sizes:
                continue
            self.samples.append((time.perf_counter(), sum(sizes)))
            self.parent = max(self.parent, sizes[0])
            self.child = max([self.child, *sizes[1:]])

    def close(self) -> None:
        self.stop.set()
        self.thread.join()

    def peak_before(self, when: float) -> int:
        return max((rss for t, rss in self.samples if t <= when), default=0)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--commit-every", type=int, default=None, help="commit every N articles (default: once)")
    parser.add_argument("--quick", action="store_true", help="200 articles (CI)")
    parser.add_argument("--corpus", type=Path, default=None, help="index this folder's part files instead")
    parser.add_argument("--rss", action="store_true", help="sample the process tree's RSS")
    parser.add_argument("--rss-every", type=int, default=25_000, help="print the RSS peak so far every N articles")
    args = parser.parse_args(argv)
    _record_merges()
    if args.corpus is not None:  # its part files, every one (a folder of links to the first parts of a bigger corpus)
        corpus = args.corpus
    else:
        corpus, _ = ensure_corpus(Path(__file__).parent / "data", 200 if args.quick else args.articles, 42)
    for workers in (int(w) for w in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            sampler = TreeRss() if args.rss else None
            marks: list[tuple[int, float]] = []

            def progress(event: IngestProgress, marks: list[tuple[int, float]] = marks) -> None:
                if event.articles >= (len(marks) + 1) * args.rss_every:
                    marks.append((event.articles, time.perf_counter()))

            MERGES.clear()
            children, parent, wall = _children_cpu(), time.process_time(), time.perf_counter()
            with Index.create(Path(tmp) / "ix") as ix:
                report = ix.ingest([corpus], workers=workers, commit_every=args.commit_every, progress=progress)
            wall = time.perf_counter() - wall
            parent = time.process_time() - parent
            children = _children_cpu() - children
            if sampler is not None:
                sampler.close()
                curve = ", ".join(f"{n}: {sampler.peak_before(t) / 2**20:.0f}" for n, t in marks)
                print(
                    f"workers={workers}: peak RSS of the tree {sampler.peak_before(float('inf')) / 2**20:.0f} MB "
                    f"(parent's own peak {sampler.parent / 2**20:.0f}, largest child's {sampler.child / 2**20:.0f}); "
                    f"peak so far (MB) at articles read: {curve}"
                )
            if MERGES:
                cpu = sum(m.cpu for m in MERGES)
                print(
                    f"workers={workers}: background merges {sum(m.merges for m in MERGES)}, "
                    f"their CPU {cpu:.1f} s (in 'workers CPU' below)"
                )
        each = f"{children / wall / workers:.0%} of wall each" if workers > 1 else "none"
        print(
            f"workers={workers}: {report.read} articles, wall {wall:.1f} s ({report.read / wall:.0f}/s), "
            f"parent CPU {parent:.1f} s ({parent / wall:.0%} of wall), workers CPU {children:.1f} s ({each}); "
            f"CPU per article {(parent + children) / report.read * 1e3:.2f} ms "
            f"(parent {parent / report.read * 1e3:.2f}, workers {children / report.read * 1e3:.2f})"
        )


if __name__ == "__main__":
    main()
