"""Merging segments by copying their bytes, and the policy that decides which segments merge.

Whoosh's own merge (``SegmentWriter.add_reader``) unpickles and re-pickles every stored
document, re-reads every column value and every keyword posting one Python call at a time
and sends the postings through its external-sort pool: 113 s and 5.6 GB peak RSS to merge
100,000 articles (20 segments) into one. In index format 9 a segment's Whoosh files hold
only per-document columns (stored fields among them), keyword postings, and the sidecar of
columnar arrays, so :func:`merge_segments` writes the merged segment directly:

* **columns** (``.col``): a variable-bytes column's values are copied as raw bytes -- the
  stored fields stay compressed pickles, never decoded -- streamed from memory-mapped
  sources a run of live documents at a time; its lengths (and offsets) are rebuilt with
  numpy. Fixed-size columns (dates, field-length bytes) are sliced with numpy;
* **keyword postings** (``.trm``/``.pst``): each source's term table is read in key order
  (no hash lookups), its posting blocks decoded once, document numbers renumbered, and
  each merged list written a block at a time through Whoosh's own block writer, in
  (field, term) order, as a fresh build does (:func:`.postings._write_postings`);
* **the sidecar**: the sources' arrays concatenated with deletions applied, streamed to
  the data file a range of terms at a time (:mod:`.sidecar_merge`).

The files are those a fresh build of the same live documents writes (tests compare them
byte for byte), except one number: the segment's total length of a keyword field is its
sources' totals less the deleted documents' lengths as their one-byte length codes give
them (a build sums exact lengths; only BM25 of Whoosh's own keyword scoring reads it).

:func:`plan_merges` is the merge policy (see its docstring and README "Segments and
merges").
"""

from __future__ import annotations

import heapq
import io
import itertools
import mmap
import pickle
import struct
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import columns as wcolumns
from whoosh.codec import whoosh3
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashReader
from whoosh.filedb.filetables import _lengths as _RECORD
from whoosh.util.numeric import byte_to_length, length_to_byte

from searchlib._whoosh.columnar import Part, SegmentColumns
from searchlib.errors import IndexProblem

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

_MAGIC = whoosh3.WHOOSH3_HEADER_MAGIC
_CHUNK = 1 << 24
"""Bytes copied per write when a column's values are streamed."""
_BATCH = 4_096
"""Terms whose bytes are joined into one write."""
_CACHED = 1 << 20
"""One-posting terms' bytes kept per merge, to reuse for other terms of the same document (~100 MB at most)."""
_LENGTHS = [0, *(byte_to_length(b) for b in range(1, 256))]
"""A field length as a segment's length column gives it back, by its length byte."""
_TYPECODES = (("B", 1 << 8), ("H", 1 << 16), ("i", 1 << 31), ("I", 1 << 32))
"""Whoosh's GrowableArray: the narrowest array typecode for a maximum value.

A variable-bytes column's writer keeps its lengths and offsets in a ``GrowableArray`` without
64-bit longs, so nothing from 2**32 (4 GiB) on fits: the writer raises ``OverflowError`` there.
(``VarBytesColumn``'s docstring says 2 GB, the limit of older Whoosh versions.)
"""
_BIG_ENDIAN = {"B": ">u1", "H": ">u2", "i": ">i4", "I": ">u4", "l": ">i8", "L": ">u8", "q": ">i8", "Q": ">u8"}


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


def _read(storage: Any, name: str) -> Any:
    """A file's bytes: memory-mapped from a folder, or the bytes of an in-memory storage's file."""
    if isinstance(storage, FileStorage):
        with open(Path(storage.folder) / name, "rb") as f:
            if not f.seek(0, 2):
                return b""
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    f = storage.open_file(name)
    try:
        return f.read()
    finally:
        f.close()


