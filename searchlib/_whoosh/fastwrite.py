"""Faster indexing with Whoosh, producing exactly the postings Whoosh itself would write.

Two hot spots dominate a Whoosh build (measured with cProfile on 1,000 news articles):

* analysis: a chain of generator filters per token and a ``Token`` object per word.
  :class:`FastText` calls :mod:`searchlib.analysis` in one loop with a word -> term cache,
  and is tested to yield identical postings to ``TEXT(analyzer=ANALYZER)``;
* postings: Whoosh pickles every posting through an external-sort pool, then hands them to
  the codec one call each, looking up the document's field length per posting.
  :class:`FastSegmentWriter` groups postings by term in memory (:mod:`.postings`) and writes
  whole blocks; files are byte-identical to Whoosh's.

In a searchlib index (index format 10) the writer collects columnar arrays, and every posting
goes there alone -- the text fields' as token streams (:mod:`.textcolumns`), the keyword
fields' as sorted lists: Whoosh's files then hold stored fields and columns only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import analysis as whoosh_analysis
from whoosh import columns, fields, formats, writing
from whoosh.system import pack_uint

from searchlib import analysis
from searchlib._whoosh.columnar import KEYWORD_FIELDS, TEXT_FIELDS, ColumnsBuilder, SegmentColumns, concat, live_mask
from searchlib._whoosh.postings import MemoryPostings

_TEXT = frozenset(TEXT_FIELDS)
_COLLECTED = frozenset((*TEXT_FIELDS, *KEYWORD_FIELDS))
_ONE_POSITION: dict[int, bytes] = {}  # position -> Positions.encode([position]), for most postings
_ONE_POSITION_MAX = 10_000


class FastText(fields.TEXT):  # type: ignore[misc]
    """A TEXT field (positions, folding, stemming, stop words) with a one-pass indexer.

    Must be built with the Whoosh analyzer that wraps :mod:`searchlib.analysis` (the schema's
    ``ANALYZER``): the fast path calls that module directly, Whoosh's own path the analyzer.
    """

    def __init__(self, *, analyzer: Any, **kwargs: Any) -> None:
        super().__init__(analyzer=analyzer, phrase=True, **kwargs)

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        encode = self.format.encode
        boost = self.format.field_boost
        cache = _ONE_POSITION if type(self.format) is formats.Positions else None
        for term, positions in analysis.positions(value).items():
            count = len(positions)
            encoded = cache.get(positions[0]) if cache is not None and count == 1 else None
            if encoded is None:
                encoded = encode(positions)
                if cache is not None and count == 1 and positions[0] < _ONE_POSITION_MAX:
                    cache[positions[0]] = encoded
            yield term.encode("utf-8"), count, count * boost, encoded

    def index_positions(self, value: str) -> Iterator[tuple[bytes, float, list[int]]]:
        """(term, weight, positions) per term of ``value``: :meth:`index` before values are encoded."""
        boost = self.format.field_boost
        for term, positions in analysis.positions(value).items():
            yield term.encode("utf-8"), len(positions) * boost, positions


class FastKeyword(fields.KEYWORD):  # type: ignore[misc]
    """A comma-separated KEYWORD field whose indexer skips Whoosh's token pipeline.

    Yields exactly what ``KEYWORD(commas=True)`` does: each ``[^,]+`` run, stripped, with its
    frequency (entity fields are indexed for every article, several names each).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(commas=True, **kwargs)

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        counts: dict[str, int] = {}
        for item in value.split(","):  # the [^,]+ runs, and empty strings between commas (skipped)
            if item:
                key = item.strip()
                counts[key] = counts.get(key, 0) + 1
        boost = self.format.field_boost
        for key, freq in counts.items():
            yield key.encode("utf-8"), freq, freq * boost, pack_uint(freq)

    @staticmethod
    def keys(value: str) -> list[bytes]:
        """The distinct terms :meth:`index` yields for ``value`` (a string), in the same order, without the rest."""
        return [key.encode("utf-8") for key in dict.fromkeys([item.strip() for item in value.split(",") if item])]


_NUMERIC_ITEMS: dict[tuple[int, int, bool, bool, int, int], list[tuple[bytes, int, float, bytes]]] = {}
_NUMERIC_ITEMS_MAX = 100_000


