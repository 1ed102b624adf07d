"""What writing a segment's columnar sidecar costs a commit, per article (``--articles`` of the corpus).

Indexes the first ``--articles`` articles of the seeded corpus in one commit (no entity
extraction, ``FSYNC`` off: only CPU is measured), timing the whole commit and, inside it,
``segment_columns`` (the arrays collected from the writer's postings turned into the
segment's arrays) + ``sidecar.save``; then, side by side in the same run, ``readback``:
``sidecar.build`` of the written segment, which rebuilds its arrays from the stored articles
(what a search pays once when a segment's sidecar was lost: index format 9 has no Whoosh
text postings to decode; before format 9 this decoded them); then the first search of a
freshly opened index.

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
from searchlib._whoosh import columnar, sidecar, store
from searchlib._whoosh.fastwrite import FastSegmentWriter


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
    build, save = FastSegmentWriter.segment_columns, sidecar.save

    def timed_build(writer: FastSegmentWriter) -> columnar.SegmentColumns | None:
        t = time.perf_counter()
        try:
            return build(writer)
        finally:
            spent["build"] += time.perf_counter() - t

    def timed_save(*args: Any, **kwargs: Any) -> None:
        t = time.perf_counter()
        try:
            save(*args, **kwargs)
        finally:
            spent["save"] += time.perf_counter() - t

    FastSegmentWriter.segment_columns, sidecar.save = timed_build, timed_save  # type: ignore[method-assign]
    try:
        with Index.create(folder, extractor=NoExtractor()) as ix:
            t = time.perf_counter()
            ix.add(*articles)
            spent["commit"] = time.perf_counter() - t
        spent["readback"] = _readback(folder)
        with Index.open(folder) as ix:
            t = time.perf_counter()
            ix.search("market", limit=10)
            spent["first_search"] = time.perf_counter() - t
    finally:
        FastSegmentWriter.segment_columns, sidecar.save = build, save  # type: ignore[method-assign]
    return spent


def _readback(folder: Path) -> float:
    """Seconds to rebuild the index's segments' arrays from their stored articles (a lost sidecar's repair)."""
    from whoosh import index as whoosh_index
    from whoosh.reading import SegmentReader

    ix = whoosh_index.open_dir(str(folder))
    try:
        spent = 0.0
        for segment in ix._segments():
            reader = SegmentReader(ix.storage, ix.schema, segment)
            t = time.perf_counter()
            sidecar.build(reader)
            spent += time.perf_counter() - t
            reader.close()
        return spent
    finally:
        ix.close()


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
    for key in ("commit", "build", "save", "readback", "first_search"):
        med = statistics.median(r[key] for r in runs)
        print(f"{key:>12}: median {med:8.3f} s  ({med / n * 1e3:.3f} ms per article, {n} articles)")


if __name__ == "__main__":
    main()
