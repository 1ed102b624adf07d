"""The text fields' columnar postings built from token streams, sorted once with numpy.

Since index format 9 the title, body and entity text have no Whoosh postings, so their
arrays need not pass through per-term posting lists at all. For each document the writer
appends the term ids of its indexed tokens in order (:func:`searchlib.analysis.kept_terms`,
mapped through a per-field term -> id dict with C-level ``map``) and their positions; at the
end one stable sort by term groups the tokens into postings -- documents ascending and
positions ascending inside each, as the documents and tokens were added -- and run lengths
give frequencies. The arrays equal those the per-term path builds
(tests/test_sidecar_build.py, tests/test_textcolumns.py) at a fraction of the Python work
per token (``benchmarks/bench_stages.py``).

Memory is bounded: past ``CHUNK_TOKENS`` tokens the stream is sorted into a chunk of
postings and emptied; chunks (consecutive document ranges) are joined at the end by
:func:`.columnar._concat_field`, term by term.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib import analysis
from searchlib._whoosh.columnar import (
    TEXT_FIELDS,
    ColumnsBuilder,
    FieldPostings,
    SegmentColumns,
    _concat_field,
)

__all__ = ["CHUNK_TOKENS", "StreamingColumnsBuilder", "TextPostings"]

CHUNK_TOKENS = 8_000_000
"""Tokens buffered per field before they are sorted into a chunk (~64 MB of ids and positions)."""

I64 = npt.NDArray[np.int64]


class TextPostings:
    """One text field's postings of one segment, collected as token streams."""

    def __init__(self, chunk_tokens: int = CHUNK_TOKENS) -> None:
        self.chunk_tokens = chunk_tokens
        self._ids: dict[str, int] = {}
        self._terms: list[str] = []
        self._tids = array("I")  # term id per token
        self._pos = array("I")  # position per token
        self._docs = array("I")  # document number per document with tokens
        self._counts = array("I")  # tokens per such document
        self._chunks: list[FieldPostings] = []

    def add(self, docnum: int, text: str) -> int:
        """Add document ``docnum``'s value (documents in ascending order); returns its length in tokens."""
        kept, first = analysis.kept_terms(text)
        if not kept:
            return 0
        ids = self._ids
        tids = list(map(ids.get, kept))
        if None in tids:
            terms = self._terms
            for i, tid in enumerate(tids):
                if tid is None:
                    word = kept[i]
                    tid = ids.get(word)
                    if tid is None:
                        tid = ids[word] = len(terms)
                        terms.append(word)
                    tids[i] = tid
        self._tids.extend(tids)  # type: ignore[arg-type]  # (no None left)
        self._pos.extend(range(first, first + len(kept)))
        self._docs.append(docnum)
        self._counts.append(len(kept))
        if len(self._tids) >= self.chunk_tokens:
            self._flush()
        return len(kept)

    def _flush(self) -> None:
        """Sort the buffered tokens into a chunk of postings (global document numbers)."""
        if not self._docs:
            return
        terms = self._terms
        tids = np.frombuffer(self._tids, dtype=np.uint32).astype(np.int64)
        docs = np.repeat(np.frombuffer(self._docs, dtype=np.uint32), np.frombuffer(self._counts, dtype=np.uint32))
        pos = np.frombuffer(self._pos, dtype=np.uint32)
        # the chunk's terms, sorted; each token's term number in that order
        used = np.unique(tids)
        chunk_terms = [terms[t] for t in used.tolist()]
        by_text = np.array(sorted(range(len(chunk_terms)), key=chunk_terms.__getitem__), dtype=np.int64)
        rank = np.empty(len(terms), dtype=np.int64)
        rank[used[by_text]] = np.arange(len(used), dtype=np.int64)
        keys = rank[tids]
        order = np.argsort(keys, kind="stable")  # tokens came in (document, position) order: kept per term
        keys, docs, pos = keys[order], docs[order], pos[order]
        n = len(keys)
        starts: I64 = np.flatnonzero(np.concatenate(([True], (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1]))))
        pos_offsets = np.append(starts, n).astype(np.int64)
        freqs = np.diff(pos_offsets).astype(np.uint32)
        offsets = np.zeros(len(used) + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys[starts], minlength=len(used)), out=offsets[1:])
        sorted_terms = [chunk_terms[i] for i in by_text.tolist()]
        self._chunks.append(FieldPostings(sorted_terms, offsets, docs[starts], freqs, pos_offsets, pos.copy()))
        self._tids, self._pos, self._docs, self._counts = array("I"), array("I"), array("I"), array("I")
        if len(terms) > self.chunk_tokens // 8:  # a chunk holding many rare terms: start the dict over
            self._ids, self._terms = {}, []

    def finish(self, doc_count: int) -> tuple[FieldPostings, npt.NDArray[np.uint32]]:
        """The field's postings and every document's length (tokens), for ``doc_count`` documents."""
        self._flush()
        chunks, self._chunks = self._chunks, []
        if not chunks:
            empty = np.zeros(0, dtype=np.uint32)
            fp = FieldPostings([], np.zeros(1, dtype=np.int64), empty, empty, np.zeros(1, dtype=np.int64), empty)
        elif len(chunks) == 1:
            fp = chunks[0]
        else:
            name = TEXT_FIELDS[0]
            parts: list[Any] = [
                (SegmentColumns(doc_count, {name: c}, {}, np.zeros(0, dtype=np.int32)), None) for c in chunks
            ]
            identity = np.arange(max(doc_count, 1), dtype=np.int64)
            fp = _concat_field(name, parts, [identity] * len(parts))
        assert fp.freqs is not None
        lengths = np.bincount(
            np.asarray(fp.docs, dtype=np.int64), weights=np.asarray(fp.freqs, dtype=np.float64), minlength=doc_count
        ).astype(np.uint32)[:doc_count]
        return fp, lengths


class StreamingColumnsBuilder(ColumnsBuilder):
    """A :class:`.columnar.ColumnsBuilder` whose text fields come from :class:`TextPostings`.

    The writer calls :meth:`add_text` for the text fields (their posting lists never exist
    as such) and hands the keyword fields' lists over as before (``add_term``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.texts = {name: TextPostings() for name in TEXT_FIELDS}

    def add_text(self, fieldname: str, docnum: int, text: str) -> int:
        return self.texts[fieldname].add(docnum, text)

    def finish(self, doc_count: int) -> SegmentColumns:
        cols = super().finish(doc_count)
        for name, text in self.texts.items():
            if cols.fields[name].term_count:
                raise ValueError(f"{name} postings came both as lists and as tokens")
            cols.fields[name], cols.lengths[name] = text.finish(doc_count)
        return cols
