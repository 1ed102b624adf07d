"""Columnar postings of one Whoosh segment: numpy arrays beside the segment's own files.

Whoosh keeps its role as the container (segments, table of contents, stored fields,
deletions); this module turns one immutable segment into arrays the engine evaluates with
numpy: per text field a term dictionary, term offsets, document numbers, frequencies, and
positions kept apart, per keyword field a term dictionary and document numbers, and per
document its date key and field lengths (exact token counts). On disk each array has the
narrowest unsigned dtype its segment's values fit (u8, u16 or u32: positions are u32 only in a
segment with an article longer than 65,535 tokens); code computing with them converts to int64.

The arrays of a segment are a *sidecar* keyed by the segment's id: written once, next to the
segment (``MAIN_<segment id>.cols.bin``, every array at an aligned offset, plus a
``.cols.json`` manifest written last that describes it), and memory-mapped read-only
afterwards. The term dictionaries are in the data file too (sidecar version 5: NUL-joined
UTF-8 and each term's start), looked up by bisecting the mapped bytes (:class:`TermDict`):
opening a segment parses a small manifest and makes array views, and a query decodes only the
terms it compares, never a whole dictionary (older versions are still read, see
``READABLE_VERSIONS``; :func:`rewrite` upgrades them). The writer saves it for every
segment it makes -- a commit's new segment, the one segments are merged into, a
parallel-ingest worker's -- fsynced before the commit that lists
the segment (``segwriter.BackendWriter._finalize_segment``), so searches only map files. The
writer never reads its segment back for that: a new segment's arrays are collected from the
postings it writes (:class:`ColumnsBuilder`), a merged segment's are its sources' concatenated
with deletions applied (:func:`concat`).
Why a sidecar and not Whoosh's codec: a segment never changes after it is written (deletions
live in the table of contents), so its arrays never go stale, and everything Whoosh does
with segments -- merges, the crash-safe commit, orphan cleanup (Whoosh's ``clean_files``
and ``check_index`` treat ``MAIN_<id>.*`` as that segment's files) -- keeps working
unchanged. Since index format 9 the sidecar is the only copy of the text fields' postings
(Whoosh writes none for them): a segment whose sidecar is missing or damaged is rebuilt from
its stored articles on first use (:func:`build`, :mod:`.reanalyse`), and saved when on disk.
In-memory indexes keep the arrays the writer made in memory.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import json
import mmap
import os
import pickle
import threading
from array import array
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib._whoosh.terms import TermDict

TEXT_FIELDS = ("body", "title", "entity_text")
"""Fields with frequencies and positions."""
KEYWORD_FIELDS = ("entity", "person", "org", "place", "source", "id", "group")
"""Fields of exact values (document numbers only)."""
SIDECAR_VERSION = 5
"""Version 5 stores each term dictionary as NUL-joined UTF-8 plus each term's start (see
:class:`TermDict`), so a lookup reads the mapped bytes and nothing is split or scanned on load."""
READABLE_VERSIONS = (2, 3, 4, 5)
"""Version 2 stored every array as u32/i64, version 3 narrowed them (see ``_narrow``) and both
kept every term dictionary in the JSON manifest; version 4 moved them into the data file,
NUL-joined, without their starts (found by a scan on load, terms holding NUL stayed in the
manifest). All are read as they are; :func:`outdated` and :func:`rewrite` bring them to
version 5."""

DICT_AFTER = 64
"""Term lookups of one field of one segment answered by bisection before its dict is built."""

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]


class FieldPostings:
    """One field's postings in one segment: term dictionary, offsets and flat arrays."""

    def __init__(
        self,
        terms: list[str] | TermDict,
        offsets: I64,
        docs: U32,
        freqs: U32 | None = None,
        pos_offsets: I64 | None = None,
        positions: U32 | None = None,
    ) -> None:
        self._terms = terms  # sorted; a TermDict is decoded into the list only when all are wanted
        self.offsets = offsets  # len(terms) + 1
        self.docs = docs
        self.freqs = freqs
        self.pos_offsets = pos_offsets  # len(docs) + 1
        self.positions = positions
        self._index: dict[str, int] | None = None
        self._lookups = 0  # before the dict is built (a racy count is harmless: it only picks when)
        self._lock = threading.Lock()
        self._doc_terms: I64 | None = None

    @property
    def terms(self) -> list[str]:
        """The term dictionary, sorted (every term decoded: for merges and whole columns, not lookups)."""
        terms = self._terms
        if isinstance(terms, TermDict):
            terms = self._terms = terms.decode()  # a race only decodes twice: same list
        return terms

    @property
    def term_count(self) -> int:
        return len(self._terms)

    def term(self, term_id: int) -> str:
        """Term number ``term_id``."""
        terms = self._terms
        return terms.key(term_id).decode("utf-8") if isinstance(terms, TermDict) else terms[term_id]

    def term_id(self, term: str) -> int:
        """The term's number, or -1 when the segment does not have it.

        The first ``DICT_AFTER`` lookups bisect the sorted dictionary (a few µs each at
        100,000 terms, over the stored bytes when it came from a sidecar); after them a dict of
        every term is built (~5 ms at 100,000 terms) and used (~0.1 µs a lookup). A one-off
        query thus pays microseconds, not the dict's build, while a field searched often gets
        the dict.
        """
        index = self._index
        if index is None:
            self._lookups += 1
            if self._lookups <= DICT_AFTER:
                terms = self._terms
                if isinstance(terms, TermDict):
                    return terms.find(term)
                at = bisect.bisect_left(terms, term)
                return at if at < len(terms) and terms[at] == term else -1
            with self._lock:
                if self._index is None:
                    self._index = {t: i for i, t in enumerate(self.terms)}
                index = self._index
        return index.get(term, -1)

    def stored_terms(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[Any]]:
        """The dictionary as a sidecar stores it: (NUL-joined UTF-8 blob, each term's start)."""
        terms = self._terms
        if isinstance(terms, TermDict):
            return terms.arrays()
        return TermDict.pack(terms)

    def slice(self, term_id: int) -> tuple[int, int]:
        return int(self.offsets[term_id]), int(self.offsets[term_id + 1])

    def with_prefix(self, prefix: str) -> list[str]:
        """The segment's terms starting with ``prefix`` (the dictionary is sorted)."""
        terms = self._terms
        if isinstance(terms, TermDict):
            return terms.decode(*terms.prefix_range(prefix))
        lo = bisect.bisect_left(terms, prefix)
        hi = bisect.bisect_left(terms, prefix + "\U0010ffff")
        return terms[lo:hi]

    def doc_terms(self, doc_count: int) -> I64:
        """The term number of each document (-1: none), for fields of one value per document (id, group).

        Computed from the postings on first use (one scatter, ~0.1 ms per 10,000 documents), so
        the id of a handful of documents costs a few term decodes, not a column of every id.
        """
        found = self._doc_terms
        if found is None:
            offsets = np.asarray(self.offsets, dtype=np.int64)
            found = np.full(doc_count, -1, dtype=np.int64)
            found[np.asarray(self.docs, dtype=np.int64)] = np.repeat(
                np.arange(len(offsets) - 1, dtype=np.int64), offsets[1:] - offsets[:-1]
            )
            self._doc_terms = found
        return found


