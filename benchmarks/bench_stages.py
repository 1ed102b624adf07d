"""Where indexing CPU goes: a per-stage split of one in-process ingest (``workers=1``).

Indexes the first ``--articles`` articles of the seeded corpus with ``ingest(workers=1,
commit_every=None)`` (fsync on, the default extractor unless ``--no-entities``), timing each
stage with the thread's CPU clock around the function that does it:

* ``read/parse``: ``read_articles`` (files to ``Article`` values);
* ``entities``: ``entities_for`` (extraction), plus learning acronym definitions;
* ``sketch``: ``dedup.sketch`` (near-duplicate MinHash);
* ``analysis``: ``searchlib.analysis.kept_terms`` / ``positions`` (tokenise, fold, stop words,
  stem) of title, body, entity names; since the compiled kernels, the text fields' tokens go
  straight to term ids (``textcolumns.token_ids``, or ``analysis.written_tokens`` and a
  per-field map on the pure path), counted here too: compare "analysis + postings" across
  versions, the boundary between the two moved;
* ``postings``: buffering the text fields' token streams (``TextPostings.add``, analysis
  excluded) and the keyword fields' postings (``MemoryPostings.add``), and writing the keyword
  postings to Whoosh's files at commit (``MemoryPostings.write``, which also streams each list to
  the columnar builder; index format 9 writes no Whoosh postings for the text fields);
* ``sidecar``: turning the collected streams and lists into the segment's arrays
  (``segment_columns``: the text fields' one sort) and ``sidecar.save``;
* ``commit/other``: everything else in the ingest (documents, stored fields and columns,
  upserts and duplicate grouping, the table of contents, fsyncs).

Per-article figures are CPU ms over all articles; with ``workers=2`` the same work is split
over two processes, the parent reading and parsing. Usage::

    python benchmarks/bench_stages.py --articles 2000

``--worker-gc`` collects garbage as a parallel ingest's workers do (``gc.freeze()`` and
``parallel.WORKER_GC_THRESHOLDS``) instead of with the default thresholds, which charge
the stages that allocate most with collections the workers do not make.
"""

from __future__ import annotations

import argparse
import functools
import gc
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import ensure_corpus
from searchlib import Index, NoExtractor, analysis, dedup
from searchlib import index as index_module
from searchlib import writer as writer_module
from searchlib._whoosh import fastwrite, parallel, postings, sidecar, textcolumns

STAGES = ("read/parse", "entities", "sketch", "analysis", "postings", "sidecar", "commit/other")


class _Clock:
    def __init__(self) -> None:
        self.spent = dict.fromkeys(STAGES, 0.0)

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[stage] += time.thread_time() - t

        return timed

    def wrap_iter(self, stage: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            inner = fn(*args, **kwargs)
            while True:
                t = time.thread_time()
                try:
                    item = next(inner)
                except StopIteration:
                    return
                finally:
                    self.spent[stage] += time.thread_time() - t
                yield item

        return timed


def run(corpus: Path, folder: Path, *, entities: bool) -> tuple[dict[str, float], int]:
    clock = _Clock()
    patches: list[tuple[Any, str, Any]] = [
        (index_module, "read_articles", clock.wrap_iter("read/parse", index_module.read_articles)),
        (writer_module, "entities_for", clock.wrap("entities", writer_module.entities_for)),
        (writer_module, "learn_from_text", clock.wrap("entities", writer_module.learn_from_text)),
        (dedup, "sketch", clock.wrap("sketch", dedup.sketch)),
        (analysis, "positions", clock.wrap("analysis", analysis.positions)),
        (analysis, "kept_terms", clock.wrap("analysis", analysis.kept_terms)),
        (analysis, "written_tokens", clock.wrap("analysis", analysis.written_tokens)),
        (textcolumns, "token_ids", clock.wrap("analysis", textcolumns.token_ids)),
        (textcolumns.TextPostings, "add", clock.wrap("postings", textcolumns.TextPostings.add)),
        (postings.MemoryPostings, "add", clock.wrap("postings", postings.MemoryPostings.add)),
        (postings.MemoryPostings, "add_positions", clock.wrap("postings", postings.MemoryPostings.add_positions)),
        (postings.MemoryPostings, "write", clock.wrap("postings", postings.MemoryPostings.write)),
        (
            fastwrite.FastSegmentWriter,
            "segment_columns",
            clock.wrap("sidecar", fastwrite.FastSegmentWriter.segment_columns),
        ),
        (sidecar, "save", clock.wrap("sidecar", sidecar.save)),
    ]
    originals = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    for obj, name, value in patches:
        setattr(obj, name, value)
    try:
        extractor = None if entities else NoExtractor()
        with Index.create(folder, extractor=extractor) as ix:
            t = time.thread_time()
            report = ix.ingest([corpus], workers=1, commit_every=None)
            total = time.thread_time() - t
    finally:
        for obj, name, value in originals:
            setattr(obj, name, value)
    # analysis runs inside add_positions: count it once, under analysis
    clock.spent["postings"] -= clock.spent["analysis"]
    clock.spent["commit/other"] = total - sum(v for k, v in clock.spent.items() if k != "commit/other")
    clock.spent["total"] = total
    return clock.spent, report.read


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-entities", action="store_true", help="index with NoExtractor")
    parser.add_argument("--quick", action="store_true", help="200 articles (CI)")
    parser.add_argument("--worker-gc", action="store_true", help="collect garbage as the parallel workers do")
    args = parser.parse_args(argv)
    n = 200 if args.quick else args.articles
    corpus, _ = ensure_corpus(Path(__file__).parent / "data", n, args.seed)
    if args.worker_gc:
        gc.freeze()
        gc.set_threshold(*parallel.WORKER_GC_THRESHOLDS)
    with tempfile.TemporaryDirectory() as tmp:
        spent, read = run(corpus, Path(tmp) / "ix", entities=not args.no_entities)
    total = spent["total"]
    print(f"{read} articles, {total:.2f} s CPU in the ingesting thread ({total / read * 1e3:.3f} ms/article)")
    for stage in STAGES:
        print(f"{stage:>14}: {spent[stage] / read * 1e3:7.3f} ms/article  {spent[stage] / total:6.1%}")


if __name__ == "__main__":
    main()