def fast_items(field: Any, value: Any) -> list[tuple[bytes, int, float, bytes]] | None:
    """``list(field.index(value))`` without Whoosh's token pipeline for ID and NUMERIC fields, else None.

    An ID field (``IDTokenizer``, ``Existence`` format) indexes a string as one term; a NUMERIC
    field's terms (one per shift step) depend on the number alone and are cached (an ingest
    indexes few distinct dates). tests/test_fastwrite.py checks both against Whoosh.
    """
    kind = type(field)
    if kind is fields.ID and isinstance(value, str) and type(field.format) is formats.Existence:
        if type(field.analyzer) is not whoosh_analysis.IDTokenizer:
            return None
        return [(value.encode("utf-8"), 1, field.format.field_boost, b"")]
    if kind is fields.NUMERIC and type(value) is int:
        key = (field.bits, field.shift_step, field.numtype is int, field.signed, field.decimal_places, value)
        found = _NUMERIC_ITEMS.get(key)
        if found is None:
            if len(_NUMERIC_ITEMS) >= _NUMERIC_ITEMS_MAX:
                _NUMERIC_ITEMS.clear()
            found = _NUMERIC_ITEMS[key] = list(field.index(value))
        return found
    return None


class _CachedLengths:
    """A per-document reader whose ``doc_field_length`` reads each field's column once."""

    def __init__(self, inner: Any, doc_count: int) -> None:
        self._inner = inner
        self._count = doc_count
        self._lengths: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            inner = self._inner
            lengths = [inner.doc_field_length(d, fieldname, default) for d in range(self._count)]
            self._lengths[fieldname] = lengths
        return lengths[docnum] if docnum < self._count else default

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def add_keyword_docs(memory: Any, fieldname: str, docnum: int, field: Any, value: Any) -> None:
    """Give ``memory`` a keyword field's terms of ``value`` for ``docnum``: documents only, as the columns keep them."""
    if isinstance(field, FastKeyword) and isinstance(value, str):
        memory.add_docs(fieldname, docnum, field.keys(value))
        return
    items = fast_items(field, value)
    if items is None:
        items = list(field.index(value))
    memory.add_docs(fieldname, docnum, dict.fromkeys([item[0] for item in items]))


STORED_FIELDS_LEVEL = 0
"""zlib level of each document's stored fields (id, title, the ``meta`` dict: ~860 bytes pickled).

Whoosh compresses them one document at a time (``CompressedBytesColumn``, level 3): ~35-50 us
an article here whatever the level from 1 up (zlib's cost per call on so little data), ~4-5%
of a build's CPU, to save ~280 bytes an article (~28 MB at 100,000 articles, 5% of the stored
text; the bodies beside them, ``body_text``, were never compressed). Level 0 writes the same
zlib format (stored blocks), so every reader, merge and older segment is unchanged."""


def _store_at_level(perdocwriter: Any, level: int) -> None:
    """Have Whoosh's per-document writer compress the stored fields at ``level`` (when it is the
    Whoosh 2.7 writer this was written for: a pickle column over a compressed bytes column)."""
    stored = getattr(perdocwriter, "_colwriters", {}).get("_stored")
    inner: Any = getattr(stored, "_child", None)
    if type(stored) is columns.PickleColumn.Writer and type(inner) is columns.CompressedBytesColumn.Writer:
        inner._level = level


