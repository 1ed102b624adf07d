"""Postings grouped in memory and handed to Whoosh's codec a block at a time.

Whoosh's SegmentWriter puts every posting, as a tuple, into an external-sort pool (pickled
to temporary runs, heap-merged at commit) and then feeds the codec one posting per call:
about half of a build's time on news articles (cProfile, 2,000 articles). A writer adds its
documents in docnum order, so grouping postings by field and term keeps every posting list
sorted already; at flush, terms are sorted once and each block of postings is given to
Whoosh's own block writer. The files are byte-identical to Whoosh's (tests/test_postings.py).

Past ``limit`` postings the buffer is written to a temporary *run*: one pickled record per
term, in (field, term) order. The flush merges the runs and the buffer term by term, so
memory stays bounded at any batch size. Segments merged in (``add_reader``) go through
Whoosh's own pool, and everything buffered joins them there.

Fields indexed with positions (:meth:`MemoryPostings.add_positions`) keep them as flat
integer arrays, not as Whoosh's encoded values (a pickled bytes object per posting, ~10x
the memory): values are encoded a block at a time when the segment is written, and the
same stream of records feeds the segment's columnar arrays (``sink``, see
:class:`.columnar.ColumnsBuilder`), so the sidecar never re-reads what was just written.
"""

from __future__ import annotations

import heapq
import itertools
import pickle
import struct
import tempfile
import zlib
from array import array
from collections.abc import Iterable, Iterator
from typing import IO, Any, Protocol

from whoosh import formats
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3FieldWriter
from whoosh.filedb.filetables import _lengths as _ROW_LENGTHS
from whoosh.system import emptybytes, pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.util.numlists import delta_encode

SPILL_LIMIT = 4_000_000
"""Postings buffered before a run is written (10,000 news articles, 5 million postings: 325 MB peak RSS)."""

_Postings = tuple["array[int]", "array[float]", list[bytes], "array[int]", "array[int]"]
"""docnums ('I'), weights ('d'), encoded values (fields without positions), and for fields
with positions: position counts per posting ('I') and the positions, flat ('I')."""
_Record = tuple[str, bytes, "array[int]", "array[float]", list[bytes], "array[int]", "array[int]"]


class PostingsSink(Protocol):
    """What receives every posting list of a segment as it is written (the columnar builder)."""

    def add_term(
        self,
        fieldname: str,
        tbytes: bytes,
        ids: array[int],
        weights: array[float],
        values: list[bytes],
        counts: array[int],
        positions: array[int],
    ) -> None: ...


def _new_postings() -> _Postings:
    return (array("I"), array("d"), [], array("I"), array("I"))


