"""What merging segments costs: ``commit(optimize=True)`` over an index built in several commits.

Indexes the first ``--articles`` articles of the seeded corpus in ``--commits`` commits (no
entity extraction, ``FSYNC`` off: CPU and I/O of the merge only; fewer than ten commits of
similar size are not merged by the merge policy, so they stay apart), then times one
``commit(optimize=True)``, which merges them all by copying bytes (``_whoosh/merging.py``:
stored fields and column values copied raw, the sidecars streamed; format 9 also renumbered
Whoosh's keyword postings, which format 10 no longer writes). Run the same command on an
older checkout (``PYTHONPATH=...``) for the before figure. Prints the median of ``--repeats``
runs with the index size before the merge.

    python benchmarks/bench_merge.py --articles 6000 --commits 3

``--index PATH`` instead copies an existing index (say the 100,000-article one ``bench_index``
built, 20 segments) into a temporary folder next to ``--tmp`` and times one
``commit(optimize=True)`` of the copy, with fsync as configured by default, reporting wall
and CPU seconds and this process's peak RSS (the index itself is never modified)::

    python benchmarks/bench_merge.py --index benchmarks/data/indexes/corpus-text-100000-s42/searchlib --tmp /tmp
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import ensure_corpus, iter_docs
from searchlib import Article, Index, NoExtractor
from searchlib._whoosh import store


def _articles(n: int) -> list[Article]:
    corpus, _ = ensure_corpus(Path(__file__).parent / "data", max(n, 300), 42)
    docs = []
    for doc in iter_docs(corpus):
        docs.append(Article(date=doc.date, body=doc.body))
        if len(docs) == n:
            break
    return docs


def run(articles: list[Article], commits: int, folder: Path) -> tuple[float, int]:
    """(seconds of the merging commit, bytes on disk before it)."""
    step = -(-len(articles) // commits)
    with Index.create(folder, extractor=NoExtractor()) as ix:
        for start in range(0, len(articles), step):
            ix.add(*articles[start : start + step])
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        t = time.perf_counter()
        with ix.writer() as w:
            w.commit(optimize=True)
        spent = time.perf_counter() - t
        assert ix.stats().segments == 1
    return spent, size


def optimize_copy(source: Path, tmp: Path) -> str:
    """Copy the index at ``source`` under ``tmp``, optimize the copy, and describe what it cost."""
    import resource
    import shutil

    with tempfile.TemporaryDirectory(dir=tmp) as folder:
        copy = Path(folder) / "ix"
        shutil.copytree(source, copy)
        with Index.open(copy) as ix:
            before = ix.stats()
            wall, cpu = time.perf_counter(), time.process_time()
            with ix.writer() as w:
                w.commit(optimize=True)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            after = ix.stats()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"optimize of a copy of {source}: {before.segments} -> {after.segments} segments, "
        f"{after.documents} articles: {wall:.1f} s wall, {cpu:.1f} s CPU; peak RSS {peak:.0f} MB; "
        f"index {before.size_bytes / 2**20:.0f} -> {after.size_bytes / 2**20:.0f} MB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=6000)
    parser.add_argument("--commits", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="300 articles, one run (CI)")
    parser.add_argument("--index", type=Path, help="optimize a copy of this index instead")
    parser.add_argument("--tmp", type=Path, default=None, help="where the copy goes (default: the system's)")
    args = parser.parse_args(argv)
    if args.index is not None:
        print(optimize_copy(args.index, args.tmp or Path(tempfile.gettempdir())))
        return
    if args.quick:
        args.articles, args.repeats = 300, 1
    articles = _articles(args.articles)
    store.FSYNC = False
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(run(articles, args.commits, Path(tmp) / "ix"))
    n = len(articles)
    med = statistics.median(s for s, _ in runs)
    size = statistics.median(b for _, b in runs)
    import searchlib._whoosh.schema as sch

    print(
        f"format {sch.FORMAT_VERSION}: merge of {args.commits} segments, {n} articles: median {med:.3f} s "
        f"({med / n * 1e3:.3f} ms per article; runs {', '.join(f'{s:.3f}' for s, _ in runs)}); "
        f"index before the merge {size / 2**20:.1f} MB"
    )


if __name__ == "__main__":
    main()
