"""Phrase machinery of one segment: documents where words occur consecutively, and how often.

A position belongs to one segment's arrays, so phrases are matched segment by segment
(:meth:`.evaluate.Layout.positions` gathers their results): a key ``doc << 32 | position - i``
per occurrence of the i-th word, kept while every word has it (numba's kernel when the
``fast`` extra is compiled).
"""

from __future__ import annotations

import numpy as np

from searchlib._whoosh import kernels
from searchlib._whoosh.columnar import FieldPostings
from searchlib._whoosh.docsets import _EMPTY_I, I64, MAP_RATIO, Result, empty, intersect, restrict
from searchlib._whoosh.packing import PackedPositions
from searchlib._whoosh.ranges import gather

__all__ = ["phrase_positions"]

_SHIFT = np.int64(32)


def phrase_positions(fp: FieldPostings, tids: list[int], docs: I64) -> Result:
    """(those of ``docs`` where the terms ``tids`` occur consecutively, how often).

    Every one of ``docs`` (ascending, this segment's numbers) must hold every term.
    """
    assert fp.freqs is not None and fp.positions is not None
    fast = kernels.ready()
    if fast is not None:
        offsets = fp.offsets
        los = np.array([offsets[t] for t in tids], dtype=np.int64)
        his = np.array([offsets[t + 1] for t in tids], dtype=np.int64)
        stored = fp.positions
        positions, width = (stored.words, stored.width) if isinstance(stored, PackedPositions) else (stored, 0)
        counts = kernels.phrase_segment(fast, fp.docs, fp.freqs, fp.pos_blocks, positions, width, los, his, docs)
        if counts is not None:
            keep = counts > 0
            return docs[keep], counts[keep].astype(np.float64)
    survivors = _EMPTY_I
    within = False  # whether some word's keys were taken for ``docs`` only
    for i, tid in enumerate(tids):
        lo, hi = fp.slice(tid)
        if len(docs) * 2 >= hi - lo:  # most of the word's documents: all its positions, no lookups
            keys = _repeat(np.asarray(fp.docs[lo:hi], dtype=np.int64) << _SHIFT, fp.freqs[lo:hi].astype(np.int64))
            first = fp.pos_start(lo)  # the term's positions are contiguous: one key each
            keys += fp.positions[first : first + len(keys)]
        else:
            term_docs = fp.docs[lo:hi]
            if hi - lo <= MAP_RATIO * len(docs):  # mark the candidates, find them in one pass
                marks = np.zeros(int(max(term_docs[-1], docs[-1])) + 1, dtype=np.bool_)
                marks[docs] = True
                pidx = lo + np.flatnonzero(marks[term_docs])  # docs is a subset: the same order
            else:  # looked up in the list's own dtype (not converting it whole)
                pidx = lo + np.searchsorted(term_docs, docs.astype(term_docs.dtype, copy=False))
            starts = fp.pos_starts(pidx)
            ends = starts + fp.freqs[pidx]
            keys = _repeat(docs << _SHIFT, ends - starts)
            keys += fp.positions[gather(starts, ends)]
            within = True
        # Key: document, then where the phrase would start. A word too near the start (position
        # < i) gives a key below its document's first: never one of the first word's keys.
        if i:
            keys -= i
        survivors = keys if i == 0 else intersect(survivors, keys)  # both ascending: doc, then position
        if not len(survivors):
            return empty()
    owners = survivors >> _SHIFT  # ascending: count each document's run
    heads = np.flatnonzero(np.concatenate([[True], owners[1:] != owners[:-1]]))
    counts = np.diff(np.append(heads, len(owners))).astype(np.float64)
    if within:
        return owners[heads], counts
    return restrict(owners[heads], counts, docs)


def _repeat(values: I64, counts: I64) -> I64:
    """``np.repeat(values, counts)`` for ascending ``values`` and counts of at least 1, as one
    cumulative sum of the steps between values (a third of ``np.repeat``'s time for runs of a
    few, as a word's positions per document are)."""
    if not len(counts) or not counts.all():
        repeated: I64 = np.repeat(values, counts)
        return repeated
    steps = np.zeros(int(counts.sum()), dtype=np.int64)
    steps[np.cumsum(counts[:-1])] = np.diff(values)
    steps[0] = values[0]
    np.cumsum(steps, out=steps)
    return steps
