"""The text fields' columnar postings built from token streams, sorted with numpy.

Since index format 9 the title, body and entity text have no Whoosh postings, so their
arrays need not pass through per-term posting lists at all. For each document the writer
appends the term ids of its indexed tokens in order (each token as written mapped through a
per-field ``token -> term id`` dict with one C-level ``map``, or by the compiled kernel
``_ingest_kernels.token_ids`` for ASCII text; new spellings go through
:func:`searchlib.analysis.term`) and their positions; at the
end the tokens are sorted by term -- documents ascending and positions ascending inside each
term, as they were added (a stable sort) -- and run lengths give frequencies. The arrays equal
those the per-term path builds (tests/test_sidecar_build.py, tests/test_textcolumns.py) at a
fraction of the Python work per token (``benchmarks/bench_stages.py``).

Memory: the streams take 8 bytes a token (term id and position); at the end each token's
term is ranked in dictionary order (4 bytes a token, the stream of ids freed) and the
positions are written in place into the field's array: ~12 bytes a token at the peak, which
was a segment write's and a parallel-ingest worker's (~20 before). The sort is the compiled
counting sort (``_ingest_kernels.count_postings`` / ``place_postings``: two linear passes)
when built, else numpy's stable sort over ranges of terms holding about ``BUCKET_TOKENS``
tokens each (a token's document found then, by bisection), so its temporary arrays stay small
whatever the segment's size.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib import analysis
from searchlib._compiled import ingest_kernel, ingest_kernels
from searchlib._whoosh.columnar import TEXT_FIELDS, ColumnsBuilder, FieldPostings, SegmentColumns

__all__ = ["BUCKET_TOKENS", "StreamingColumnsBuilder", "TextPostings"]

token_ids = ingest_kernel("token_ids")
"""The compiled ``token_ids`` kernel, or a stand-in returning None (then :meth:`TextPostings.add`'s Python runs)."""
_WordTable: Any = getattr(ingest_kernels(), "WordTable", None)
"""The compiled ``WordTable`` (an ASCII token's bytes -> its id, no Python string per token), or None."""
count_postings = ingest_kernel("count_postings")
place_postings = ingest_kernel("place_postings")
"""The compiled counting sort of :meth:`TextPostings.finish` (stand-ins returning None: numpy's sort runs)."""

BUCKET_TOKENS = 2_000_000
"""Tokens sorted at a time (a range of terms): ~16 bytes of temporary arrays each."""

I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
_Placed = tuple[I64, U32, U32, U32]


class _TermIds(dict[str, int]):
    """term -> id, in the order terms first occur; a missing term is given the next id.

    ``map(ids.__getitem__, terms)`` then runs in C for known terms and calls ``__missing__``
    for new ones only (no second pass over a document's tokens when one of them is new).
    """

    def __init__(self, terms: list[str]) -> None:
        super().__init__()
        self.terms = terms

    def __missing__(self, term: str) -> int:
        tid = self[term] = len(self.terms)
        self.terms.append(term)
        return tid


class _WordIds(dict[str, int]):
    """token as written -> its term's id + 1, 0 when the token is not indexed (one field, one segment).

    One C-level ``map`` over a document's tokens then gives the term ids, filling this on
    first sight of a spelling (``__missing__``: the analysis' cached term, then the id dict).
    """

    def __init__(self, ids: _TermIds) -> None:
        super().__init__()
        self.ids = ids

    def __missing__(self, word: str) -> int:
        found = analysis.term(word)
        value = self[word] = 0 if found is None else self.ids[found] + 1
        return value


POSITION_CHUNK = 1 << 20
"""Tokens whose positions :func:`_positions` makes in one step (a 4 MB temporary array)."""


def _positions(firsts: U32, counts: U32) -> U32:
    """Every token's position: document d's ``counts[d]`` tokens at ``firsts[d]``, ``firsts[d] + 1``, ...

    Token i (of all documents' tokens in order) is at ``i - (start[d] - firsts[d])``, computed in
    uint32 arithmetic (it wraps, and every result fits): no per-token position is kept while a
    segment collects (4 bytes a token, and an ``array.extend`` of a range per document).
    """
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    shift = (starts - firsts).astype(np.uint32)  # negative shifts wrap: so does the subtraction below
    pos = np.repeat(shift, counts)
    for lo in range(0, len(pos), POSITION_CHUNK):  # a chunk at a time: no second array of every token
        hi = min(lo + POSITION_CHUNK, len(pos))
        np.subtract(np.arange(lo, hi, dtype=np.uint32), pos[lo:hi], out=pos[lo:hi])
    return pos


class TextPostings:
    """One text field's postings of one segment, collected as token streams."""

    def __init__(self, bucket_tokens: int = BUCKET_TOKENS) -> None:
        self.bucket_tokens = bucket_tokens
        self._terms: list[str] = []
        self._ids = _TermIds(self._terms)
        self._word_ids = _WordIds(self._ids)
        self._word_table = None if _WordTable is None else _WordTable()  # the compiled kernel's cache of _word_ids
        self._tids = array("I")  # term id + 1 per token
        self._firsts = array("I")  # first kept token's position per document with tokens (the rest follow it)
        self._docs = array("I")  # document number per document with tokens
        self._counts = array("I")  # tokens per such document

    def add(self, docnum: int, text: str) -> int:
        """Add document ``docnum``'s value (documents in ascending order); returns its length in tokens."""
        counted = token_ids(text, self._word_ids, self._word_ids.__getitem__, self._tids, self._word_table)
        if counted is None:  # not ASCII, or no compiled kernel: the same ids in Python
            found = list(map(self._word_ids.__getitem__, analysis.written_tokens(text)))
            kept = list(filter(None, found))
            counted = len(kept), found.index(kept[0]) if kept else 0
            self._tids.extend(kept)
        count: int = counted[0]
        first: int = counted[1]
        if not count:
            return 0
        self._firsts.append(first)  # its tokens' positions are first, first + 1, ... (made at finish)
        self._docs.append(docnum)
        self._counts.append(count)
        return count

    def finish(self, doc_count: int) -> tuple[FieldPostings, npt.NDArray[np.uint32]]:
        """The field's postings and every document's length (tokens), for ``doc_count`` documents."""
        self._word_table = None  # the spellings' memory back before the sort
        self._word_ids.clear()
        terms = self._terms
        doc_list = np.frombuffer(self._docs, dtype=np.uint32)
        counts = np.frombuffer(self._counts, dtype=np.uint32)
        lengths = np.zeros(doc_count, dtype=np.uint32)
        lengths[doc_list] = counts
        if not terms:
            empty = np.zeros(0, dtype=np.uint32)
            fp = FieldPostings([], np.zeros(1, dtype=np.int64), empty, empty, np.zeros(1, dtype=np.int64), empty)
            return fp, lengths
        by_text = sorted(range(len(terms)), key=terms.__getitem__)
        rank = np.zeros(len(terms) + 1, dtype=np.uint32)  # at term id + 1, as the stream holds them
        rank[np.array(by_text, dtype=np.int64) + 1] = np.arange(len(terms), dtype=np.uint32)
        keys = rank[np.frombuffer(self._tids, dtype=np.uint32)]  # each token's term, in dictionary order
        self._tids = array("I")  # its memory back before the sort
        pos = _positions(np.frombuffer(self._firsts, dtype=np.uint32), counts)
        placed = _placed_compiled(keys, pos, doc_list, counts, len(terms))
        offsets, docs, freqs, out_pos = placed or self._placed(keys, pos, doc_list, counts, len(terms))
        del keys, pos, placed
        pos_offsets = np.zeros(len(freqs) + 1, dtype=np.int64)
        np.cumsum(freqs, out=pos_offsets[1:])
        sorted_terms = [terms[i] for i in by_text]
        fp = FieldPostings(sorted_terms, offsets, docs, freqs, pos_offsets, out_pos)
        self._firsts, self._docs, self._counts = array("I"), array("I"), array("I")
        return fp, lengths

    def _placed(self, keys: U32, pos: U32, doc_list: U32, counts: U32, nterms: int) -> _Placed:
        """Term offsets, documents, frequencies and positions sorted by term with numpy (the pure path).

        A stable sort by term over ranges of terms holding about ``bucket_tokens`` tokens each,
        so its temporary arrays stay small whatever the segment's size.
        """
        ends = np.cumsum(counts, dtype=np.int64)  # where each document's tokens end
        per_term = np.cumsum(np.bincount(keys, minlength=nterms))
        wanted = np.arange(1, -(-len(keys) // self.bucket_tokens), dtype=np.int64) * self.bucket_tokens
        cuts = np.unique(np.concatenate(([0], np.searchsorted(per_term, wanted, side="right"), [nterms])))
        postings_per_term = np.zeros(nterms, dtype=np.int64)
        out_pos = np.empty(len(keys), dtype=np.uint32)  # filled a range of terms at a time, in place
        out_docs, out_freqs = [], []
        for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
            picked = np.flatnonzero((keys >= lo) & (keys < hi))
            d = doc_list[np.searchsorted(ends, picked, side="right")]  # each token's document
            order = np.argsort(keys[picked], kind="stable")  # tokens came in (document, position) order
            picked, d = picked[order], d[order]
            k = keys[picked]
            starts = np.flatnonzero(np.concatenate(([True], (k[1:] != k[:-1]) | (d[1:] != d[:-1]))))
            out_docs.append(d[starts])
            out_freqs.append(np.diff(np.append(starts, len(k))).astype(np.uint32))
            first = int(per_term[lo - 1]) if lo else 0
            out_pos[first : first + len(picked)] = pos[picked]
            postings_per_term[lo:hi] = np.bincount(k[starts].astype(np.int64) - lo, minlength=hi - lo)
        offsets = np.zeros(nterms + 1, dtype=np.int64)
        np.cumsum(postings_per_term, out=offsets[1:])
        return offsets, np.concatenate(out_docs), np.concatenate(out_freqs), out_pos


def _placed_compiled(keys: U32, pos: U32, doc_list: U32, counts: U32, nterms: int) -> _Placed | None:
    """:meth:`TextPostings._placed` by the compiled counting sort (one pass to count, one to place), or None."""
    tokens = np.zeros(nterms + 1, dtype=np.int64)
    offsets = np.zeros(nterms + 1, dtype=np.int64)
    if count_postings(keys, doc_list, counts, tokens[1:], offsets[1:]) is None:
        return None  # not compiled
    np.cumsum(tokens, out=tokens)
    np.cumsum(offsets, out=offsets)
    docs = np.empty(int(offsets[-1]), dtype=np.uint32)
    freqs = np.empty(len(docs), dtype=np.uint32)
    out_pos = np.empty(len(keys), dtype=np.uint32)
    place_postings(keys, pos, doc_list, counts, tokens[:-1], offsets[:-1].copy(), out_pos, docs, freqs)
    return offsets, docs, freqs, out_pos


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
