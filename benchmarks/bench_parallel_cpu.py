"""Who is busy in a parallel ingest: the parent's CPU against the workers', per ``workers``.

Indexes the first ``--articles`` articles of the seeded corpus with the default extractor and
``commit_every=None`` (or ``--commit-every``), once per ``--workers`` value, and prints the wall
time, the parent process's CPU time (it reads, parses, routes and commits) and the worker
processes' CPU time (``RUSAGE_CHILDREN`` once the pool has been joined), each as a share of the
wall time: a parent near 100% is the bottleneck; workers well under 100% each are waiting for
it. The CPU of all processes per article is what two cores divide: on a loaded machine it is
the steadier figure to compare (wall time depends on who else runs).

    python benchmarks/bench_parallel_cpu.py --articles 3000 --workers 1,2
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import ensure_corpus
from searchlib import Index


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--commit-every", type=int, default=None, help="commit every N articles (default: once)")
    parser.add_argument("--quick", action="store_true", help="200 articles (CI)")
    args = parser.parse_args(argv)
    corpus, _ = ensure_corpus(Path(__file__).parent / "data", 200 if args.quick else args.articles, 42)
    for workers in (int(w) for w in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            children, parent, wall = _children_cpu(), time.process_time(), time.perf_counter()
            with Index.create(Path(tmp) / "ix") as ix:
                report = ix.ingest([corpus], workers=workers, commit_every=args.commit_every)
            wall = time.perf_counter() - wall
            parent = time.process_time() - parent
            children = _children_cpu() - children
        each = f"{children / wall / workers:.0%} of wall each" if workers > 1 else "none"
        print(
            f"workers={workers}: {report.read} articles, wall {wall:.1f} s ({report.read / wall:.0f}/s), "
            f"parent CPU {parent:.1f} s ({parent / wall:.0%} of wall), workers CPU {children:.1f} s ({each}); "
            f"CPU per article {(parent + children) / report.read * 1e3:.2f} ms "
            f"(parent {parent / report.read * 1e3:.2f}, workers {children / report.read * 1e3:.2f})"
        )


if __name__ == "__main__":
    main()