class LazyFields(MutableMapping[str, FieldPostings]):
    """A loaded segment's fields, each made (array views, checks) when first looked up.

    A query reads a few of a segment's ten fields: the others' array views are never made.
    :func:`load` has checked every field's sizes against the manifest and read the entries
    that tie its arrays together, so a damaged field is found there (the segment is rebuilt);
    making a field checks them again and raises ``ValueError`` if they do not fit.
    """

    def __init__(self, makers: dict[str, Callable[[], FieldPostings]]) -> None:
        self._makers = makers
        self._made: dict[str, FieldPostings] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> FieldPostings:
        found = self._made.get(name)
        if found is None:
            made = self._makers[name]()
            with self._lock:  # two threads may make it: one copy is kept
                found = self._made.setdefault(name, made)
        return found

    def __setitem__(self, name: str, fp: FieldPostings) -> None:
        with self._lock:
            self._made[name] = fp
            self._makers.setdefault(name, lambda: fp)

    def __delitem__(self, name: str) -> None:
        with self._lock:
            del self._makers[name]
            self._made.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


class SegmentColumns:
    """All arrays of one segment (immutable; shared by every thread and snapshot)."""

    def __init__(
        self,
        doc_count: int,
        fields: MutableMapping[str, FieldPostings],
        lengths: dict[str, U32],
        dates: npt.NDArray[np.int32],
    ) -> None:
        self.doc_count = doc_count
        self.fields = fields
        self.lengths = lengths
        self.dates = dates


