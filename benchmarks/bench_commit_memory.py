"""Peak memory, wall time and index size of one big commit: ``ingest(workers=1, commit_every=None)``.

Indexes the first ``--articles`` articles of the seeded corpus in one commit (no entity
extraction, fsync on) and prints the process's peak RSS (``ru_maxrss``: run it in a fresh
process per version), the wall time and the index's size. Run it with ``PYTHONPATH`` naming an
older checkout (from that checkout's folder) for the before figure.

    python benchmarks/bench_commit_memory.py --articles 10000
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
from searchlib import Index, NoExtractor


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="300 articles (CI)")
    args = parser.parse_args(argv)
    corpus, _ = ensure_corpus(Path(__file__).parent / "data", 300 if args.quick else args.articles, 42)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ix"
        t = time.perf_counter()
        with Index.create(folder, extractor=NoExtractor()) as ix:
            report = ix.ingest([corpus], workers=1, commit_every=None)
        wall = time.perf_counter() - t
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mb = size / 2**20
    print(f"{report.read} articles in one commit: peak RSS {peak:.0f} MB, wall {wall:.1f} s, index {mb:.1f} MB")


if __name__ == "__main__":
    main()