class MemoryPostings:
    """One segment's postings by field and term, in the order documents were added."""

    def __init__(self, limit: int = SPILL_LIMIT) -> None:
        self.limit = limit
        self.count = 0
        self._terms: dict[str, dict[bytes, _Postings]] = {}
        self._docs: dict[str, dict[bytes, array[int]]] = {}  # fields whose lists are documents only
        self._lengths: dict[str, array[int]] = {}  # field -> field length by docnum (0: absent)
        self._runs: list[IO[bytes]] = []

    def add(self, fieldname: str, docnum: int, items: Iterable[tuple[bytes, int, float, bytes]], boost: float) -> int:
        """Buffer one document's postings for a field; returns the field's length (total frequency)."""
        if fieldname in self._docs:
            raise ValueError(f"field {fieldname!r}'s postings came through add_docs")
        terms = self._terms.get(fieldname)
        if terms is None:
            terms = self._terms[fieldname] = {}
        length = added = 0
        for tbytes, freq, weight, vbytes in items:
            length += freq
            postings = terms.get(tbytes)
            if postings is None:
                postings = terms[tbytes] = _new_postings()
            postings[0].append(docnum)
            postings[1].append(weight * boost)
            postings[2].append(vbytes or emptybytes)
            added += 1
        self.count += added
        self._set_length(fieldname, docnum, length)
        return length

    def add_positions(
        self, fieldname: str, docnum: int, items: Iterable[tuple[bytes, float, list[int]]], boost: float
    ) -> int:
        """Buffer one document's postings with positions (``(term, weight, positions)``); returns the length.

        A field's postings must all come through this method or all through :meth:`add`.
        """
        if fieldname in self._docs:
            raise ValueError(f"field {fieldname!r}'s postings came through add_docs")
        terms = self._terms.get(fieldname)
        if terms is None:
            terms = self._terms[fieldname] = {}
        length = added = 0
        for tbytes, weight, positions in items:
            length += len(positions)
            postings = terms.get(tbytes)
            if postings is None:
                postings = terms[tbytes] = _new_postings()
            postings[0].append(docnum)
            postings[1].append(weight * boost)
            postings[3].append(len(positions))
            postings[4].extend(positions)
            added += 1 + len(positions) // 4  # a position costs 4 bytes, a posting ~16: count in postings
        self.count += added
        self._set_length(fieldname, docnum, length)
        return length

    def add_docs(self, fieldname: str, docnum: int, terms: Iterable[bytes]) -> None:
        """Buffer one document's postings for a field whose lists are read for their documents alone.

        For the keyword fields of an index whose postings only the columns receive (index
        format 10, ``ColumnsBuilder.add_term`` keeps a keyword list's documents): one integer
        a posting instead of a weight, an encoded value and a field length besides, and no
        five containers per new term. ``terms`` must be distinct. The records handed out
        carry empty weights, values and positions; a field's postings must all come through
        this method or all through the others.
        """
        if fieldname in self._terms:
            raise ValueError(f"field {fieldname!r}'s postings came through add or add_positions")
        lists = self._docs.get(fieldname)
        if lists is None:
            lists = self._docs[fieldname] = {}
        added = 0
        for tbytes in terms:
            ids = lists.get(tbytes)
            if ids is None:
                lists[tbytes] = array("I", (docnum,))
            else:
                ids.append(docnum)
            added += 1
        self.count += added

    def _set_length(self, fieldname: str, docnum: int, length: int) -> None:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            lengths = self._lengths[fieldname] = array("I")
        if docnum >= len(lengths):
            lengths.extend(itertools.repeat(0, docnum + 1 - len(lengths)))
        lengths[docnum] = length

    @property
    def full(self) -> bool:
        return self.count >= self.limit

    def spill(self) -> None:
        """Write the buffered postings to a sorted temporary run and empty the buffer."""
        run = tempfile.TemporaryFile(prefix="searchlib-run-")  # noqa: SIM115 (kept open until the flush)
        try:
            for record in self._buffered():
                pickle.dump(record, run, pickle.HIGHEST_PROTOCOL)
            run.seek(0)
        except BaseException:
            run.close()
            raise
        self._runs.append(run)
        self._terms.clear()
        self._docs.clear()
        self.count = 0

    def _buffered(self) -> Iterator[_Record]:
        """The buffer's records in (field, term) order, each forgotten once handed out."""
        for fieldname in sorted((*self._terms, *self._docs)):
            if fieldname in self._docs:
                lists = self._docs[fieldname]
                for tbytes in sorted(lists):
                    yield fieldname, tbytes, lists.pop(tbytes), array("d"), [], array("I"), array("I")
                continue
            terms = self._terms[fieldname]
            for tbytes in sorted(terms):
                yield (fieldname, tbytes, *terms.pop(tbytes))  # freed while the segment is written

    @staticmethod
    def _replay(run: IO[bytes]) -> Iterator[_Record]:
        while True:
            try:
                yield pickle.load(run)
            except EOFError:
                return

    def _merged(self) -> Iterator[_Record]:
        """Every term's postings in (field, term) order, runs (older documents) first."""
        if not self._runs:
            yield from self._buffered()
            return
        sources = [self._replay(run) for run in self._runs] + [self._buffered()]
        merged = heapq.merge(*sources, key=lambda r: (r[0], r[1]))  # stable: earlier sources first
        for (fieldname, tbytes), group in itertools.groupby(merged, key=lambda r: (r[0], r[1])):
            first, *rest = group
            if not rest:
                yield first
                continue
            ids, weights, values = array("I", first[2]), array("d", first[3]), list(first[4])
            counts, positions = array("I", first[5]), array("I", first[6])
            for record in rest:
                ids.extend(record[2])
                weights.extend(record[3])
                values.extend(record[4])
                counts.extend(record[5])
                positions.extend(record[6])
            yield fieldname, tbytes, ids, weights, values, counts, positions

    def feed(self, sink: PostingsSink) -> None:
        """Give every posting list (runs and buffer) to ``sink`` alone, in (field, term) order."""
        for record in self._merged():
            sink.add_term(*record)
        self.close()

    def drain_into(
        self, pool: Any, schema: Any, sink: PostingsSink | None = None, sink_only: frozenset[str] = frozenset()
    ) -> None:
        """Move every posting (runs and buffer) into Whoosh's sorting pool (and give each list to ``sink``).

        Fields in ``sink_only`` go to ``sink`` alone (it must be given): Whoosh gets none of their postings.
        """
        add = pool.add
        for fieldname, tbytes, ids, weights, values, counts, positions in self._merged():
            if sink is not None:
                sink.add_term(fieldname, tbytes, ids, weights, values, counts, positions)
                if fieldname in sink_only:
                    continue
            if counts:
                values = _encode_values(schema[fieldname].format, counts, positions, 0)
            for docnum, weight, value in zip(ids, weights, values, strict=True):
                add((fieldname, tbytes, docnum, weight, value))
        self.close()

    def write(
        self,
        fieldwriter: W3FieldWriter,
        schema: Any,
        sink: PostingsSink | None = None,
        sink_only: frozenset[str] = frozenset(),
    ) -> None:
        """Write every posting list through ``fieldwriter`` exactly as ``FieldWriter.add_postings`` would.

        Fields without postings are skipped, as Whoosh's fieldmap names only fields with postings.
        Each posting list is also given to ``sink`` (the segment's columnar arrays); the lists of
        fields in ``sink_only`` go to ``sink`` alone (searchlib's text fields: their only postings
        are the sidecar's), so Whoosh's segment has no postings for them.
        """
        current = None
        stored = array("I")
        fmt: Any = None
        for fieldname, tbytes, ids, weights, values, counts, positions in self._merged():
            if sink is not None:
                sink.add_term(fieldname, tbytes, ids, weights, values, counts, positions)
                if fieldname in sink_only:
                    continue
            if fieldname != current:
                if current is not None:
                    fieldwriter.finish_field()
                fieldobj = schema[fieldname]
                stored = self._stored_lengths(fieldname, fieldobj.scorable)
                fieldwriter.start_field(fieldname, fieldobj)
                fmt = fieldobj.format
                current = fieldname
            if not counts and len(ids) <= fieldwriter._postwriter._blocklimit:
                _write_one_block_term(fieldwriter, tbytes, ids, weights, values, stored, fmt)
                continue
            fieldwriter.start_term(tbytes)
            _write_postings(fieldwriter._postwriter, ids, weights, values, stored, fmt, counts, positions)
            fieldwriter.finish_term()
        if current is not None:
            fieldwriter.finish_field()
        self.close()

    def close(self) -> None:
        """Forget everything buffered and delete the runs."""
        for run in self._runs:
            run.close()
        self._runs.clear()
        self._terms.clear()
        self._docs.clear()
        self._lengths.clear()
        self.count = 0

    def _stored_lengths(self, fieldname: str, scorable: bool) -> array[int]:
        """Field lengths as the segment's length column returns them: one lossy byte each, 0 if unscored."""
        if not scorable:
            return array("I")
        return array("I", (byte_to_length(length_to_byte(n)) if n else 0 for n in self._lengths[fieldname]))