# --- building from a Whoosh segment ----------------------------------------------------------

_PROTOCOL_2 = b"\x80\x02"


def _decode_one(value: bytes) -> list[int]:
    """The position deltas of one value (a 4-byte count, then pickled deltas, maybe without STOP)."""
    if not value.endswith(b"."):
        value += b"."
    return list(pickle.loads(value[4:]))


def build(reader: Any) -> SegmentColumns:
    """Every array of one Whoosh segment reader, rebuilt from its stored articles.

    Index format 9 has no Whoosh postings for the text fields, so the arrays are made again
    by analysing each stored document as the writer did (:func:`.reanalyse.rebuild`).
    """
    from searchlib._whoosh.reanalyse import rebuild  # it builds on this module

    return rebuild(reader)


# --- building from the writer's own postings, and by concatenation ---------------------------


class _FieldBuilder:
    def __init__(self, text: bool) -> None:
        self.text = text
        self.terms: list[str] = []
        self.sizes = array("q")
        self.docs = array("I")
        self.weights = array("f")  # as Whoosh stores them
        self.counts = array("I")
        self.positions = array("I")


class ColumnsBuilder:
    """A new segment's arrays, collected from the posting lists its writer streams out.

    The writer (``postings.MemoryPostings.write``) hands over every (field, term) list in
    the order it writes them -- fields and terms sorted, documents ascending -- with the
    positions it kept as integers, so nothing is decoded; :meth:`finish` turns the flat
    buffers into the same arrays :func:`build` would read back from the written segment
    (``tests/test_sidecar_build.py`` checks they are equal). Memory: ~16 bytes a posting
    plus 4 a position, against ~100 a posting for a build from the segment's postings.
    """

    def __init__(self) -> None:
        self._fields = {name: _FieldBuilder(name in TEXT_FIELDS) for name in (*TEXT_FIELDS, *KEYWORD_FIELDS)}
        self.dates = array("q")

    def add_term(
        self,
        fieldname: str,
        tbytes: bytes,
        ids: array[int],
        weights: array[float],
        values: list[bytes],
        counts: array[int],
        positions: array[int],
    ) -> None:
        fb = self._fields.get(fieldname)
        if fb is None:
            return
        fb.terms.append(tbytes.decode("utf-8"))
        fb.sizes.append(len(ids))
        fb.docs.extend(ids)
        if not fb.text:
            return
        fb.weights.extend(array("f", weights))
        if counts:
            fb.counts.extend(counts)
            fb.positions.extend(positions)
            return
        for value in values:  # a value Whoosh's own analyser encoded (not a plain string)
            deltas = _decode_one(value) if value else []
            fb.counts.append(len(deltas))
            fb.positions.extend(itertools.accumulate(deltas))

    def add_date(self, docnum: int, key: int) -> None:
        """The date key of document ``docnum`` (documents are numbered from 0 in adding order)."""
        if docnum >= len(self.dates):
            self.dates.extend(itertools.repeat(0, docnum + 1 - len(self.dates)))
        self.dates[docnum] = key

    def finish(self, doc_count: int) -> SegmentColumns:
        fields: dict[str, FieldPostings] = {}
        lengths: dict[str, U32] = {}
        for name, fb in self._fields.items():
            offsets = np.zeros(len(fb.sizes) + 1, dtype=np.int64)
            np.cumsum(np.frombuffer(fb.sizes, dtype=np.int64), out=offsets[1:])
            docs = np.frombuffer(fb.docs, dtype=np.uint32)  # no copy: the buffers are done growing
            if not fb.text:
                fields[name] = FieldPostings(fb.terms, offsets, docs)
                continue
            # as Whoosh stores weights (float32) and build() reads them back
            freqs = np.frombuffer(fb.weights, dtype=np.float32).astype(np.uint32)
            pos_offsets = np.zeros(len(fb.counts) + 1, dtype=np.int64)
            np.cumsum(np.frombuffer(fb.counts, dtype=np.uint32), out=pos_offsets[1:])
            positions = np.frombuffer(fb.positions, dtype=np.uint32)
            fields[name] = FieldPostings(fb.terms, offsets, docs, freqs, pos_offsets, positions)
            lengths[name] = np.bincount(docs, weights=freqs, minlength=doc_count).astype(np.uint32)[:doc_count]
        dates = np.zeros(doc_count, dtype=np.int32)
        known = min(doc_count, len(self.dates))
        dates[:known] = np.frombuffer(self.dates, dtype=np.int64)[:known]
        return SegmentColumns(doc_count, fields, lengths, dates)