def _var_layout(data: Any, doccount: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(offsets, lengths) of a Whoosh variable-bytes column's values, as ``VarBytesColumn.Reader`` reads them."""
    if doccount == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    last = len(data) - 1
    code = chr(data[last])
    if code == "X":
        lens_code, last = chr(data[last - 2]), last - 2
    else:
        lens_code = code
    size = struct.calcsize(lens_code)
    if code == "X":
        last -= struct.calcsize(chr(data[last + 1])) * doccount
    start = last - size * doccount
    lengths = np.frombuffer(data, dtype=_BIG_ENDIAN[lens_code], count=doccount, offset=start).astype(np.int64)
    offsets = np.zeros(doccount, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    return offsets, lengths


def _typecode(top: int, what: str) -> str:
    """The typecode Whoosh's column writer gives ``top``; an :class:`.IndexProblem` naming ``what`` past 4 GiB."""
    for code, limit in _TYPECODES:
        if top < limit:
            return code
    raise IndexProblem(
        f"{what}: {top:,} bytes do not fit a Whoosh variable-bytes column "
        f"(its offsets and lengths are 32-bit: under 4 GiB, {1 << 32:,} bytes)"
    )


def _runs(live: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """The [start, end) runs of True in ``live``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], live.view(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


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


# --- writing the merged segment ----------------------------------------------------------------


def _column_type(schema: Any, name: str) -> Any:
    if name == "_stored":
        return whoosh3.STORED_COLUMN
    if name.startswith("_") and name.endswith("_len"):
        return whoosh3.LENGTHS_COLUMN
    return schema[name].column_type


def _is_var(column: Any) -> bool:
    while isinstance(column, wcolumns.WrappedColumn):
        column = column._child
    if type(column) in (wcolumns.VarBytesColumn, wcolumns.CompressedBytesColumn):
        return True
    if isinstance(column, wcolumns.FixedBytesColumn):  # NumericColumn too
        return False
    raise TypeError(f"cannot merge a {type(column).__name__} by copying")


def _merge_var_column(out: Any, sources: list[_Source], column: str, total: int) -> None:
    """Write the variable-bytes column ``column`` of the merged segment to ``out`` (a StructFile)."""
    lengths_parts = []
    for src in sources:
        name = src.column_file(column)
        if not src.storage.file_exists(name):
            lengths_parts.append(np.zeros(src.kept, dtype=np.int64))
            continue
        data = _read(src.storage, name)
        try:
            offsets, lengths = _var_layout(data, src.count)
            runs = [(0, src.count)] if src.live is None else _runs(src.live)
            for start, end in runs:
                if start == end:
                    continue
                lo = int(offsets[start])
                hi = int(offsets[end - 1] + lengths[end - 1])
                for at in range(lo, hi, _CHUNK):
                    out.write(data[at : min(hi, at + _CHUNK)])
            lengths_parts.append(lengths if src.live is None else lengths[src.live])
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    lengths = np.concatenate(lengths_parts) if lengths_parts else np.zeros(0, dtype=np.int64)
    merged = "merging segments " + ", ".join(str(src.segment.segment_id()) for src in sources)
    lens_code = _typecode(int(lengths.max()) if total else 0, f"{merged}: a value of column {column!r}")
    out.write(lengths.astype(_BIG_ENDIAN[lens_code]).tobytes())
    write_offsets = total > 2**15  # VarBytesColumn's cutoff
    offsets_code = ""
    if write_offsets:
        offsets = np.zeros(total, dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        offsets_code = _typecode(int(offsets[-1]), f"{merged}: the values of column {column!r}")
        out.write(offsets.astype(_BIG_ENDIAN[offsets_code]).tobytes())
    out.write(lens_code.encode("ascii"))
    if write_offsets:
        out.write(offsets_code.encode("ascii") + b"X")


def _fixed_rows(src: _Source, column: str, fixedlen: int, default: bytes) -> npt.NDArray[np.uint8]:
    rows = np.frombuffer(default * src.count, dtype=np.uint8).reshape(src.count, fixedlen).copy()
    name = src.column_file(column)
    if src.storage.file_exists(name):
        data = _read(src.storage, name)
        try:
            stored = min(len(data) // fixedlen, src.count)
            rows[:stored] = np.frombuffer(data, dtype=np.uint8, count=stored * fixedlen).reshape(stored, fixedlen)
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    return rows if src.live is None else rows[src.live]


def _merged_fixed(sources: list[_Source], column: str, coltype: Any) -> npt.NDArray[np.uint8]:
    writer = coltype.writer(None)  # (a fixed-size writer only keeps its file)
    fixedlen, default = int(writer._fixedlen), bytes(writer._defaultbytes)
    parts = [_fixed_rows(src, column, fixedlen, default) for src in sources]
    return np.concatenate(parts) if parts else np.zeros((0, fixedlen), dtype=np.uint8)


def _fixed_bytes(rows: npt.NDArray[np.uint8], default: bytes) -> bytes:
    """A fixed-size column file: every row up to the last one that is not the default (Whoosh writes no more)."""
    if not len(rows):
        return b""
    other = (rows != np.frombuffer(default, dtype=np.uint8)).any(axis=1)
    used = int(np.flatnonzero(other)[-1]) + 1 if other.any() else 0
    return rows[:used].tobytes()


# --- keyword postings ----------------------------------------------------------------------


def _decode_blocks(post: Any, offset: int, fixedsize: int | None) -> tuple[list[int], list[float], list[bytes]]:
    """A term's postings from a Whoosh 3 posting file: (document numbers, weights, values)."""
    ids: list[int] = []
    weights: list[float] = []
    values: list[bytes] = []
    at = offset + 4  # the block header magic
    while True:
        (length,) = struct.unpack_from("!i", post, at)
        last = length < 0
        length = -length if last else length
        start = at + 4
        end = start + length
        block = io.BytesIO(post[start:end])
        info = pickle.load(block)  # the block's info tuple, then its data
        count, comp = info[0], info[3]
        raw = block.read()
        block_ids, block_weights, block_values = pickle.loads(zlib.decompress(raw) if comp else raw)
        ids.extend(itertools.accumulate(block_ids))
        if block_weights is None:
            weights.extend(itertools.repeat(1.0, count))
        elif isinstance(block_weights, float):
            weights.extend(itertools.repeat(block_weights, count))
        else:
            weights.extend(block_weights)
        if block_values is None:
            pass
        elif isinstance(block_values, tuple):
            values.extend(block_values)
        elif fixedsize:
            values.extend(block_values[i : i + fixedsize] for i in range(0, len(block_values), fixedsize))
        if last:
            return ids, weights, values
        at = end


_Posting = tuple[str, bytes, int, list[int], list[float], list[bytes]]


def _term_postings(src: _Source, schema: Any, order: int) -> Iterator[_Posting]:
    """A source's live postings per (field, term), in key order, renumbered for the merged segment."""
    trm = src.storage.open_file(src.name(whoosh3.W3Codec.TERMS_EXT))
    table = _read(src.storage, src.name(whoosh3.W3Codec.TERMS_EXT))
    post = _read(src.storage, src.name(whoosh3.W3Codec.POSTS_EXT))
    try:
        tindex = OrderedHashReader(trm, src.storage.file_length(src.name(whoosh3.W3Codec.TERMS_EXT)))
        unmap = {num: name for name, num in tindex.extras["fieldmap"].items()}
        start, end = tindex.startofdata, tindex.endofdata
        newnum = src.newnum.tolist()
        live = None if src.live is None else src.live.tolist()
        fixed: dict[str, int | None] = {}
        info_size = whoosh3.W3TermInfo._struct.size
        seen: dict[bytes, tuple[list[int], list[float], list[bytes]]] = {}
        for keybytes, valbytes in _table_items(table, start, end):
            fieldname = unmap[struct.unpack("!H", keybytes[:2])[0]]
            if fieldname not in fixed:
                fixed[fieldname] = schema[fieldname].format.fixed_value_size()
            if valbytes[0]:  # inlined postings (Whoosh 3 writes none: its inline limit is 1)
                ids_, weights_, values_ = pickle.loads(valbytes[info_size:])
                ids, weights, values = list(ids_), list(weights_), list(values_)
            else:
                offset, length = struct.unpack_from("!qi", valbytes, info_size)
                raw = post[offset : offset + length]
                if raw in seen:  # the same bytes as an earlier term's: one posting of one document
                    ids, weights, values = seen[raw]
                else:
                    ids, weights, values = _decode_blocks(raw, 0, fixed[fieldname])
                    if len(ids) == 1 and len(seen) < _CACHED:
                        seen[raw] = (ids, weights, values)
            if live is not None:
                keep = [i for i, d in enumerate(ids) if live[d]]
                if not keep:
                    continue
                if len(keep) != len(ids):
                    ids = [ids[i] for i in keep]
                    weights = [weights[i] for i in keep]
                    values = [values[i] for i in keep] if values else values
            yield fieldname, keybytes[2:], order, [newnum[d] for d in ids], weights, values
    finally:
        trm.close()
        for mapped in (table, post):
            if isinstance(mapped, mmap.mmap):
                mapped.close()


def _table_items(table: Any, pos: int, end: int) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of a Whoosh hash file's records in file order (``HashReader._ranges`` over mapped bytes)."""
    unpack = _RECORD.unpack_from
    size = _RECORD.size
    while pos < end:
        keylen, datalen = unpack(table, pos)
        keypos = pos + size
        datapos = keypos + keylen
        yield table[keypos:datapos], table[datapos : datapos + datalen]
        pos = datapos + datalen


_TERMINFO = whoosh3.W3TermInfo._struct
_BLOCK_LIMIT = 128  # W3Codec's defaults: postings per block, zlib level
_COMPRESSION = 3


def _term_bytes(
    offset: int, ids: list[int], weights: list[float], values: list[bytes], lengths: array[int], fixedsize: int | None
) -> tuple[bytes, bytes]:
    """One term's posting blocks and its term-table value, as ``W3PostingsWriter`` writes them.

    The same bytes as ``start_term`` / :func:`.postings._write_postings` / ``finish_term`` (and
    Whoosh's ``add_posting`` path): blocks of 128 postings, each a pickled info tuple and the
    zlib-compressed pickle of delta-coded ids, minified weights and values; the term info
    sums the blocks' statistics. Without the writer objects' per-call overhead (a merge writes
    one term per id, group and near-duplicate key of every article).
    """
    if len(ids) == 1:
        blocks, packed = _one_posting(ids[0], weights[0], tuple(values), lengths, fixedsize)
        return blocks, packed + struct.pack("!qi", offset, len(blocks))
    out = [_MAGIC]
    size = 4
    total_weight: float = 0
    df = maxlength = 0
    maxweight: float = 0
    minlength: int | None = None
    minid: int | None = None
    maxid = 0
    count = len(ids)
    nlengths = len(lengths)
    for start in range(0, count, _BLOCK_LIMIT):
        end = min(start + _BLOCK_LIMIT, count)
        block_ids = ids[start:end]
        block_weights = array("f", weights[start:end])
        block_lengths = [n for d in block_ids if d < nlengths and (n := lengths[d])] if nlengths else []
        low = min(block_lengths) if block_lengths else None
        high = max(block_lengths) if block_lengths else 0
        top = max(0, max(weights[start:end]))
        total_weight += sum(block_weights)
        df += end - start
        minlength = low if minlength is None else min(minlength, low)  # type: ignore[type-var]
        maxlength = max(maxlength, high)
        maxweight = max(maxweight, top)
        if minid is None:
            minid = block_ids[0]
        maxid = block_ids[-1]
        deltas = _deltas(block_ids)
        if all(w == 1.0 for w in block_weights):
            mini_weights: Any = None
        elif all(w == block_weights[0] for w in block_weights):
            mini_weights = block_weights[0]
        else:
            mini_weights = tuple(block_weights)
        block_values = [v for v in values[start:end] if v]
        if fixedsize is None or fixedsize < 0:
            mini_values: Any = tuple(block_values)
        elif fixedsize == 0:
            mini_values = None
        else:
            mini_values = b"".join(block_values)
        data = zlib.compress(pickle.dumps((deltas, mini_weights, mini_values), 2), _COMPRESSION)
        info = pickle.dumps(
            (end - start, block_ids[-1], top, _COMPRESSION, length_to_byte(low), length_to_byte(high)), 2
        )
        length = len(info) + len(data)
        out += [struct.pack("!i", -length if end == count else length), info, data]
        size += 4 + length
    packed = _TERMINFO.pack(
        0,
        total_weight,
        df,
        0 if minlength is None else length_to_byte(minlength),
        length_to_byte(maxlength),
        maxweight,
        0xFFFFFFFF if minid is None else minid,
        maxid,
    )
    return b"".join(out), packed + struct.pack("!q", offset) + struct.pack("!i", size)


def _one_posting(
    doc: int, weight: float, values: tuple[bytes, ...], lengths: array[int], fixedsize: int | None
) -> tuple[bytes, bytes]:
    """:func:`_term_bytes` of a term with one posting (most ids, groups and near-duplicate keys).

    Returns the posting bytes and the term info without its extent (place and size in the
    file): both depend on the document, weight and value alone, so a merge reuses them for
    every term of that document with that weight and value (its id, group, near-duplicate
    keys...), see :func:`_write_keyword_postings`.
    """
    stored = array("f", [weight])[0]
    length = lengths[doc] if doc < len(lengths) else 0
    low = length or None
    value = [v for v in values if v]
    if fixedsize is None or fixedsize < 0:
        mini_values: Any = tuple(value)
    elif fixedsize == 0:
        mini_values = None
    else:
        mini_values = b"".join(value)
    mini_weight = None if stored == 1.0 else stored
    data = zlib.compress(pickle.dumps(((doc,), mini_weight, mini_values), 2), _COMPRESSION)
    top = max(0, weight)
    low_byte, high_byte = length_to_byte(low), length_to_byte(length)
    info = pickle.dumps((1, doc, top, _COMPRESSION, low_byte, high_byte), 2)
    block_length = len(info) + len(data)
    blocks = b"".join((_MAGIC, struct.pack("!i", -block_length), info, data))
    return blocks, _TERMINFO.pack(0, stored, 1, 0 if low is None else low_byte, high_byte, top, doc, doc)


def _deltas(ids: list[int]) -> tuple[int, ...]:
    """Whoosh's ``delta_encode``: the first id, then each id less the one before."""
    return (ids[0], *(b - a for a, b in itertools.pairwise(ids)))


def _write_keyword_postings(
    fieldwriter: Any, schema: Any, sources: list[_Source], lengths: dict[str, array[int]]
) -> None:
    streams = [_term_postings(src, schema, order) for order, src in enumerate(sources)]
    merged = heapq.merge(*streams, key=lambda p: (p[0], p[1], p[2]))
    current = None
    fixedsize: int | None = None
    stored = array("I")
    postfile = fieldwriter._postfile
    tindex = fieldwriter._tindex
    offset = postfile.tell()
    table = tindex.dbfile
    table_at = table.tell()
    index, buckets, hashfn = tindex.index, tindex.buckets, tindex.hashfn
    record = _RECORD.pack
    singles: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}
    post_out: list[bytes] = []  # written _BATCH terms at a time
    table_out: list[bytes] = []
    prefix = b""
    for (fieldname, tbytes), group in itertools.groupby(merged, key=lambda p: (p[0], p[1])):
        parts = list(group)
        if fieldname != current:
            if current is not None:
                fieldwriter.finish_field()
            fieldobj = schema[fieldname]
            fieldwriter.start_field(fieldname, fieldobj)
            prefix = struct.pack("!H", fieldwriter._fieldid)
            fixedsize = fieldobj.format.fixed_value_size()
            stored = lengths.get(fieldname, array("I")) if fieldobj.scorable else array("I")
            current = fieldname
        if len(parts) == 1:
            ids, weights, values = parts[0][3], parts[0][4], parts[0][5]
        else:
            ids = [d for p in parts for d in p[3]]
            weights = [w for p in parts for w in p[4]]
            values = [v for p in parts for v in p[5]]
        if len(ids) == 1:
            one = (ids[0], weights[0], tuple(values), stored[ids[0]] if ids[0] < len(stored) else 0, fixedsize)
            made = singles.get(one)
            if made is None:
                made = _one_posting(ids[0], weights[0], one[2], stored, fixedsize)
                if len(singles) < _CACHED:
                    singles[one] = made
            blocks, terminfo = made[0], made[1] + struct.pack("!qi", offset, len(made[0]))
        else:
            blocks, terminfo = _term_bytes(offset, ids, weights, values, stored, fixedsize)
        post_out.append(blocks)
        offset += len(blocks)
        # OrderedHashWriter.add without its tell() calls: keys come in increasing order
        key = prefix + tbytes
        index.append(table_at)
        entry = b"".join((record(len(key), len(terminfo)), key, terminfo))
        table_out.append(entry)
        h = hashfn(key)
        buckets[h & 255].append((h, table_at))
        table_at += len(entry)
        tindex.lastkey = key
        if len(post_out) >= _BATCH:
            postfile.write(b"".join(post_out))
            table.write(b"".join(table_out))
            post_out.clear()
            table_out.clear()
    postfile.write(b"".join(post_out))
    table.write(b"".join(table_out))
    if current is not None:
        fieldwriter.finish_field()


# --- the merge -----------------------------------------------------------------------------


def merge_segments(
    storage: Any,
    schema: Any,
    segments: Sequence[Any],
    indexname: str,
    columns_of: Callable[[Any], SegmentColumns],
) -> tuple[Any, list[Part]]:
    """Write one new segment holding ``segments``' live documents in order; returns it and its sidecar's parts.

    ``columns_of(segment)`` gives a source segment's columnar arrays (its sidecar). The new
    segment's files are written through ``storage`` (fsynced by a durable one); its sidecar --
    the returned parts concatenated (:func:`.sidecar_merge.save_merged` on disk,
    :func:`.columnar.concat` in memory) -- is the caller's to write, before a table of
    contents lists the segment. Nothing is committed
    here: the caller commits the new segment in place of ``segments``, atomically.
    """
    codec = whoosh3.W3Codec()
    target = codec.new_segment(storage, indexname)
    sources: list[_Source] = []
    base = 0
    for segment in segments:
        src = _Source(storage, segment, base)
        sources.append(src)
        base += src.kept
    total = base
    names = sorted({name for src in sources for name in _column_names(storage, src.segment)})
    fieldlengths: dict[str, int] = {}
    length_codes: dict[str, array[int]] = {}
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
            approx = table[rows[:, 0]]
            length_codes[fieldname] = array("I", approx.astype(np.uint32).tobytes())
            fieldlengths[fieldname] = _field_total(sources, fieldname, table, column)
            if not data:
                continue  # no live document has a length: a build never makes the column
        out = storage.create_file(whoosh3.W3Codec.column_filename(target, column))
        try:
            out.write(data)
        finally:
            out.close()
    fieldwriter = codec.field_writer(storage, target)
    try:
        _write_keyword_postings(fieldwriter, schema, sources, length_codes)
    finally:
        fieldwriter.close()
    target._doccount = total
    target._fieldlengths = {name: n for name, n in fieldlengths.items() if n}
    return target, [(columns_of(src.segment), src.live) for src in sources]


def _field_total(sources: list[_Source], fieldname: str, table: npt.NDArray[np.int64], column: str) -> int:
    """The merged segment's total length of ``fieldname``: sources' totals less their deleted documents'."""
    total = 0
    for src in sources:
        known = int(getattr(src.segment, "_fieldlengths", {}).get(fieldname, 0))
        name = src.column_file(column)
        if src.live is not None and known and src.storage.file_exists(name):
            data = _read(src.storage, name)
            try:
                codes = np.zeros(src.count, dtype=np.uint8)
                stored = min(len(data), src.count)
                codes[:stored] = np.frombuffer(data, dtype=np.uint8, count=stored)
            finally:
                if isinstance(data, mmap.mmap):
                    data.close()
            known -= int(table[codes[~src.live]].sum())
        total += max(known, 0)
    return total