_ONE_POSITION: dict[int, bytes] = {}  # position -> Positions.encode([position]), for most postings
_ONE_POSITION_MAX = 10_000


def _encode_values(fmt: Any, counts: array[int], positions: array[int], at: int) -> list[bytes]:
    """Whoosh's encoded values of postings with ``counts`` positions each, from ``positions[at:]``."""
    encode = fmt.encode
    cache = _ONE_POSITION if type(fmt) is formats.Positions else None
    values: list[bytes] = []
    for count in counts:
        if count == 1 and cache is not None:
            pos = positions[at]
            encoded = cache.get(pos)
            if encoded is None:
                encoded = encode([pos])
                if pos < _ONE_POSITION_MAX:
                    cache[pos] = encoded
        else:
            encoded = encode(positions[at : at + count].tolist())
        values.append(encoded)
        at += count
    return values


def _write_postings(
    writer: Any,
    ids: array[int],
    weights: array[float],
    values: list[bytes],
    lengths: array[int],
    fmt: Any = None,
    counts: array[int] | None = None,
    positions: array[int] | None = None,
) -> None:
    """Fill ``writer``'s block buffer a block at a time (what ``add_posting`` does one posting at a time).

    With ``counts`` (a list kept as flat positions) each block's values are encoded here.
    """
    step = writer._blocklimit
    size = len(lengths)
    at = 0  # positions consumed by earlier blocks
    for start in range(0, len(ids), step):
        if start:
            writer._write_block()  # add_posting writes a full block before buffering the next posting
        end = start + step
        block_ids = ids[start:end]
        block_weights = weights[start:end]
        block_lengths = [length for d in block_ids if d < size and (length := lengths[d])]
        writer._ids = block_ids
        writer._weights = array("f", block_weights)
        if counts:
            assert positions is not None
            block_counts = counts[start:end]
            writer._values = _encode_values(fmt, block_counts, positions, at)
            at += sum(block_counts)
        else:
            writer._values = [v for v in values[start:end] if v]
        writer._minlength = min(block_lengths) if block_lengths else None
        writer._maxlength = max(block_lengths) if block_lengths else 0
        writer._maxweight = max(0, max(block_weights))


