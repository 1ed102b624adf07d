"""Keyword lookups over a snapshot's columnar postings: ids, entity frequencies, duplicate groups.

Since index format 10 Whoosh holds no postings: what used to ask Whoosh's term tables --
an article by id (``searcher.document_number``), the live documents naming an entity
(analytics' background counts), the near-duplicate groups (the ``group`` field's terms with
more than one live document) -- reads the keyword fields of the segments' sidecars
(:mod:`.columnar`), with each segment's deletions applied. ``segments`` are a snapshot's
(``engine.ColumnarSnapshot.segments``): objects with the segment's arrays (``cols``), its
first index-wide document number (``offset``) and its live-document mask (``live``, None:
no deletions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from searchlib._whoosh.columnar import SegmentColumns

__all__ = ["docnum_of", "group_members", "live_doc_frequency", "live_docnums"]

I64 = npt.NDArray[np.int64]


class Segment(Protocol):
    cols: SegmentColumns
    offset: int
    live: npt.NDArray[np.bool_] | None


def live_docnums(segments: Sequence[Segment], field: str, text: str) -> I64:
    """The index-wide numbers of the live documents holding ``text`` in keyword ``field``, ascending."""
    parts: list[I64] = []
    for seg in segments:
        fp = seg.cols.fields[field]
        lo, hi = fp.term_range(text)
        if lo == hi:
            continue
        docs = np.asarray(fp.docs[lo:hi], dtype=np.int64)
        if seg.live is not None:
            docs = docs[seg.live[docs]]
        parts.append(docs + seg.offset)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def live_doc_frequency(segments: Sequence[Segment], field: str, text: str) -> int:
    """How many live documents hold ``text`` in keyword ``field``."""
    return len(live_docnums(segments, field, text))


def docnum_of(segments: Sequence[Segment], doc_id: str) -> int | None:
    """The index-wide document number of the live article with ``doc_id``, or None."""
    found = live_docnums(segments, "id", doc_id)
    return int(found[-1]) if len(found) else None  # one live copy per id: the last written, were there two


def group_members(segments: Sequence[Segment]) -> list[I64]:
    """The live documents of every near-duplicate group with at least two, each ascending.

    A group's documents may lie in several segments: each segment's ``group`` postings are
    turned into (group, document) pairs, the live ones kept, and the pairs of all segments
    joined by group name.
    """
    names: list[Any] = []
    docs: list[I64] = []
    for seg in segments:
        fp = seg.cols.fields["group"]
        if not fp.term_count:
            continue
        offsets = np.asarray(fp.offsets, dtype=np.int64)
        sizes = offsets[1:] - offsets[:-1]
        seg_docs = np.asarray(fp.docs, dtype=np.int64)
        term_of = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
        if seg.live is not None:
            keep = seg.live[seg_docs]
            seg_docs, term_of = seg_docs[keep], term_of[keep]
        if len(segments) == 1:  # every group's documents are here: only groups of two or more decoded
            per_term = np.bincount(term_of, minlength=len(sizes))
            wanted = per_term >= 2
            keep = wanted[term_of]
            seg_docs, term_of = seg_docs[keep], term_of[keep]
        used = np.flatnonzero(np.bincount(term_of, minlength=len(sizes)) > 0)
        local = np.empty(len(sizes), dtype=object)
        local[used] = [fp.term(int(t)) for t in used.tolist()]
        names.append(local[term_of])
        docs.append(seg_docs + seg.offset)
    if not docs:
        return []
    all_names = np.concatenate(names)
    all_docs = np.concatenate(docs)
    if not len(all_docs):
        return []
    order = np.lexsort((all_docs, all_names.astype(str)))
    all_names, all_docs = all_names[order], all_docs[order]
    cuts = np.flatnonzero(all_names[1:] != all_names[:-1]) + 1
    return [g for g in np.split(all_docs, cuts) if len(g) > 1]