def gather(starts: I64, ends: I64) -> I64:
    """The concatenated index ranges ``[starts[i], ends[i])`` as one array (no Python loop).

    Used to pick the positions of many postings at once (phrase matching, merges).
    """
    counts = ends - starts
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    shift: I64 = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    result: I64 = np.arange(total, dtype=np.int64) + shift
    return result


Part = tuple[SegmentColumns, "npt.NDArray[np.bool_] | None"]
"""A source segment's arrays and its live-document mask (None: every document kept)."""


def _concat_field(name: str, parts: list[Part], newnums: list[I64]) -> FieldPostings:
    fps = [cols.fields[name] for cols, _ in parts]
    union = sorted(set().union(*(fp.terms for fp in fps)))
    index = {t: i for i, t in enumerate(union)}
    text = name in TEXT_FIELDS
    tids, docs, freqs, starts, ends, pos_parts = [], [], [], [], [], []
    pos_base = 0
    for fp, (_, live), newnum in zip(fps, parts, newnums, strict=True):
        tmap = np.fromiter((index[t] for t in fp.terms), dtype=np.int64, count=len(fp.terms))
        offsets_: I64 = np.asarray(fp.offsets, dtype=np.int64)
        sizes: I64 = offsets_[1:] - offsets_[:-1]
        part_tids = np.repeat(tmap, sizes)
        part_docs = np.asarray(fp.docs, dtype=np.int64)
        keep = live[part_docs] if live is not None else slice(None)
        tids.append(part_tids[keep])
        docs.append(newnum[part_docs[keep]])
        if text:
            assert fp.freqs is not None and fp.pos_offsets is not None and fp.positions is not None
            freqs.append(np.asarray(fp.freqs, dtype=np.uint32)[keep])
            po = np.asarray(fp.pos_offsets, dtype=np.int64)
            starts.append(po[:-1][keep] + pos_base)
            ends.append(po[1:][keep] + pos_base)
            pos_parts.append(np.asarray(fp.positions, dtype=np.uint32))
            pos_base += len(fp.positions)
    all_tids = np.concatenate(tids) if tids else np.zeros(0, dtype=np.int64)
    order = np.argsort(all_tids, kind="stable")  # parts are in document order: each term's docs stay ascending
    per_term = np.bincount(all_tids, minlength=len(union))
    present = per_term > 0  # a term whose every posting was deleted leaves the dictionary, as in Whoosh's merge
    terms = [t for t, keep_term in zip(union, present.tolist(), strict=True) if keep_term]
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(per_term[present], out=offsets[1:])
    out_docs = np.concatenate(docs)[order].astype(np.uint32) if docs else np.zeros(0, dtype=np.uint32)
    if not text:
        return FieldPostings(terms, offsets, out_docs)
    out_freqs = np.concatenate(freqs)[order]
    s, e = np.concatenate(starts)[order], np.concatenate(ends)[order]
    pos_offsets = np.zeros(len(s) + 1, dtype=np.int64)
    np.cumsum(e - s, out=pos_offsets[1:])
    positions = np.concatenate(pos_parts)[gather(s, e)]
    return FieldPostings(terms, offsets, out_docs, out_freqs, pos_offsets, positions)


