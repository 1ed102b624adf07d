"""Columnar postings of one Whoosh segment in memory: numpy arrays, and how a writer makes them.

Whoosh keeps its role as the container (segments, table of contents, stored fields,
deletions); this module holds one immutable segment as arrays the engine evaluates with
numpy: per text field a term dictionary, term offsets, document numbers, frequencies, and
positions kept apart, per keyword field a term dictionary and document numbers, and per
document its date key and field lengths (exact token counts). Arrays loaded from disk keep
the narrowest unsigned dtype their segment's values fit (u8, u16 or u32, see
:mod:`.sidecar`); code computing with them converts to int64.

The writer never reads its segment back to get them: a new segment's arrays are collected
from the postings it writes (:class:`ColumnsBuilder`), a merged segment's are its sources'
concatenated with deletions applied (:func:`concat`). Saving, loading, checking and
rebuilding them is :mod:`.sidecar`'s (the on-disk format); this module knows no files.
"""

from __future__ import annotations

import bisect
import itertools
import pickle
import threading
from array import array
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib._whoosh.facettable import FacetsBuilder, FacetTable, merged
from searchlib._whoosh.ranges import gather
from searchlib._whoosh.terms import TermDict

TEXT_FIELDS = ("body", "title", "entity_text")
"""Fields with frequencies and positions."""
KEYWORD_FIELDS = ("entity", "person", "org", "place", "source", "id", "group", "dupkey")
"""Fields of exact values (document numbers only). Since index format 10 these are their only
postings (Whoosh writes none): ``dupkey`` holds each article's near-duplicate candidate keys."""

DICT_AFTER = 64
"""Term lookups of one field of one segment answered by bisection before its dict is built."""

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]


POS_BLOCK = 32
"""Postings per sampled position offset: where posting ``j``'s positions start is the sampled
offset of its block (``pos_blocks[j // POS_BLOCK]``) plus the frequencies of the block's
postings before it (the phrase kernel: or the next block's offset less those from ``j`` on) --
a few one-byte reads, instead of a 4-byte offset per posting on disk (an eighth of it here)."""


