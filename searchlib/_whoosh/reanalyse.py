"""A segment's columnar arrays rebuilt from its stored articles: re-analysis, no Whoosh postings.

Since index format 9 the text fields' postings live only in the segment's sidecar
(:mod:`.columnar`). When a sidecar is missing or damaged (removed by hand, a disk fault) the
arrays are rebuilt here from what Whoosh stores for every document -- the article, its
entities, checksum, near-duplicate sketch and group -- by making the Whoosh document the
writer made (:func:`.schema.to_document`) and analysing it as the writer does
(``FastSegmentWriter.add_document``: text fields as token streams into a
:class:`.textcolumns.StreamingColumnsBuilder`, keyword fields' sorted posting lists from a
:class:`.postings.MemoryPostings`). Analysis is deterministic, so the result
equals the sidecar the writer saved (tests/test_sidecar_build.py compares them for every
segment). Deleted documents are rebuilt too: the arrays keep Whoosh's document numbers.
Memory stays bounded: the postings buffer spills to sorted runs as the writer's does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from searchlib import dedup
from searchlib._whoosh import schema as sch
from searchlib._whoosh.columnar import KEYWORD_FIELDS, TEXT_FIELDS, SegmentColumns
from searchlib._whoosh.postings import MemoryPostings
from searchlib._whoosh.search import column_reader
from searchlib._whoosh.textcolumns import StreamingColumnsBuilder
from searchlib.models import Article

__all__ = ["StoredRow", "rebuild", "stored_rows"]

StoredRow = tuple[Article, str, tuple[int, ...], str, bool]
"""(article with its entities, checksum, sketch, near-duplicate group, entities extracted)."""


def stored_rows(reader: Any, docnums: Iterator[int]) -> Iterator[StoredRow]:
    """What segment or index ``reader`` stores for each of ``docnums`` (deleted ones read too)."""
    bodies = column_reader(reader, "body_text")
    sketches = column_reader(reader, "sketch")
    groups = column_reader(reader, "group")
    for docnum in docnums:
        stored = reader.stored_fields(docnum)
        meta = stored["meta"]
        article = sch.to_article(stored["id"], meta, bytes(bodies[docnum]))
        sketch = dedup.unpack(sketches[docnum])
        group = str(groups[docnum]) or meta.get("copy_of") or article.id
        yield article, str(meta["checksum"]), sketch, group, bool(meta.get("extracted", True))


def rebuild(reader: Any) -> SegmentColumns:
    """Every array of the segment ``reader`` reads, from its stored documents (see the module docstring)."""
    schema = reader.schema
    count = int(reader.doc_count_all())
    memory = MemoryPostings()
    builder = StreamingColumnsBuilder()
    names = sorted((*TEXT_FIELDS, *KEYWORD_FIELDS))
    try:
        for docnum, row in enumerate(stored_rows(reader, iter(range(count)))):
            article, digest, sketch, group, extracted = row
            doc = sch.to_document(
                article, article.entities or (), digest, sketch=sketch, group=group, extracted=extracted
            )
            for name in names:
                value = doc.get(name)
                if value is None:
                    continue
                field = schema[name]
                if name in TEXT_FIELDS:
                    builder.add_text(name, docnum, value)
                else:
                    memory.add(name, docnum, field.index(value), 1.0)
            builder.add_date(docnum, int(doc["date"]))
            builder.add_facets(docnum, doc["facets"])
            if memory.full:
                memory.spill()
        memory.feed(builder)
    finally:
        memory.close()
    return builder.finish(count)