def concat(parts: list[Part]) -> SegmentColumns:
    """The arrays of a segment made of ``parts``' live documents, in order, renumbered from 0.

    What Whoosh's merge does to postings (``SegmentWriter.add_reader``: a segment's live
    documents follow the documents already in the writer, deleted ones are dropped), done
    on the arrays: no posting is decoded.
    """
    newnums: list[I64] = []
    base = 0
    for cols, live in parts:
        if live is None:
            newnums.append(np.arange(base, base + cols.doc_count, dtype=np.int64))
            base += cols.doc_count
        else:
            newnums.append(base + np.cumsum(live, dtype=np.int64) - 1)
            base += int(live.sum())

    def kept(array_: npt.NDArray[Any], live: npt.NDArray[np.bool_] | None) -> npt.NDArray[Any]:
        return np.asarray(array_) if live is None else np.asarray(array_)[live]

    fields = {name: _concat_field(name, parts, newnums) for name in (*TEXT_FIELDS, *KEYWORD_FIELDS)}
    lengths = {
        name: np.concatenate([kept(cols.lengths[name], live) for cols, live in parts]).astype(np.uint32)
        for name in TEXT_FIELDS
    }
    dates = np.concatenate([kept(cols.dates, live) for cols, live in parts]).astype(np.int32)
    return SegmentColumns(base, fields, lengths, dates)


# --- the sidecar on disk ---------------------------------------------------------------------


def _arrays(cols: SegmentColumns) -> Iterator[tuple[str, npt.NDArray[Any]]]:
    yield "dates", cols.dates
    for name, lengths in cols.lengths.items():
        yield f"{name}.len", lengths
    for name, fp in cols.fields.items():
        yield f"{name}.off", fp.offsets
        yield f"{name}.docs", fp.docs
        if fp.freqs is not None and fp.pos_offsets is not None and fp.positions is not None:
            yield f"{name}.freqs", fp.freqs
            yield f"{name}.posoff", fp.pos_offsets
            yield f"{name}.pos", fp.positions


ALIGN = 64
"""Each array starts at a multiple of this many bytes in the data file."""

_UNSIGNED = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.uint32))
_READABLE_DTYPES = frozenset([*_UNSIGNED, np.dtype(np.int32), np.dtype(np.int64)])


