"""Vectorised evaluation of a plan over one segment's columnar arrays (numpy only).

Every node evaluates to two aligned arrays: the segment's document numbers that match
(ascending, unique, int64) and their scores (float64). AND intersects, OR unites and sums,
AND-NOT removes; phrases match on positions (a key ``doc << 32 | position - i`` per
occurrence of the i-th word, kept while every word has it); scores follow the BM25F formula
of :mod:`searchlib.plan`, with the statistics passed in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from searchlib import plan as p
from searchlib._whoosh.columnar import FieldPostings, SegmentColumns, gather
from searchlib.engine import Stats, idf

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Result = tuple[I64, F64]

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)
_SHIFT = np.int64(32)


def empty() -> Result:
    return _EMPTY_I, _EMPTY_F


def term_freqs(fp: FieldPostings, term: str, within: I64 | None = None) -> Result:
    """(documents holding ``term``, its frequency in each), restricted to ``within`` if given."""
    tid = fp.term_id(term)
    if tid < 0:
        return empty()
    lo, hi = fp.slice(tid)
    docs = np.asarray(fp.docs[lo:hi], dtype=np.int64)
    freqs = np.asarray(fp.freqs[lo:hi], dtype=np.float64) if fp.freqs is not None else np.ones(hi - lo)
    if within is None:
        return docs, freqs
    if len(within) < len(docs):
        idx = np.searchsorted(docs, within)
        idx[idx >= len(docs)] = 0
        hit = docs[idx] == within
        return within[hit], freqs[idx[hit]]
    if not len(within):
        return empty()
    idx = np.searchsorted(within, docs)  # the shorter list looked up in the longer one
    idx[idx >= len(within)] = 0
    hit = within[idx] == docs
    return docs[hit], freqs[hit]


def intersect(left: I64, right: I64) -> I64:
    """Documents in both ascending unique arrays (the shorter looked up in the longer)."""
    if len(left) > len(right):
        left, right = right, left
    if not len(left):
        return _EMPTY_I
    if len(left) * 16 > len(right):  # similar lengths: merge the two sorted runs (linear), keep the pairs
        both = np.concatenate([left, right])
        both.sort(kind="stable")
        pairs: I64 = both[:-1][both[1:] == both[:-1]]
        return pairs
    idx = np.searchsorted(right, left)
    idx[idx >= len(right)] = 0
    common: I64 = left[right[idx] == left]
    return common


def members(docs: I64, within: I64) -> npt.NDArray[np.intp]:
    """Where each of ``within`` (a subset of ``docs``, both ascending) sits in ``docs``."""
    return np.searchsorted(docs, within)


def phrase_freqs(fp: FieldPostings, terms: tuple[str, ...], within: I64 | None = None) -> Result:
    """(documents where ``terms`` occur consecutively, how often), restricted to ``within``."""
    if len(terms) == 1:
        return term_freqs(fp, terms[0], within)
    tids = [fp.term_id(t) for t in terms]
    if min(tids) < 0 or fp.pos_offsets is None or fp.positions is None:
        return empty()
    docs = within
    for tid in sorted(set(tids), key=lambda t: fp.offsets[t + 1] - fp.offsets[t]):
        lo, hi = fp.slice(tid)
        tdocs = np.asarray(fp.docs[lo:hi], dtype=np.int64)
        docs = tdocs if docs is None else intersect(docs, tdocs)
        if not len(docs):
            return empty()
    assert docs is not None
    survivors = _EMPTY_I
    for i, tid in enumerate(tids):
        lo, hi = fp.slice(tid)
        pidx = lo + np.searchsorted(np.asarray(fp.docs[lo:hi]), docs)
        starts = np.asarray(fp.pos_offsets[pidx], dtype=np.int64)
        ends = np.asarray(fp.pos_offsets[pidx + 1], dtype=np.int64)
        positions = np.asarray(fp.positions[gather(starts, ends)], dtype=np.int64) - i
        owners = np.repeat(docs, ends - starts)
        ok = positions >= 0
        keys = (owners[ok] << _SHIFT) | positions[ok]
        survivors = keys if i == 0 else intersect(survivors, keys)  # both ascending: doc, then position
        if not len(survivors):
            return empty()
    owners = survivors >> _SHIFT  # ascending: count each document's run
    heads = np.flatnonzero(np.concatenate([[True], owners[1:] != owners[:-1]]))
    counts = np.diff(np.append(heads, len(owners)))
    return owners[heads], counts.astype(np.float64)


Memo = dict[tuple[int, str, tuple[str, ...]], Result]
"""Phrase matches of one query: (segment, field, terms) -> documents and frequencies."""
Norms = dict[tuple[int, str, float, float], F64]
"""Length normalisations: (segment, field, average length, b) -> one value per document."""
MAX_NORMS = 1024
"""Normalisation arrays a snapshot keeps: three text fields per segment for each set of statistics
in use, so ~170 segments under two sets before the cache starts over (8 bytes per document each)."""


class Context:
    """What one evaluation needs besides the segment: statistics (None: unscored), expansions,
    and the phrase matches already made for this query (counting a phrase's documents for its
    statistics and scoring it would otherwise match it twice)."""

    def __init__(
        self,
        plan: p.Plan,
        stats: Stats | None,
        expand: Callable[[p.Prefix], tuple[str, ...]],
        memo: Memo | None = None,
        norms: Norms | None = None,
    ) -> None:
        self.k1 = plan.k1
        self.b = plan.b
        self.stats = stats
        self.expand = expand
        self.memo: Memo = {} if memo is None else memo
        self.norms: Norms = {} if norms is None else norms

    def norm(self, seg: SegmentColumns, field: str, avg: float) -> F64:
        """BM25's length normalisation ``1 - b + b * length / avg`` of every document of a segment.

        Kept across queries (``norms`` belongs to the snapshot): it depends only on the segment,
        the field, ``b`` and the average length, which stay the same from query to query.
        """
        key = (id(seg), field, avg, self.b)
        found = self.norms.get(key)
        if found is None:
            if len(self.norms) >= MAX_NORMS:
                self.norms.clear()
            lengths = np.asarray(seg.lengths[field], dtype=np.float64)
            found = self.norms[key] = 1.0 - self.b + self.b * lengths / avg
        return found

    def phrase(self, seg: SegmentColumns, field: str, terms: tuple[str, ...]) -> Result:
        """``phrase_freqs`` of the whole segment, made once per query."""
        if len(terms) == 1:
            return phrase_freqs(seg.fields[field], terms)
        key = (id(seg), field, terms)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = phrase_freqs(seg.fields[field], terms)
        return found


def _text(seg: SegmentColumns, node: p.Text, ctx: Context, scored: bool) -> Result:
    docs, tf = ctx.phrase(seg, node.field, node.terms)
    return docs, _text_scores(seg, node, ctx, scored, docs, tf)


def _text_scores(seg: SegmentColumns, node: p.Text, ctx: Context, scored: bool, docs: I64, tf: F64) -> F64:
    """BM25F scores of ``node`` for ``docs`` (with ``tf``, its frequencies in ``node.field``)."""
    stats = ctx.stats
    if not len(docs) or not scored or stats is None or not node.boosts:
        return np.zeros(len(docs))
    k1 = ctx.k1
    pseudo = np.zeros(len(docs))
    for field, weight in node.boosts:
        avg = stats.avg_length(field)
        if avg <= 0:
            continue
        if field == node.field:
            tf_f = tf
        else:
            found, freqs = phrase_freqs(seg.fields[field], node.terms, docs)
            if not len(found):
                continue
            tf_f = np.zeros(len(docs))
            tf_f[np.searchsorted(docs, found)] = freqs
        pseudo += weight * tf_f / ctx.norm(seg, field, avg)[docs]
    weight_idf = idf(stats.doc_count, stats.doc_freqs.get((node.field, node.terms), 0))
    scores = np.zeros(len(docs))
    np.divide(weight_idf * pseudo * (k1 + 1.0), pseudo + k1, out=scores, where=pseudo > 0)
    return scores


def _keyword(seg: SegmentColumns, field: str, value: str, weight: float, ctx: Context, scored: bool) -> Result:
    docs, _ = term_freqs(seg.fields[field], value)
    if not scored or ctx.stats is None or weight <= 0 or not len(docs):
        return docs, np.zeros(len(docs))
    stats = ctx.stats
    return docs, np.full(len(docs), weight * idf(stats.doc_count, stats.doc_freqs.get((field, (value,)), 0)))


def _union(parts: list[Result]) -> Result:
    parts = [r for r in parts if len(r[0])]
    if not parts:
        return empty()
    if len(parts) == 1:
        return parts[0]
    docs = np.concatenate([r[0] for r in parts])
    scores = np.concatenate([r[1] for r in parts])
    order = np.argsort(docs, kind="stable")  # merges the sorted runs; a document's scores stay in child order
    docs, scores = docs[order], scores[order]
    heads = np.flatnonzero(np.concatenate([[True], docs[1:] != docs[:-1]]))
    summed: F64 = np.add.reduceat(scores, heads)
    return docs[heads], summed


def _prefix(seg: SegmentColumns, node: p.Prefix, ctx: Context, scored: bool) -> Result:
    words = ctx.expand(node)
    if node.boosts:
        return _union([_text(seg, p.Text(node.field, (w,), node.boosts), ctx, scored) for w in words])
    return _union([_keyword(seg, node.field, w, 0.0, ctx, False) for w in words])


def _dates(seg: SegmentColumns, node: p.Dates, docs: I64 | None) -> I64:
    if docs is None:
        dates = np.asarray(seg.dates)
        return np.flatnonzero((dates >= node.low) & (dates <= node.high)).astype(np.int64)
    dates = np.asarray(seg.dates[docs])
    return docs[(dates >= node.low) & (dates <= node.high)]


def _all_of(seg: SegmentColumns, node: p.AllOf, ctx: Context, scored: bool) -> Result:
    """AND (-NOT): match every part first, then score the parts only on the documents left.

    Words and phrases are matched without scoring (their frequencies kept); their BM25F
    scores -- lookups in the other fields and length normalisation -- are computed for the
    intersection alone, which a filter (dates, an entity) or another word makes small.
    """
    parts: list[tuple[p.PlanNode, I64, F64]] = []  # (child, its documents, frequencies or scores)
    docs: I64 | None = None
    matched: list[p.PlanNode] = [c for c in node.must if not isinstance(c, (p.Dates, p.Every))]
    for child in sorted(matched, key=lambda c: not isinstance(c, p.Keyword)):  # keywords first: usually shortest
        if isinstance(child, p.Text):
            found, values = ctx.phrase(seg, child.field, child.terms)
        else:
            found, values = evaluate(seg, child, ctx, scored)
        parts.append((child, found, values))
        docs = found if docs is None else intersect(docs, found)
        if not len(docs):
            return empty()
    dates = [c for c in node.must if isinstance(c, p.Dates)]
    if docs is None:  # only dates and "every document"
        docs = np.arange(seg.doc_count, dtype=np.int64) if not dates else _dates(seg, dates[0], None)
        dates = dates[1:]
    for window in dates:
        docs = _dates(seg, window, docs)
    for child in node.must_not:
        if not len(docs):
            break
        excluded, _ = evaluate(seg, child, ctx, False)
        if len(excluded):
            docs = docs[~np.isin(docs, excluded, assume_unique=True)]
    if not len(docs):
        return empty()
    scores = np.zeros(len(docs))
    if scored and ctx.stats is not None:
        by_child = {id(child): (found, values) for child, found, values in parts}
        for child in matched:  # scores add up in the plan's order
            found, values = by_child[id(child)]
            at = members(found, docs)
            if isinstance(child, p.Text):
                scores += _text_scores(seg, child, ctx, scored, docs, values[at])
            else:
                scores += values[at]
    return docs, scores


def evaluate(seg: SegmentColumns, node: p.PlanNode, ctx: Context, scored: bool = True) -> Result:
    """Matches of ``node`` in one segment (deleted documents included: the caller masks them)."""
    if isinstance(node, p.Text):
        return _text(seg, node, ctx, scored)
    if isinstance(node, p.Keyword):
        return _keyword(seg, node.field, node.value, node.weight, ctx, scored)
    if isinstance(node, p.Prefix):
        return _prefix(seg, node, ctx, scored)
    if isinstance(node, p.Dates):
        docs = _dates(seg, node, None)
        return docs, np.zeros(len(docs))
    if isinstance(node, p.Every):
        return np.arange(seg.doc_count, dtype=np.int64), np.zeros(seg.doc_count)
    if isinstance(node, p.Nothing):
        return empty()
    if isinstance(node, p.AllOf):
        return _all_of(seg, node, ctx, scored)
    return _union([evaluate(seg, child, ctx, scored) for child in node.children])
