"""Buffering the keyword fields' postings at ingest: full Whoosh postings against documents only.

Index format 10 gives the keyword fields' posting lists (``entity``, ``person``, ``org``,
``place``, ``source``, ``id``, ``group``, ``dupkey``) to the columns alone, which keep a
list's documents and nothing else. This times, on the documents of the first ``--articles``
articles of the seeded corpus (entities extracted by the default extractor beforehand,
untimed), the two ways of buffering them in :class:`searchlib._whoosh.postings.MemoryPostings`,
alternated ``--rounds`` times in one process with the workers' garbage collection
(``gc.freeze()`` and ``parallel.WORKER_GC_THRESHOLDS``):

* ``full``: ``MemoryPostings.add`` of each field's ``index`` items (weight, encoded value and
  field length per posting: what format 10's writer did before ``add_docs``);
* ``docs``: ``MemoryPostings.add_docs`` of the distinct terms (``FastKeyword.keys``).

Then both buffers are fed to a sink, which must receive the same documents per term.
CPU ms per article, median of the rounds::

    python benchmarks/bench_keyword_postings.py --articles 2000
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import ensure_corpus
from searchlib import Article, dedup
from searchlib import index as index_module
from searchlib._whoosh import parallel
from searchlib._whoosh import schema as sch
from searchlib._whoosh.columnar import KEYWORD_FIELDS
from searchlib._whoosh.fastwrite import add_keyword_docs, fast_items
from searchlib._whoosh.postings import MemoryPostings
from searchlib.entities import RuleExtractor, entities_for


class _Lists:
    def __init__(self) -> None:
        self.lists: list[tuple[str, bytes, list[int]]] = []

    def add_term(self, fieldname: str, tbytes: bytes, ids: Any, *rest: Any) -> None:
        self.lists.append((fieldname, tbytes, list(ids)))


def _documents(corpus: Path) -> list[dict[str, Any]]:
    extractor = RuleExtractor()
    docs = []
    for record in index_module.read_articles([corpus]):
        if isinstance(record, Article):
            entities = entities_for(record.title, record.body, record.entities, extractor)
            sketch = dedup.sketch(record.body)
            docs.append(sch.to_document(record, entities, "0", sketch=sketch, group=record.id, extracted=True))
    return docs


def _full(docs: list[dict[str, Any]], fields: list[tuple[str, Any]]) -> MemoryPostings:
    memory = MemoryPostings()
    for docnum, doc in enumerate(docs):
        for name, field in fields:
            value = doc.get(name)
            if value is not None:
                items = fast_items(field, value)
                memory.add(name, docnum, field.index(value) if items is None else items, 1.0)
    return memory


def _docs(docs: list[dict[str, Any]], fields: list[tuple[str, Any]]) -> MemoryPostings:
    memory = MemoryPostings()
    for docnum, doc in enumerate(docs):
        for name, field in fields:
            value = doc.get(name)
            if value is not None:
                add_keyword_docs(memory, name, docnum, field, value)  # the writer's own path
    return memory


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    corpus, _ = ensure_corpus(Path(__file__).parent / "data", args.articles, args.seed)
    docs = _documents(corpus)
    schema = sch.build_schema()
    fields = [(name, schema[name]) for name in KEYWORD_FIELDS]
    gc.freeze()
    gc.set_threshold(*parallel.WORKER_GC_THRESHOLDS)
    ways: dict[str, Callable[[list[dict[str, Any]], list[tuple[str, Any]]], MemoryPostings]] = {
        "full": _full,
        "docs": _docs,
    }
    spent: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            t = time.process_time()
            memory = way(docs, fields)
            spent[name].append(time.process_time() - t)
            memory.close()
    fed = {}
    for name, way in ways.items():
        sink = _Lists()
        way(docs, fields).feed(sink)
        fed[name] = sink.lists
    if fed["full"] != fed["docs"]:
        raise SystemExit("the two buffers gave different posting lists")
    print(f"{len(docs)} articles, {len(fed['docs'])} keyword posting lists (the same both ways)")
    for name, values in spent.items():
        per = [v / len(docs) * 1e3 for v in values]
        print(f"{name:>5}: median {statistics.median(per):.4f} CPU ms/article  ({', '.join(f'{p:.4f}' for p in per)})")


if __name__ == "__main__":
    main()