def _narrow(name: str, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``values`` in the narrowest unsigned dtype that holds them (u8, u16 or u32), for the file.

    Document numbers, frequencies, positions, position offsets and field lengths are
    non-negative; most segments' positions and document numbers fit 16 bits and frequencies
    8, which halves the sidecar. A segment with an article longer than 65,535 tokens keeps
    u32 positions. Term offsets (one per term) and dates stay as they are. Readers get the
    stored dtype: code that computes with these arrays converts them to int64 first.
    """
    if name == "dates" or name.endswith(".off") or values.dtype.kind not in "ui":
        return values
    top = int(values.max()) if len(values) else 0
    for dtype in _UNSIGNED:
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype, copy=False)
    return values


def _write_durably(target: Path, tag: str, write: Any, durable: bool) -> None:
    """Write ``target`` under a temporary name, fsync it (when ``durable``), then rename it."""
    tmp = target.with_name(target.name + tag)
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        if durable:
            os.fsync(f.fileno())
    os.replace(tmp, target)


def save(folder: Path, prefix: str, cols: SegmentColumns, *, durable: bool = False) -> None:
    """Write the sidecar: one data file of every array, then the manifest that describes it.

    Two files (``<prefix>.cols.bin`` and ``<prefix>.cols.json``), each written under a
    temporary name and renamed, the manifest last: a reader trusts the data only through the
    manifest, which records each array's dtype, place and length and the file's size
    (checked by :func:`load`), so a crash mid-write leaves nothing a reader uses. With
    ``durable`` both files are fsynced before this returns; their names are made durable by
    the folder fsync that precedes the rename of the commit listing the segment
    (``store.DurableStorage.rename_file``). One data file rather than one per array: each
    fsync costs milliseconds, and every commit writes a sidecar.
    """
    tag = f".{os.getpid()}.{threading.get_ident()}.tmp"
    layout: dict[str, list[Any]] = {}
    chunks: list[npt.NDArray[Any]] = []
    at = 0
    term_counts: dict[str, int] = {}
    arrays = list(_arrays(cols))
    for name, fp in cols.fields.items():
        blob, starts = fp.stored_terms()
        term_counts[name] = len(starts) - 1
        arrays += [(f"{name}.terms", blob), (f"{name}.tstart", starts)]
    for name, values in arrays:
        data = np.ascontiguousarray(values if name.endswith(".terms") else _narrow(name, values))
        layout[name] = [data.dtype.str, at, int(data.shape[0])]
        chunks.append(data)
        at += data.nbytes
        at += -at % ALIGN

    def write_data(f: Any) -> None:
        for data in chunks:
            f.write(data.tobytes())
            f.write(bytes(-f.tell() % ALIGN))

    _write_durably(folder / f"{prefix}.cols.bin", tag, write_data, durable)
    manifest = {
        "version": SIDECAR_VERSION,
        "doc_count": cols.doc_count,
        "size": at,
        "arrays": layout,
        "term_counts": term_counts,
    }
    body = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    _write_durably(folder / f"{prefix}.cols.json", tag, lambda f: f.write(body), durable)


def _field_consistent(fp: FieldPostings) -> bool:
    """The field's offsets fit the arrays they index."""
    if len(fp.offsets) != fp.term_count + 1 or int(fp.offsets[-1]) != len(fp.docs):
        return False
    positions, pos_offsets = fp.positions, fp.pos_offsets
    return (
        positions is None
        or pos_offsets is None
        or (len(pos_offsets) == len(fp.docs) + 1 and int(pos_offsets[-1]) == len(positions))
    )


def load(folder: Path, prefix: str) -> SegmentColumns | None:
    """The sidecar's arrays, memory-mapped read-only, or None when there is none (or it is damaged).

    Damaged means: the manifest does not describe the data file (sizes, places, dtypes), or an
    entry that ties a field's arrays together is wrong -- the first and last term offset, the
    first and last position offset, the term dictionary's first and last start (a page or two
    a field; a version 4 dictionary is scanned). A None makes :func:`segment_columns` rebuild
    the segment from its stored articles. Damage inside an array (an offset in the middle,
    a document number) is left to :func:`damage`, which ``searchlib check`` runs.
    """
    try:
        manifest = json.loads((folder / f"{prefix}.cols.json").read_text("utf-8"))
        if manifest.get("version") not in READABLE_VERSIONS:
            return None
        data_path = folder / f"{prefix}.cols.bin"
        size = int(manifest["size"])
        if data_path.stat().st_size != size:
            return None
        # a plain ndarray over the map (slicing a np.memmap builds a memmap object each time,
        # and making one costs ~4x an mmap): the map lives as long as any view of it
        raw = np.zeros(0, np.uint8)
        if size:
            with open(data_path, "rb") as f:
                raw = np.frombuffer(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), dtype=np.uint8)
        layout = manifest["arrays"]

        def arr(name: str) -> Any:
            dtype, at, end = place(name)
            return raw[at:end].view(dtype)

        def place(name: str) -> tuple[np.dtype[Any], int, int]:
            dtype_str, at, length = layout[name]
            dtype = np.dtype(dtype_str)
            if dtype not in _READABLE_DTYPES:
                raise ValueError(f"unexpected dtype {dtype_str}")
            end = at + length * dtype.itemsize
            if at % ALIGN or end > size or length < 0:
                raise ValueError(f"array {name} outside the data file")
            return dtype, at, end

        def length(name: str) -> int:
            place(name)
            return int(layout[name][2])

        count = int(manifest["doc_count"])
        version = manifest["version"]
        listed: dict[str, list[str]] = {} if version >= 5 else dict(manifest["terms"])
        term_counts = {name: len(terms) for name, terms in listed.items()}
        if version >= 4:
            term_counts.update((name, int(n)) for name, n in manifest["term_counts"].items())
        view = raw.data  # a memoryview: slicing it makes no array

        def item(name: str, i: int) -> int:
            """Entry ``i`` of array ``name`` (negative: from the end): one page of the file read.

            Bytes to int, not a numpy view (a few times faster; ~40 of these a segment); the
            array's place and dtype were checked by ``length`` first.
            """
            dtype_str, at, count_ = layout[name]
            size = int(dtype_str[2:])
            i = i if i >= 0 else count_ + i
            if not 0 <= i < count_:
                raise IndexError(f"array {name} is empty")
            at += i * size
            data = view[at : at + size]
            signed = dtype_str[1] == "i"
            return (
                int.from_bytes(data, "big", signed=signed)
                if dtype_str[0] == ">"
                else int.from_bytes(data, "little", signed=signed)
            )

        # each field's sizes against the manifest, then the entries that tie its arrays together
        # (a page or two a field): a damaged sidecar is not trusted, so the segment is rebuilt;
        # the array views are made lazily (LazyFields)
        scanned: dict[str, TermDict] = {}
        for name, term_count in term_counts.items():
            docs = length(f"{name}.docs")
            if length(f"{name}.off") != term_count + 1 or item(f"{name}.off", 0) != 0:
                return None
            if item(f"{name}.off", -1) != docs:
                return None
            if name in TEXT_FIELDS:
                if length(f"{name}.freqs") != docs or length(f"{name}.posoff") != docs + 1:
                    return None
                if item(f"{name}.posoff", 0) != 0 or item(f"{name}.posoff", -1) != length(f"{name}.pos"):
                    return None
            if name in listed:
                continue
            blob = length(f"{name}.terms")
            if version >= 5:
                if length(f"{name}.tstart") != term_count + 1 or item(f"{name}.tstart", 0) != 0:
                    return None
                if item(f"{name}.tstart", -1) != (blob + 1 if term_count else 0) or (blob and not term_count):
                    return None
            else:  # version 4 has no starts: found by one scan of the blob
                scanned[name] = TermDict.scanned(arr(f"{name}.terms"), term_count)
        if set(TEXT_FIELDS) - term_counts.keys():
            return None

        def maker(name: str) -> Callable[[], FieldPostings]:
            def make() -> FieldPostings:
                terms: list[str] | TermDict
                if name in listed:
                    terms = listed[name]
                elif version >= 5:
                    terms = TermDict.stored(arr(f"{name}.terms"), arr(f"{name}.tstart"), term_counts[name])
                else:
                    terms = scanned[name]
                if name in TEXT_FIELDS:
                    fp = FieldPostings(
                        terms, arr(f"{name}.off"), arr(f"{name}.docs"), arr(f"{name}.freqs"), arr(f"{name}.posoff"),
                        arr(f"{name}.pos"),
                    )  # fmt: skip
                else:
                    fp = FieldPostings(terms, arr(f"{name}.off"), arr(f"{name}.docs"))
                if not _field_consistent(fp):
                    raise ValueError(f"damaged sidecar {data_path}: the {name} arrays do not fit together")
                return fp

            return make

        fields = LazyFields({name: maker(name) for name in term_counts})
        lengths = {name: arr(f"{name}.len") for name in TEXT_FIELDS}
        dates = arr("dates")
        if len(dates) != count or any(len(v) != count for v in lengths.values()):
            return None
        return SegmentColumns(count, fields, lengths, dates)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def damage(cols: SegmentColumns) -> str | None:
    """What is wrong with a loaded segment's arrays, or None: every field made and read in full.

    For ``searchlib check``: :func:`load` reads only the entries that tie the arrays together
    (the first search must stay cheap), this reads every entry of every field -- offsets that
    never decrease, document numbers in range and ascending within each term, position offsets
    that never decrease, a sorted term dictionary. Seconds for a large segment.
    """
    count = cols.doc_count
    for name in list(cols.fields):
        try:
            fp = cols.fields[name]
            if not _field_consistent(fp):
                return f"the {name} arrays do not fit together"
            offsets = np.asarray(fp.offsets, dtype=np.int64)
            if len(offsets) and (offsets[0] != 0 or bool((np.diff(offsets) < 0).any())):
                return f"the {name} term offsets are out of order"
            docs = np.asarray(fp.docs, dtype=np.int64)
            if len(docs) and int(docs.max()) >= count:
                return f"the {name} postings name documents the segment does not have"
            step = np.diff(docs)
            starts_term = np.zeros(len(docs), dtype=bool)  # a term's first posting may go back
            starts_term[offsets[1:-1][offsets[1:-1] < len(docs)]] = True
            if bool((step <= 0)[~starts_term[1:]].any()):
                return f"the {name} postings of a term are not in document order"
            if fp.pos_offsets is not None:
                pos_offsets = np.asarray(fp.pos_offsets, dtype=np.int64)
                if pos_offsets[0] != 0 or bool((np.diff(pos_offsets) < 0).any()):
                    return f"the {name} position offsets are out of order"
            terms = fp.terms
            if any(a >= b for a, b in itertools.pairwise(terms)):
                return f"the {name} term dictionary is not sorted"
        except (ValueError, IndexError, UnicodeDecodeError) as e:
            return f"the {name} arrays do not read: {e}"
    return None