class FastSegmentWriter(writing.SegmentWriter):  # type: ignore[misc]
    """Whoosh's SegmentWriter with postings grouped in memory and field lengths read once.

    Falls back to Whoosh's own path for schemas with term vectors or separate spelling
    fields (searchlib's has neither) and when other segments were merged into this one.

    With ``columns`` set (a :class:`.columnar.ColumnsBuilder`), the segment's columnar
    arrays are collected as its postings are written, and ``columns_of`` is asked for the
    arrays of every segment merged in (kept in ``merged`` with its live-document mask), so
    the new segment's sidecar is built by concatenation (``segwriter.BackendWriter``). The
    postings then go to the columns only (index format 10, :attr:`sink_only`): Whoosh writes
    no postings and no length column. Without
    ``columns`` every posting is Whoosh's, byte for byte (tests/test_postings.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memory: MemoryPostings | None = None
        if not any(f.vector or f.separate_spelling() for _, f in self.schema.items()):
            self._memory = MemoryPostings()
        self.columns: ColumnsBuilder | None = None
        self.columns_of: Callable[[Any], SegmentColumns] | None = None
        self.merged: list[tuple[SegmentColumns, npt.NDArray[np.bool_] | None]] = []
        self.own_docs = 0  # documents added by add_document (merged segments' follow them)
        _store_at_level(self.perdocwriter, STORED_FIELDS_LEVEL)

    def add_reader(self, reader: Any) -> None:
        if self.columns is not None and self.columns_of is not None:
            self.merged.append((self.columns_of(reader), live_mask(reader)))
        super().add_reader(reader)

    def add_document(self, **fields: Any) -> None:
        memory = self._memory
        if memory is None:
            super().add_document(**fields)
            return
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        in_columns = self.sink_only
        add_text = getattr(self.columns, "add_text", None) if in_columns else None
        perdocwriter.start_doc(docnum)
        for fieldname in fieldnames:
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            sink_only = fieldname in in_columns
            if field.indexed and not (sink_only and fieldname not in _COLLECTED):
                boost = self._field_boost(fields, fieldname, docboost)
                if (
                    sink_only
                    and fieldname in _TEXT
                    and add_text is not None
                    and isinstance(value, str)
                    and boost == 1.0
                ):
                    length = add_text(fieldname, docnum, value)  # token streams, no posting lists
                elif sink_only and fieldname not in _TEXT:  # the columns keep a keyword list's documents alone
                    add_keyword_docs(memory, fieldname, docnum, field, value)
                elif isinstance(field, FastText) and isinstance(value, str):
                    length = memory.add_positions(fieldname, docnum, field.index_positions(value), boost)
                elif (items := fast_items(field, value)) is not None:
                    length = memory.add(fieldname, docnum, items, boost)
                else:
                    length = memory.add(fieldname, docnum, field.index(value), boost)
                if not field.scorable or sink_only:
                    length = 0
            stored_value = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, stored_value if field.stored else None, length)
            if fieldname == "facets" and self.columns is not None and stored_value is not None:
                self.columns.add_facets(docnum, stored_value)  # the sidecar's facet table, not a Whoosh column
            elif field.column_type and stored_value is not None:
                column_value = field.to_column_value(stored_value)
                perdocwriter.add_column_value(fieldname, field.column_type, column_value)
                if fieldname == "date" and self.columns is not None:
                    self.columns.add_date(docnum, int(field.from_column_value(column_value)))
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1
        self.own_docs = self.docnum
        if memory.full:
            memory.spill()

    def _flush_segment(self) -> None:
        memory = self._memory
        if memory is not None and not self.pool.fieldnames:
            self.perdocwriter.close()
            memory.write(self.fieldwriter, self.schema, self.columns, self.sink_only)
            self.fieldwriter.close()
            return
        if memory is not None:  # segments were merged in through Whoosh's pool: join them there
            memory.drain_into(self.pool, self.schema, self.columns, self.sink_only)
        super()._flush_segment()

    @property
    def sink_only(self) -> frozenset[str]:
        """Fields whose postings only the columns receive: every indexed field, when columns are collected.

        Index format 10: Whoosh's segment holds no postings at all. The text and keyword fields'
        go to the columns; a field the columns do not collect (``date``: its NUMERIC shifted
        terms, the dates being a column of the sidecar) is not indexed at all.
        """
        if self.columns is None or self._memory is None:
            return frozenset()
        return frozenset(name for name, field in self.schema.items() if field.indexed)

    def segment_columns(self) -> SegmentColumns | None:
        """The new segment's arrays (after its files are written), or None when not collected."""
        if self.columns is None or self._memory is None:
            return None
        own = self.columns.finish(self.own_docs)
        self.columns = None
        if not self.merged:
            return own
        cols = concat([(own, None), *self.merged])
        self.merged = []
        return cols

    def _close_segment(self) -> None:
        if self._memory is not None:
            self._memory.close()
        super()._close_segment()

    def cancel(self) -> None:
        if self._memory is not None:
            self._memory.close()
        super().cancel()

    def per_document_reader(self) -> Any:
        return _CachedLengths(super().per_document_reader(), self.docnum - self.docbase)
