"""Merging segments by copying their bytes, and the policy that decides which segments merge.

Whoosh's own merge (``SegmentWriter.add_reader``) unpickles and re-pickles every stored
document, re-reads every column value and every keyword posting one Python call at a time
and sends the postings through its external-sort pool: 113 s and 5.6 GB peak RSS to merge
100,000 articles (20 segments) into one. In index format 10 a segment's Whoosh files hold
only per-document columns (stored fields among them) and empty term tables, and every
posting is in the sidecar of columnar arrays, so :func:`merge_segments` writes the merged
segment directly:

* **columns** (``.col``): a variable-bytes column's values are copied as raw bytes -- the
  stored fields stay compressed pickles, never decoded -- streamed from memory-mapped
  sources a run of live documents at a time; its lengths (and offsets) are rebuilt with
  numpy. Fixed-size columns (dates) are sliced with numpy (:mod:`.columns_merge`);
* **postings**: none in Whoosh's files (format 9 re-encoded the keyword fields' here, about
  70% of a merge's time); the term table and postings file are written empty, as a build
  writes them;
* **the sidecar**: the sources' arrays concatenated with deletions applied, streamed to
  the data file a range of terms at a time (:mod:`.sidecar_merge`).

The files are those a fresh build of the same live documents writes (tests compare them
byte for byte).

:func:`plan_merges` is the merge policy (see its docstring and README "Segments and
merges"); this module also holds what a merge knows of each source segment (``_Source``) and
:func:`merge_segments`, which writes the merged segment through the two modules above.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec import whoosh3

from searchlib._whoosh.columnar import Part, SegmentColumns
from searchlib._whoosh.columns_merge import (
    _LENGTHS,
    _column_type,
    _field_total,
    _fixed_bytes,
    _is_var,
    _merge_var_column,
    _merged_fixed,
)

__all__ = [
    "FACTOR",
    "MAX_SEGMENT_BYTES",
    "MIN_LEVEL_DOCS",
    "SegmentSize",
    "merge_segments",
    "plan_merges",
    "segment_bytes",
]

FACTOR = 10
"""Segments of one size level merged together (a level spans sizes within this factor)."""
MIN_LEVEL_DOCS = 1_000
"""Segments under this many documents are all one level (the smallest)."""
MAX_SEGMENT_BYTES = 1 << 30
"""No merge builds a segment whose largest variable-bytes column passes this (Whoosh's limit is 4 GiB)."""


class SegmentSize:
    """What the merge policy knows of a segment: live documents and its largest column's bytes."""

    __slots__ = ("bytes", "docs")

    def __init__(self, docs: int, bytes_: int) -> None:
        self.docs = docs
        self.bytes = bytes_

    def __repr__(self) -> str:
        return f"SegmentSize({self.docs}, {self.bytes})"


def _level(docs: int) -> int:
    level, size = 0, MIN_LEVEL_DOCS
    while docs >= size:
        level += 1
        size *= FACTOR
    return level


def plan_merges(sizes: Sequence[SegmentSize], *, factor: int | None = None, cap: int | None = None) -> list[list[int]]:
    """Which segments to merge: groups of indexes into ``sizes`` (each group becomes one segment).

    A logarithmic policy: a segment's *level* is how many times ``factor`` its live document
    count is past ``MIN_LEVEL_DOCS`` (all smaller segments are level 0). When a level holds
    ``factor`` segments, or segments whose merge would reach half the byte cap, they are
    merged -- smallest first, as many as keep the merged segment's largest column under
    ``cap`` -- and the result, one level up, may complete that level in turn. Each document is
    thus merged about once per level (log_factor of the index size over 1,000), and an index
    holds at most ``factor - 1`` segments per level below the cap plus the segments at the cap:
    a 100,000-article build in 20 commits of 5,000 ends with two or three segments.
    Segments at half the cap or more are never merged again (their merge would pass it).
    """
    factor = FACTOR if factor is None else factor
    cap = MAX_SEGMENT_BYTES if cap is None else cap
    work = [(s.docs, s.bytes, [i]) for i, s in enumerate(sizes)]
    groups: list[list[int]] = []
    while True:
        by_level: dict[int, list[int]] = {}
        for at, (docs, nbytes, _) in enumerate(work):
            if nbytes * 2 < cap:
                by_level.setdefault(_level(docs), []).append(at)
        chosen: list[int] | None = None
        for level in sorted(by_level):
            members = sorted(by_level[level], key=lambda at: (work[at][0], at))
            total = sum(work[at][1] for at in members)
            if len(members) < factor and total * 2 < cap:
                continue
            picked: list[int] = []
            nbytes = 0
            for at in members:
                if picked and nbytes + work[at][1] > cap:
                    break
                picked.append(at)
                nbytes += work[at][1]
            if len(picked) >= 2:
                chosen = picked
                break
        if chosen is None:
            break
        merged = sorted(chosen)  # document order: older segments first
        sources = [i for at in merged for i in work[at][2]]
        docs = sum(work[at][0] for at in merged)
        nbytes = sum(work[at][1] for at in merged)
        work = [w for at, w in enumerate(work) if at not in set(merged)] + [(docs, nbytes, sources)]
    for _, _, sources in work:
        if len(sources) > 1:
            groups.append(sorted(sources))
    return groups


# --- reading a segment's files ---------------------------------------------------------------


def _column_names(storage: Any, segment: Any) -> list[str]:
    prefix = f"{segment.segment_id()}."
    return sorted(
        name[len(prefix) : -len(".col")] for name in storage.list() if name.startswith(prefix) and name.endswith(".col")
    )


class _Source:
    """One segment being merged: its storage, live documents and new document numbers."""

    def __init__(self, storage: Any, segment: Any, base: int) -> None:
        self.storage = storage
        self.segment = segment
        self.count = int(segment.doc_count_all())
        deleted = [d for d in segment.deleted_docs() if d < self.count] if segment.has_deletions() else []
        self.live: npt.NDArray[np.bool_] | None = None
        if deleted:
            self.live = np.ones(self.count, dtype=bool)
            self.live[np.asarray(deleted, dtype=np.int64)] = False
            self.newnum = base + np.cumsum(self.live, dtype=np.int64) - 1
            self.kept = int(self.live.sum())
        else:
            self.newnum = np.arange(base, base + self.count, dtype=np.int64)
            self.kept = self.count

    def name(self, ext: str) -> str:
        return str(self.segment.make_filename(ext))

    def column_file(self, column: str) -> str:
        return str(whoosh3.W3Codec.column_filename(self.segment, column))


def segment_bytes(storage: Any, segment: Any) -> int:
    """The size of a segment's largest variable-bytes column file (what Whoosh's 4 GiB limit bounds)."""
    sizes = [
        storage.file_length(whoosh3.W3Codec.column_filename(segment, name))
        for name in _column_names(storage, segment)
        if not name.endswith("_len")
    ]
    return max(sizes, default=0)


# --- the merge -----------------------------------------------------------------------------


def merge_segments(
    storage: Any,
    schema: Any,
    segments: Sequence[Any],
    indexname: str,
    columns_of: Callable[[Any], SegmentColumns],
    *,
    target: Any = None,
) -> tuple[Any, list[Part]]:
    """Write one new segment holding ``segments``' live documents in order; returns it and its sidecar's parts.

    ``columns_of(segment)`` gives a source segment's columnar arrays (its sidecar). The new
    segment's files are written through ``storage`` (fsynced by a durable one); its sidecar --
    the returned parts concatenated (:func:`.sidecar_merge.save_merged` on disk,
    :func:`.columnar.concat` in memory) -- is the caller's to write, before a table of
    contents lists the segment. Nothing is committed
    here: the caller commits the new segment in place of ``segments``, atomically. ``target``
    is the new segment when the caller named it already (a background merge protects its files
    from cleanup before anything is written, :mod:`.background`).
    """
    codec = whoosh3.W3Codec()
    if target is None:
        target = codec.new_segment(storage, indexname)
    sources: list[_Source] = []
    base = 0
    for segment in segments:
        src = _Source(storage, segment, base)
        sources.append(src)
        base += src.kept
    total = base
    # not "facets": the merged sidecar's facet table holds every document's (sidecar version 8), so the
    # Whoosh column of segments written before it is not carried on
    names = sorted({name for src in sources for name in _column_names(storage, src.segment)} - {"facets"})
    fieldlengths: dict[str, int] = {}
    for column in names:
        coltype = _column_type(schema, column)
        if _is_var(coltype):
            out = storage.create_file(whoosh3.W3Codec.column_filename(target, column))
            try:
                _merge_var_column(out, sources, column, total)
            finally:
                out.close()
            continue
        rows = _merged_fixed(sources, column, coltype)
        default = bytes(coltype.writer(None)._defaultbytes)
        data = _fixed_bytes(rows, default)
        if column.startswith("_") and column.endswith("_len"):
            fieldname = column[1 : -len("_len")]
            table = np.asarray(_LENGTHS, dtype=np.int64)
            fieldlengths[fieldname] = _field_total(sources, fieldname, table, column)
            if not data:
                continue  # no live document has a length: a build never makes the column
        out = storage.create_file(whoosh3.W3Codec.column_filename(target, column))
        try:
            out.write(data)
        finally:
            out.close()
    codec.field_writer(storage, target).close()  # no postings: the empty term table a build writes
    target._doccount = total
    target._fieldlengths = {name: n for name, n in fieldlengths.items() if n}
    return target, [(columns_of(src.segment), src.live) for src in sources]