class FieldPostings:
    """One field's postings in one segment: term dictionary, offsets and flat arrays.

    A text field's positions are ``positions`` in posting order, ``freqs[j]`` of them for
    posting ``j``; where each posting's start is derived from the frequencies and one offset
    sampled every ``POS_BLOCK`` postings (``pos_blocks``: :meth:`pos_range`, :meth:`pos_starts`,
    and the phrase kernel). Sidecars up to version 5 stored every posting's offset
    (``pos_offsets``): given, the samples are taken from it on first use.
    """

    def __init__(
        self,
        terms: list[str] | TermDict,
        offsets: I64,
        docs: U32,
        freqs: U32 | None = None,
        pos_offsets: I64 | None = None,
        positions: U32 | None = None,
        *,
        pos_blocks: npt.NDArray[Any] | None = None,
    ) -> None:
        self._terms = terms  # sorted; a TermDict is decoded into the list only when all are wanted
        self.offsets = offsets  # len(terms) + 1
        self.docs = docs
        self.freqs = freqs
        self.pos_offsets = pos_offsets  # len(docs) + 1, or None (sidecar version 6: pos_blocks only)
        self._pos_blocks = pos_blocks  # pos_offsets[::POS_BLOCK]
        self.positions = positions
        self._index: dict[str, int] | None = None
        self._lookups = 0  # before the dict is built (a racy count is harmless: it only picks when)
        self._lock = threading.Lock()
        self._doc_terms: I64 | None = None

    @property
    def has_positions(self) -> bool:
        """Whether this is a text field's postings (frequencies and positions)."""
        return (
            self.freqs is not None
            and self.positions is not None
            and (self._pos_blocks is not None or self.pos_offsets is not None)
        )

    @property
    def pos_blocks(self) -> npt.NDArray[Any]:
        """Where the positions of postings 0, ``POS_BLOCK``, 2 * ``POS_BLOCK``... start.

        ``len(docs) // POS_BLOCK + 1`` values, stored (version 6) or taken from ``pos_offsets``.
        """
        blocks = self._pos_blocks
        if blocks is None:  # from every posting's offset (a race only copies twice: same array)
            assert self.pos_offsets is not None
            blocks = self._pos_blocks = np.ascontiguousarray(self.pos_offsets[::POS_BLOCK])
        return blocks

    def pos_start(self, j: int) -> int:
        """Where posting ``j``'s positions start (``j`` may be ``len(docs)``: the end of the last)."""
        assert self.freqs is not None
        block = j // POS_BLOCK
        return int(self.pos_blocks[block]) + int(np.sum(self.freqs[block * POS_BLOCK : j], dtype=np.int64))

    def pos_range(self, a: int, b: int) -> I64:
        """Where the positions of postings ``a`` .. ``b`` start (``b - a + 1`` values: the last is ``b - 1``'s end)."""
        assert self.freqs is not None
        out = np.empty(b - a + 1, dtype=np.int64)
        out[0] = self.pos_start(a)
        if b > a:
            np.add.accumulate(self.freqs[a:b], dtype=np.int64, out=out[1:])
            out[1:] += out[0]
        return out

    def pos_starts(self, pidx: I64) -> I64:
        """Where the positions of postings ``pidx`` (ascending) start.

        Each is its block's sampled offset plus the frequencies before it in the block: one
        running sum over the span ``pidx`` covers when that is short, else the frequencies
        before each (under ``POS_BLOCK`` apiece) gathered and summed at once.
        """
        assert self.freqs is not None
        if not len(pidx):
            return np.zeros(0, dtype=np.int64)
        freqs = self.freqs
        block_start = pidx - pidx % POS_BLOCK
        base = np.asarray(self.pos_blocks[pidx // POS_BLOCK], dtype=np.int64)
        first = int(block_start[0])
        last = int(pidx[-1])
        if last - first <= 2 * POS_BLOCK * len(pidx):
            run = np.zeros(last - first + 1, dtype=np.int64)
            np.add.accumulate(freqs[first:last], dtype=np.int64, out=run[1:])
            found: I64 = base + run[pidx - first] - run[block_start - first]
            return found
        before = np.zeros(int((pidx - block_start).sum()) + 1, dtype=np.int64)
        np.add.accumulate(freqs[gather(block_start, pidx)], dtype=np.int64, out=before[1:])
        ends = np.cumsum(pidx - block_start)
        found = base + before[ends] - before[ends - (pidx - block_start)]
        return found

    @property
    def terms(self) -> list[str]:
        """The term dictionary, sorted (every term decoded: for merges and whole columns, not lookups)."""
        terms = self._terms
        if isinstance(terms, TermDict):
            terms = self._terms = terms.decode()  # a race only decodes twice: same list
        return terms

    def decoded_terms(self) -> list[str]:
        """Every term decoded, without keeping them (:attr:`terms` keeps them: for merges)."""
        terms = self._terms
        return terms.decode() if isinstance(terms, TermDict) else terms

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

    def term_range(self, term: str) -> tuple[int, int]:
        """Where ``term``'s postings lie, ``(lo, hi)``; ``(0, 0)`` when the segment lacks it."""
        tid = self.term_id(term)
        return (0, 0) if tid < 0 else self.slice(tid)

    def find_range(self, term: str) -> tuple[int, int]:
        """:meth:`term_range` by bisection alone: never builds the dict of every term.

        For a writer's lookups in fields of many terms (``id``, ``dupkey``), each asked once
        or twice: a dict of a million ids would cost more than all its lookups.
        """
        terms = self._terms
        if isinstance(terms, TermDict):
            tid = terms.find(term)
        else:
            at = bisect.bisect_left(terms, term)
            tid = at if at < len(terms) and terms[at] == term else -1
        return (0, 0) if tid < 0 else self.slice(tid)

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
    :func:`.sidecar.load` has checked every field's sizes against the manifest and read the entries
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
        facets: FacetTable | None = None,
    ) -> None:
        self.doc_count = doc_count
        self.fields = fields
        self.lengths = lengths
        self.dates = dates
        self.facets = facets  # None: a sidecar older than version 8 (see sidecar.segment_columns)
        self.mapped: Any = None  # the memory map of the sidecar's data file the arrays view (sidecar.load)


# --- building from the writer's own postings, and by concatenation ---------------------------

_PROTOCOL_2 = b"\x80\x02"


def _decode_one(value: bytes) -> list[int]:
    """The position deltas of one value (a 4-byte count, then pickled deltas, maybe without STOP)."""
    if not value.endswith(b"."):
        value += b"."
    return list(pickle.loads(value[4:]))


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
    buffers into the same arrays :func:`.sidecar.build` would read back from the written segment
    (``tests/test_sidecar_build.py`` checks they are equal). Memory: ~16 bytes a posting
    plus 4 a position, against ~100 a posting for a build from the segment's postings.
    """

    def __init__(self) -> None:
        self._fields = {name: _FieldBuilder(name in TEXT_FIELDS) for name in (*TEXT_FIELDS, *KEYWORD_FIELDS)}
        self.dates = array("q")
        self.facets = FacetsBuilder()

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

    def add_facets(self, docnum: int, value: bytes | str) -> None:
        """Document ``docnum``'s source and entity names, as ``schema.to_document`` encodes them."""
        self.facets.add(docnum, value)

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
        return SegmentColumns(doc_count, fields, lengths, dates, self.facets.finish(doc_count))


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
            assert fp.freqs is not None and fp.positions is not None
            freqs.append(np.asarray(fp.freqs, dtype=np.uint32)[keep])
            po = fp.pos_range(0, len(fp.docs))
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


def renumbered(parts: list[Part]) -> tuple[list[I64], int]:
    """(each part's new document numbers, the live total): live documents follow the parts before."""
    newnums: list[I64] = []
    base = 0
    for cols, live in parts:
        if live is None:
            newnums.append(np.arange(base, base + cols.doc_count, dtype=np.int64))
            base += cols.doc_count
        else:
            newnums.append(base + np.cumsum(live, dtype=np.int64) - 1)
            base += int(live.sum())
    return newnums, base


def concat(parts: list[Part]) -> SegmentColumns:
    """The arrays of a segment made of ``parts``' live documents, in order, renumbered from 0.

    What Whoosh's merge does to postings (``SegmentWriter.add_reader``: a segment's live
    documents follow the documents already in the writer, deleted ones are dropped), done
    on the arrays: no posting is decoded.
    """
    newnums, base = renumbered(parts)

    def kept(array_: npt.NDArray[Any], live: npt.NDArray[np.bool_] | None) -> npt.NDArray[Any]:
        return np.asarray(array_) if live is None else np.asarray(array_)[live]

    fields = {name: _concat_field(name, parts, newnums) for name in (*TEXT_FIELDS, *KEYWORD_FIELDS)}
    lengths = {
        name: np.concatenate([kept(cols.lengths[name], live) for cols, live in parts]).astype(np.uint32)
        for name in TEXT_FIELDS
    }
    dates = np.concatenate([kept(cols.dates, live) for cols, live in parts]).astype(np.int32)
    return SegmentColumns(base, fields, lengths, dates, merged(facet_parts(parts)))


def facet_parts(parts: list[Part]) -> list[tuple[FacetTable, npt.NDArray[np.bool_] | None]]:
    """``parts``' facet tables (every source segment has one once :func:`.sidecar.segment_columns` gave it)."""
    found = []
    for cols, live in parts:
        if cols.facets is None:
            raise ValueError("a segment to merge has no facet table")
        found.append((cols.facets, live))
    return found


def live_mask(reader: Any) -> npt.NDArray[np.bool_] | None:
    """False for deleted documents of a segment; None when it has no deletions."""
    if not reader.has_deletions():
        return None
    mask = np.ones(int(reader.doc_count_all()), dtype=bool)
    deleted = np.fromiter(reader._perdoc.deleted_docs(), dtype=np.int64)
    mask[deleted[deleted < len(mask)]] = False
    return mask