_TERMINFO = struct.Struct("!BfIBBfII")  # W3TermInfo._struct


def _write_one_block_term(
    fieldwriter: W3FieldWriter,
    tbytes: bytes,
    ids: array[int],
    weights: array[float],
    values: list[bytes],
    lengths: array[int],
    fmt: Any,
) -> None:
    """One posting list of at most a block, without positions, written as Whoosh writes it, in one call.

    The bytes equal ``start_term``, ``add_posting`` for each posting and ``finish_term`` of
    Whoosh's W3 codec (its ``_write_block(last=True)``, ``W3TermInfo.add_block`` and
    ``to_bytes``; tests/test_postings.py compares the files): the keyword fields' terms are
    most of a segment's terms (an entity named once is a term with one posting), and Whoosh's
    per-term objects and calls cost more than the pickling and compressing they wrap.
    """
    postwriter = fieldwriter._postwriter
    postfile = postwriter._postfile
    size = len(lengths)
    block_lengths = [length for d in ids if d < size and (length := lengths[d])]
    minlength = min(block_lengths) if block_lengths else None
    maxlength = max(block_lengths) if block_lengths else 0
    stored_weights = array("f", weights)
    maxweight = max(0, max(weights))
    if all(w == 1.0 for w in stored_weights):
        mini_weights: Any = None
    elif all(w == stored_weights[0] for w in stored_weights):
        mini_weights = stored_weights[0]
    else:
        mini_weights = tuple(stored_weights)
    kept = [v for v in values if v]
    fixedsize = fmt.fixed_value_size()
    if fixedsize is None or fixedsize < 0:
        mini_values: Any = tuple(kept)
    elif fixedsize == 0:
        mini_values = None
    else:
        mini_values = emptybytes.join(kept)
    mini_ids = (ids[0],) if len(ids) == 1 else tuple(delta_encode(ids))
    databytes = pickle.dumps((mini_ids, mini_weights, mini_values), 2)
    comp = postwriter._compression
    if comp:
        databytes = zlib.compress(databytes, comp)
    last = ids[-1]
    minbyte = length_to_byte(minlength)
    maxbyte = length_to_byte(maxlength)
    infobytes = pickle.dumps((len(ids), last, maxweight, comp, minbyte, maxbyte), 2)
    block = b"".join((WHOOSH3_HEADER_MAGIC, pack_int(-(len(infobytes) + len(databytes))), infobytes, databytes))
    start = postfile.tell()
    postfile.write(block)  # one write: the magic, the block's length (negative: the last), its info and data
    termbytes = _TERMINFO.pack(
        False, 0 + sum(stored_weights), len(ids), 0 if minlength is None else minbyte, maxbyte, maxweight, ids[0], last
    )
    termbytes += pack_long(start) + pack_int(len(block))
    _add_term_row(fieldwriter._tindex, pack_ushort(fieldwriter._fieldid) + tbytes, termbytes)


def _add_term_row(table: Any, key: bytes, value: bytes) -> None:
    """``OrderedHashWriter.add(key, value)`` (Whoosh's term table) with one file write, same bytes."""
    if key <= table.lastkey:
        raise ValueError(f"Keys must increase: {table.lastkey!r}..{key!r}")
    dbfile = table.dbfile
    pos = dbfile.tell()
    table.index.append(pos)
    dbfile.write(b"".join((_ROW_LENGTHS.pack(len(key), len(value)), key, value)))
    h = table.hashfn(key)
    table.buckets[h & 255].append((h, pos))
    table.lastkey = key