def outdated(folder: Path, segment_ids: set[str]) -> list[str]:
    """The segments of ``segment_ids`` whose sidecar is readable but of an older version than this one writes."""
    found = []
    for segment_id in sorted(segment_ids):
        try:
            version = json.loads((folder / f"{segment_id}.cols.json").read_text("utf-8")).get("version")
        except (OSError, ValueError, AttributeError):
            continue  # none, or damaged: the first search rebuilds it
        if version in READABLE_VERSIONS and version != SIDECAR_VERSION:
            found.append(segment_id)
    return found


def rewrite(folder: Path, segment_id: str, *, durable: bool = True) -> bool:
    """Rewrite a segment's sidecar in the current version (same arrays); False when it does not load.

    Readers that mapped the old files keep reading them (each file is replaced by a rename);
    the caller holds the index's write lock, so no writer removes the segment meanwhile.
    """
    cols = load(folder, segment_id)
    if cols is None:
        return False
    try:
        save(folder, segment_id, cols, durable=durable)  # (every array is read before anything is written)
    except ValueError:  # a damaged field: left as it is
        return False
    return True


def segment_columns(reader: Any, folder: Path | None, cache: dict[str, SegmentColumns]) -> SegmentColumns:
    """The arrays of segment ``reader``: from ``cache``, the sidecar, or built (and saved).

    ``cache`` belongs to one open index and is keyed by segment id (segments never change).
    Building (from the stored articles) happens only when a sidecar was lost or damaged: the
    writer saves every segment's, and keeps an in-memory index's in ``cache``.
    """
    segment_id = reader._segment.segment_id()
    count = int(reader.doc_count_all())
    found = cache.get(segment_id)
    if found is not None and found.doc_count == count:
        return found
    cols = load(folder, segment_id) if folder is not None else None
    if cols is None or cols.doc_count != count:
        cols = build(reader)
        if folder is not None:
            with contextlib.suppress(OSError):
                save(folder, segment_id, cols)
    cache[segment_id] = cols
    return cols


def live_mask(reader: Any) -> npt.NDArray[np.bool_] | None:
    """False for deleted documents of a segment; None when it has no deletions."""
    if not reader.has_deletions():
        return None
    mask = np.ones(int(reader.doc_count_all()), dtype=bool)
    deleted = np.fromiter(reader._perdoc.deleted_docs(), dtype=np.int64)
    mask[deleted[deleted < len(mask)]] = False
    return mask
