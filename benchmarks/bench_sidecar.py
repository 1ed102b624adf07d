"""What writing a segment's columnar sidecar costs a commit, per article (``--articles`` of the corpus).

Indexes the first ``--articles`` articles of the seeded corpus in one commit (no entity
extraction, ``FSYNC`` off: only CPU is measured), timing the whole commit and, inside it,
``columnar.build`` + ``columnar.save`` of the new segment; then times the first search of a
freshly opened index (before sidecars were written at commit time, that search built them).

Usage::

    python -m benchmarks.bench_sidecar --articles 2000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import ensure_corpus, iter_docs
from searchlib import Article, Index, NoExtractor
from searchlib._whoosh import columnar, store


def _articles(n: int) -> list[Article]:
    corpus, _ = ensure_corpus(Path(__file__).parent / "data", 10_000, 42)
    docs = []
    for doc in iter_docs(corpus):
        docs.append(Article(date=doc.date, body=doc.body))
        if len(docs) == n:
            break
    return docs


def run(articles: list[Article], folder: Path) -> dict[str, float]:
    spent = {"build": 0.0, "save": 0.0}
    build, save = columnar.build, columnar.save

    def timed_build(reader: Any) -> columnar.SegmentColumns:
        t = time.perf_counter()
        try:
            return build(reader)
        finally:
            spent["build"] += time.perf_counter() - t

    def timed_save(*args: Any, **kwargs: Any) -> None:
        t = time.perf_counter()
        try:
            save(*args, **kwargs)
        finally:
            spent["save"] += time.perf_counter() - t

    columnar.build, columnar.save = timed_build, timed_save  # type: ignore[assignment]
    try:
        with Index.create(folder, extractor=NoExtractor()) as ix:
            t = time.perf_counter()
            ix.add(*articles)
            spent["commit"] = time.perf_counter() - t
        with Index.open(folder) as ix:
            t = time.perf_counter()
            ix.search("market", limit=10)
            spent["first_search"] = time.perf_counter() - t
    finally:
        columnar.build, columnar.save = build, save  # type: ignore[assignment]
    return spent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    articles = _articles(args.articles)
    store.FSYNC = False
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(run(articles, Path(tmp) / "ix"))
    n = len(articles)
    for key in ("commit", "build", "save", "first_search"):
        med = statistics.median(r[key] for r in runs)
        print(f"{key:>12}: median {med:8.3f} s  ({med / n * 1e3:.3f} ms per article, {n} articles)")


if __name__ == "__main__":
    main()
