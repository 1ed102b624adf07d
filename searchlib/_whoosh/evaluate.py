"""Vectorised evaluation of a plan over every segment of a snapshot at once (numpy only).

A leaf looks its term up in each segment and gathers the slices into one array of global
document numbers (the segment's base + its local number); everything after that --
intersections, unions, date filters, AND-NOT, BM25F scoring -- is a handful of numpy calls on
those arrays, however many segments the index has. Evaluating segment by segment repeated
every numpy call (and the Python around it) per segment: with the 20 segments the CLI's
default two-worker ingest writes at 100,000 articles, that fixed cost was most of a short
query's time. Only phrase positions are matched per segment (a position belongs to one
segment's arrays), and their results are gathered the same way.

Every node evaluates to two aligned arrays: the matching document numbers (ascending, unique,
int64, deleted documents included: the caller masks them) and their scores (float64). AND
intersects, OR unites and sums, AND-NOT removes; phrases match on positions (a key
``doc << 32 | position - i`` per occurrence of the i-th word, kept while every word has it);
scores follow the BM25F formula of :mod:`searchlib.plan`, with the statistics passed in.
The set operations on those arrays are in :mod:`.docsets`, the phrase machinery (one
segment's positions) in :mod:`.phrases`; this module holds the layout over all segments, the
per-query context, scoring and the evaluation of each node.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib import plan as p
from searchlib._whoosh import fused, kernels
from searchlib._whoosh.columnar import SegmentColumns
from searchlib._whoosh.docsets import F64, I32, I64, MAP_RATIO, Result, empty, intersect, locate, members
from searchlib._whoosh.phrases import phrase_positions
from searchlib.engine import Stats, idf

DENSE_UNION = 16
"""An OR whose lists hold more than 1/DENSE_UNION of the document numbers in their range adds
its scores in arrays over that range (linear) instead of sorting the concatenated lists."""

WITHIN_RATIO = 8
"""An AND whose documents so far are fewer than 1/WITHIN_RATIO of a word's looks them up in
the word's postings instead of gathering all of them."""

FEW_PARTS = 4
"""A word's postings gathered from at most this many segments get their bases added slice by
slice; from more, by one repeated array."""

MAX_NORMS = 64
"""Normalisation arrays a layout keeps: one per text field for each set of statistics in use
(8 bytes per document each); beyond that the cache starts over."""


class Layout:
    """The segments of one snapshot in document-number order, and arrays over all of them.

    Global document number = the segment's base + its local number (Whoosh's numbering).
    The per-document arrays (dates, BM25 length normalisations) are concatenated on first use
    and kept with the snapshot; they depend only on the segments (and, for a normalisation,
    on the average length and ``b``), so every query of the commit reuses them. Races only
    build an array twice.
    """

    def __init__(self, segments: Sequence[tuple[SegmentColumns, int]]) -> None:
        self.parts = list(segments)
        self.size = sum(cols.doc_count for cols, _ in self.parts)
        self.starts = np.array([base for _, base in self.parts] + [self.size], dtype=np.int64)
        """Each segment's first document number, then the end: where a list's segments start."""
        self._dates: I64 | None = None
        self._lengths: dict[str, F64] = {}
        self._norms: dict[tuple[str, float, float], F64] = {}
        self._scratch = threading.local()  # per thread: zeroed arrays over all documents (see take)

    def take(self, name: str, dtype: type[np.generic]) -> npt.NDArray[Any] | None:
        """This thread's array ``name`` of zeros over all document numbers, or None while in use.

        Whoever takes one writes into a few entries and must zero them again before
        :meth:`give` (no allocation, no page faults, no pass over the whole array per query).
        """
        scratch = self._scratch
        busy: set[str] | None = getattr(scratch, "busy", None)
        if busy is None:
            busy = scratch.busy = set()
            scratch.arrays = {}
        if name in busy:
            return None
        found: npt.NDArray[Any] | None = scratch.arrays.get(name)
        if found is None:
            found = scratch.arrays[name] = np.zeros(self.size, dtype=dtype)
        busy.add(name)
        return found

    def give(self, name: str) -> None:
        self._scratch.busy.discard(name)

    def postings(self, field: str, term: str) -> Result:
        """Every document (global number) holding ``term`` in ``field``, with its frequency there."""
        if len(self.parts) == 1:  # one segment (a merged index): no lists to gather
            cols, base = self.parts[0]
            fp = cols.fields[field]
            lo, hi = fp.term_range(term)
            if hi == lo:
                return empty()
            one = fp.docs[lo:hi].astype(np.int64)
            if base:
                one += base
            return one, (fp.freqs[lo:hi].astype(np.float64) if fp.freqs is not None else np.ones(hi - lo))
        docs_parts: list[npt.NDArray[np.unsignedinteger]] = []
        freq_parts: list[npt.NDArray[np.unsignedinteger]] = []
        bases: list[int] = []
        lens: list[int] = []
        for cols, base in self.parts:
            fp = cols.fields[field]
            lo, hi = fp.term_range(term)
            if hi == lo:
                continue
            docs_parts.append(fp.docs[lo:hi])
            if fp.freqs is not None:
                freq_parts.append(fp.freqs[lo:hi])
            bases.append(base)
            lens.append(hi - lo)
        if not docs_parts:
            return empty()
        if len(docs_parts) == 1:
            docs = docs_parts[0].astype(np.int64)
            if bases[0]:
                docs += bases[0]
        else:
            docs = np.concatenate(docs_parts, dtype=np.int64)
            if len(bases) <= FEW_PARTS:  # a slice each (two segments: one call, not three)
                at = 0
                for base, n in zip(bases, lens, strict=True):
                    if base:
                        docs[at : at + n] += base
                    at += n
            else:
                docs += np.repeat(np.asarray(bases, dtype=np.int64), lens)
        freqs = np.concatenate(freq_parts, dtype=np.float64) if freq_parts else np.ones(len(docs))
        return docs, freqs

    def doc_freq(self, field: str, term: str) -> int:
        """How many documents (deleted ones included) hold ``term`` in ``field``: slice lengths only."""
        total = 0
        for cols, _ in self.parts:
            fp = cols.fields[field]
            lo, hi = fp.term_range(term)
            total += hi - lo
        return total

    def postings_within(self, field: str, term: str, docs: I64) -> Result:
        """:meth:`postings` restricted to ``docs`` (ascending): each looked up in the word's
        list, which is never gathered or converted whole (an AND after a short filter)."""
        docs_parts: list[I64] = []
        freq_parts: list[F64] = []
        cuts = np.searchsorted(docs, self.starts).tolist()
        for i, (cols, base) in enumerate(self.parts):
            if cuts[i] == cuts[i + 1]:
                continue
            fp = cols.fields[field]
            lo, hi = fp.term_range(term)
            if hi == lo:
                continue
            term_docs = fp.docs[lo:hi]
            local = docs[cuts[i] : cuts[i + 1]] - base if base else docs[cuts[i] : cuts[i + 1]]
            idx = np.searchsorted(term_docs, local.astype(term_docs.dtype, copy=False))
            idx[idx >= hi - lo] = 0
            hit = term_docs[idx] == local
            found = local[hit]
            docs_parts.append(found + base if base else found)
            if fp.freqs is not None:
                freq_parts.append(np.asarray(fp.freqs[lo + idx[hit]], dtype=np.float64))
            else:
                freq_parts.append(np.ones(len(found)))
        if not docs_parts:
            return empty()
        if len(docs_parts) == 1:
            return docs_parts[0], freq_parts[0]
        return np.concatenate(docs_parts), np.concatenate(freq_parts)

    def positions(self, field: str, terms: tuple[str, ...], docs: I64) -> Result:
        """Those of ``docs`` (global numbers, each holding every term) where ``terms`` occur
        consecutively, with how often: positions are matched segment by segment."""
        docs_parts: list[I64] = []
        freq_parts: list[F64] = []
        cuts = np.searchsorted(docs, self.starts).tolist()
        for i, (cols, base) in enumerate(self.parts):
            if cuts[i] == cuts[i + 1]:
                continue
            fp = cols.fields[field]
            if not fp.has_positions:
                continue
            found, freqs = phrase_positions(fp, [fp.term_id(t) for t in terms], docs[cuts[i] : cuts[i + 1]] - base)
            if len(found):
                docs_parts.append(found + base)
                freq_parts.append(freqs)
        if not docs_parts:
            return empty()
        if len(docs_parts) == 1:
            return docs_parts[0], freq_parts[0]
        return np.concatenate(docs_parts), np.concatenate(freq_parts)

    def dates(self) -> I64:
        """Every document's ``YYYYMMDD`` date key."""
        found = self._dates
        if found is None:
            parts = [np.asarray(cols.dates, dtype=np.int64) for cols, _ in self.parts]
            found = self._dates = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return found

    def norm(self, field: str, avg: float, b: float) -> F64:
        """BM25's length normalisation ``1 - b + b * length / avg`` of every document."""
        key = (field, avg, b)
        found = self._norms.get(key)
        if found is None:
            lengths = self._lengths.get(field)
            if lengths is None:
                parts = [np.asarray(cols.lengths[field], dtype=np.float64) for cols, _ in self.parts]
                lengths = self._lengths[field] = np.concatenate(parts) if parts else np.zeros(0)
            if len(self._norms) >= MAX_NORMS:
                self._norms.clear()
            found = self._norms[key] = 1.0 - b + b * lengths / avg
        return found


Memo = dict[tuple[str, tuple[str, ...]], Result]
"""Matches of one query, whole index: (field, terms) -> documents and frequencies (a word, a
phrase or a keyword value), shared by counting statistics and scoring."""


class Context:
    """What one evaluation needs besides the layout: statistics (None: unscored), prefix
    expansions, and the matches already made for this query (counting a word's or phrase's
    documents for its statistics and scoring it would otherwise look it up twice)."""

    def __init__(
        self,
        plan: p.Plan,
        stats: Stats | None,
        expand: Callable[[p.Prefix], tuple[str, ...]],
        layout: Layout,
        memo: Memo | None = None,
    ) -> None:
        self.k1 = plan.k1
        self.b = plan.b
        self.stats = stats
        self.expand = expand
        self.layout = layout
        self.memo: Memo = {} if memo is None else memo
        self.mapped: tuple[I64, I32] | None = None
        """(documents, the layout's map holding each one's position + 1) while an AND scores them."""
        self._doc_freqs: dict[tuple[str, str], int] = {}

    def doc_freq(self, field: str, term: str) -> int:
        """:meth:`Layout.doc_freq`, looked up once per query (an AND orders its parts by it, then
        decides by it whether to gather a word's list)."""
        key = (field, term)
        found = self._doc_freqs.get(key)
        if found is None:
            found = self._doc_freqs[key] = self.layout.doc_freq(field, term)
        return found

    def locate(self, docs: I64, values: F64, within: I64) -> tuple[npt.NDArray[np.intp], F64]:
        """:func:`locate`; through the position map when ``within`` is the mapped documents
        and ``docs`` are not many more (a gather instead of binary searches)."""
        mapped = self.mapped
        if mapped is None or mapped[0] is not within or len(docs) > MAP_RATIO * len(within):
            return locate(docs, values, within)
        at = mapped[1][docs]
        hit = np.flatnonzero(at)
        return at[hit].astype(np.intp) - 1, values[hit]

    def phrase(self, field: str, terms: tuple[str, ...]) -> Result:
        """Every document holding ``terms`` (consecutively) in ``field``, with how often; once per query."""
        key = (field, terms)
        found = self.memo.get(key)
        if found is None:
            found = self.layout.postings(field, terms[0]) if len(terms) == 1 else self._phrase(field, terms, None)
            self.memo[key] = found
        return found

    def _phrase(self, field: str, terms: tuple[str, ...], within: I64 | None) -> Result:
        """A phrase of several words: the documents holding every word (from each word's
        postings, whole index, kept for the query), then positions on those alone."""
        docs = within
        for term in sorted(set(terms), key=lambda t: len(self.phrase(field, (t,))[0])):
            found = self.phrase(field, (term,))[0]
            docs = found if docs is None else intersect(docs, found)
            if not len(docs):
                return empty()
        assert docs is not None
        return self.layout.positions(field, terms, docs)

    def phrase_at(self, field: str, terms: tuple[str, ...], within: I64) -> tuple[npt.NDArray[np.intp], F64]:
        """``phrase`` restricted to ``within``, as positions in ``within`` and frequencies: a
        phrase not matched yet is matched on those documents only."""
        if len(terms) == 1 or (field, terms) in self.memo:
            docs, freqs = self.phrase(field, terms)
            return self.locate(docs, freqs, within)
        found, freqs = self._phrase(field, terms, within)
        return np.searchsorted(within, found), freqs


def _text(node: p.Text, ctx: Context, scored: bool) -> Result:
    docs, tf = ctx.phrase(node.field, node.terms)
    return docs, _text_scores(node, ctx, scored, docs, tf)


def _text_scores(node: p.Text, ctx: Context, scored: bool, docs: I64, tf: F64) -> F64:
    """BM25F scores of ``node`` for ``docs`` (with ``tf``, its frequencies in ``node.field``)."""
    pseudo = text_pseudo(node, ctx, docs, tf) if scored else None
    return np.zeros(len(docs)) if pseudo is None else saturate(node, ctx, pseudo)


def text_pseudo(node: p.Text, ctx: Context, docs: I64, tf: F64) -> F64 | None:
    """BM25F's pseudo frequency of ``node`` for ``docs``: the weighted, length-normalised
    frequencies of its fields added up (None: it scores 0 everywhere). Scores grow with it."""
    stats = ctx.stats
    if not len(docs) or stats is None or not node.boosts:
        return None
    pseudo: F64 | None = None  # built in place: a common word's arrays hold most of the index
    fast = kernels.ready() if len(node.terms) == 1 else None
    for field, weight in node.boosts:
        avg = stats.avg_length(field)
        if avg <= 0:
            continue
        norm = ctx.layout.norm(field, avg, ctx.b)
        if field == node.field:
            part = norm[docs]
            np.divide(tf, part, out=part)
            if weight != 1.0:
                part *= weight
            if pseudo is None:
                pseudo = part
            else:
                pseudo += part
            continue
        if fast is not None:  # numba: each segment's postings walked against docs, in place
            if pseudo is None:
                pseudo = np.zeros(len(docs))
            if fused.add_field(fast, ctx.layout, field, node.terms[0], weight, norm, docs, pseudo):
                continue
        at, freqs = ctx.phrase_at(field, node.terms, docs)
        if len(at):  # only the documents holding it there: a title holds few of a body word's
            if pseudo is None:
                pseudo = np.zeros(len(docs))
            pseudo[at] += weight * freqs / norm[docs[at]]
    return pseudo


def saturate(node: p.Text, ctx: Context, pseudo: F64) -> F64:
    """The scores ``idf * tf * (k1 + 1) / (tf + k1)`` of pseudo frequencies ``tf`` (in place)."""
    stats = ctx.stats
    assert stats is not None
    k1 = ctx.k1
    weight_idf = idf(stats.doc_count, stats.doc_freqs.get((node.field, node.terms), 0))
    if k1 > 0:  # a pseudo frequency of 0 scores 0 / k1 = 0
        denominator = pseudo + k1
        pseudo *= weight_idf * (k1 + 1.0)
        pseudo /= denominator
        return pseudo
    scores = np.zeros(len(pseudo))
    np.divide(weight_idf * pseudo * (k1 + 1.0), pseudo + k1, out=scores, where=pseudo > 0)
    return scores


def _keyword(field: str, value: str, weight: float, ctx: Context, scored: bool) -> Result:
    docs, _ = ctx.phrase(field, (value,))
    if not scored or ctx.stats is None or weight <= 0 or not len(docs):
        return docs, np.zeros(len(docs))
    stats = ctx.stats
    return docs, np.full(len(docs), weight * idf(stats.doc_count, stats.doc_freqs.get((field, (value,)), 0)))


def _union(parts: list[Result], layout: Layout | None = None) -> Result:
    """OR: every document of any part, its scores added one part after another, in list order.

    A document's sum is ``((s0 + s1) + s2) + ...`` over the parts holding it, whatever the others
    hold -- on both paths (numba's pairwise merges, numpy's passes below), so their scores are
    bit-identical and equal scores tie the same way on both.
    """
    parts = [r for r in parts if len(r[0])]
    if not parts:
        return empty()
    if len(parts) == 1:
        return parts[0]
    fast = kernels.ready()
    if fast is not None:  # pairwise merges, left to right: a document's scores add up in child order
        docs, scores = parts[0]
        for more, more_scores in parts[1:]:
            docs, scores = fast.merge_sum(docs, scores, more, more_scores)
        return docs, scores
    low = min(int(r[0][0]) for r in parts)
    span = max(int(r[0][-1]) for r in parts) + 1 - low
    if sum(len(r[0]) for r in parts) * DENSE_UNION >= span:
        # Dense: the scores added in arrays over the range, part after part (the same order).
        if layout is not None:
            in_scratch = _dense_union(parts, layout, low, span)
            if in_scratch is not None:
                return in_scratch
        seen = np.zeros(span, dtype=np.bool_)
        acc = np.zeros(span)
        for i, (part, part_scores) in enumerate(parts):
            at = part - low if low else part
            seen[at] = True
            if i:
                acc[at] += part_scores
            else:
                acc[at] = part_scores
        present = np.flatnonzero(seen)
        found: I64 = present + low if low else present.astype(np.int64)
        return found, acc[present]
    docs = np.concatenate([r[0] for r in parts])
    scores = np.concatenate([r[1] for r in parts])
    order = np.argsort(docs, kind="stable")  # merges the sorted runs; a document's scores stay in child order
    docs, scores = docs[order], scores[order]
    heads = np.flatnonzero(np.concatenate([[True], docs[1:] != docs[:-1]]))
    # Not np.add.reduceat: it adds a run as s0 + (s1 + s2 + ...) (pairwise), which differs from
    # the kernel's left fold in the last bit. Instead one pass per rank k: every document in more
    # than k parts adds its (k+1)-th score (the passes shrink with the documents still adding).
    summed: F64 = scores[heads]
    sizes = np.diff(np.append(heads, len(docs)))
    adding = np.flatnonzero(sizes > 1)
    k = 1
    while len(adding):
        summed[adding] += scores[heads[adding] + k]
        k += 1
        adding = adding[sizes[adding] > k]
    return docs[heads], summed


def _dense_union(parts: list[Result], layout: Layout, low: int, span: int) -> Result | None:
    """:func:`_union` in this thread's arrays over all documents (None: they are in use)."""
    acc = layout.take("sums", np.float64)
    seen = layout.take("seen", np.bool_)
    try:
        if acc is None or seen is None:
            return None
        for i, (part, part_scores) in enumerate(parts):
            seen[part] = True
            if i:
                acc[part] += part_scores
            else:
                acc[part] = part_scores
        present = np.flatnonzero(seen[low : low + span])
        if low:
            present += low
        found: I64 = present.astype(np.int64, copy=False)
        return found, acc[found]
    finally:
        for part, _ in parts:
            if acc is not None:
                acc[part] = 0.0
            if seen is not None:
                seen[part] = False
        if acc is not None:
            layout.give("sums")
        if seen is not None:
            layout.give("seen")


def _prefix(node: p.Prefix, ctx: Context, scored: bool) -> Result:
    words = ctx.expand(node)
    if node.boosts:
        return _union([_text(p.Text(node.field, (w,), node.boosts), ctx, scored) for w in words], ctx.layout)
    return _union([_keyword(node.field, w, 0.0, ctx, False) for w in words], ctx.layout)


def _dates(layout: Layout, node: p.Dates, docs: I64 | None) -> I64:
    dates = layout.dates()
    if docs is None:
        return np.flatnonzero((dates >= node.low) & (dates <= node.high)).astype(np.int64)
    picked = dates[docs]
    return docs[(picked >= node.low) & (picked <= node.high)]


def _match_order(child: p.PlanNode, ctx: Context) -> tuple[int, int]:
    """Which parts of an AND are matched first: keywords (usually short), then single words by
    how many documents hold them (counted from slice lengths: nothing gathered), then the rest.
    The intersection shrinks early, and the longest lists are looked up rather than gathered."""
    if isinstance(child, p.Keyword):
        return 0, 0
    if isinstance(child, p.Text) and len(child.terms) == 1:
        return 1, ctx.doc_freq(child.field, child.terms[0])
    return 2, 0


def _all_of(node: p.AllOf, ctx: Context, scored: bool) -> Result:
    """AND (-NOT): match every part first, then score the parts only on the documents left.

    Words and phrases are matched without scoring (their frequencies kept); their BM25F
    scores -- lookups in the other fields and length normalisation -- are computed for the
    intersection alone, which a filter (dates, an entity) or another word makes small.
    """
    parts: list[tuple[p.PlanNode, I64, F64]] = []  # (child, its documents, frequencies or scores)
    docs: I64 | None = None
    matched: list[p.PlanNode] = [c for c in node.must if not isinstance(c, (p.Dates, p.Every))]
    for child in sorted(matched, key=lambda c: _match_order(c, ctx)):  # the shortest lists first
        if isinstance(child, p.Text):
            key = (child.field, child.terms)
            if (
                docs is not None
                and len(child.terms) == 1
                and key not in ctx.memo
                and len(docs) * WITHIN_RATIO < ctx.doc_freq(child.field, child.terms[0])
            ):  # a few documents left: look them up in a long list rather than gather it
                found, values = ctx.layout.postings_within(child.field, child.terms[0], docs)
                parts.append((child, found, values))
                docs = found  # those of docs the word holds: nothing left to intersect
                if not len(docs):
                    return empty()
                continue
            found, values = ctx.phrase(child.field, child.terms)
        else:
            found, values = evaluate(child, ctx, scored)
        parts.append((child, found, values))
        docs = found if docs is None else intersect(docs, found)
        if not len(docs):
            return empty()
    dates = [c for c in node.must if isinstance(c, p.Dates)]
    if docs is None:  # only dates and "every document"
        docs = np.arange(ctx.layout.size, dtype=np.int64) if not dates else _dates(ctx.layout, dates[0], None)
        dates = dates[1:]
    for window in dates:
        docs = _dates(ctx.layout, window, docs)
    for child in node.must_not:
        if not len(docs):
            break
        excluded, _ = evaluate(child, ctx, False)
        if len(excluded):
            docs = docs[~np.isin(docs, excluded, assume_unique=True)]
    if not len(docs):
        return empty()
    scores = np.zeros(len(docs))
    if scored and ctx.stats is not None:
        by_child = {id(child): (found, values) for child, found, values in parts}
        posmap: I32 | None = ctx.layout.take("map", np.int32) if ctx.mapped is None else None
        if posmap is not None:  # each document's position + 1, for the lookups below
            posmap[docs] = np.arange(1, len(docs) + 1, dtype=np.int32)
            ctx.mapped = (docs, posmap)
        try:
            rows = _fused_rows(matched, by_child, ctx, docs, posmap) if posmap is not None else {}
            for child in matched:  # scores add up in the plan's order
                row = rows.get(id(child))
                if row is not None:
                    scores += row
                    continue
                found, values = by_child[id(child)]
                if isinstance(child, p.Text):
                    scores += _text_scores(child, ctx, scored, docs, _at_members(found, values, docs, posmap))
                else:
                    scores += _at_members(found, values, docs, posmap)
        finally:
            if posmap is not None:
                posmap[docs] = 0
                ctx.mapped = None
                ctx.layout.give("map")
    return docs, scores


def _at_members(found: I64, values: F64, docs: I64, posmap: I32 | None) -> F64:
    """``values`` (aligned with ``found``) at ``docs``, a subset of ``found``: as they are when
    both hold the same documents (the part that narrowed the AND last), else looked up."""
    if len(found) == len(docs):
        return values
    return values[_members(found, docs, posmap)]


def _members(found: I64, docs: I64, posmap: I32 | None) -> npt.NDArray[np.intp]:
    """Where each of ``docs`` (a subset of ``found``) sits in ``found``."""
    if posmap is not None and len(found) <= MAP_RATIO * len(docs):
        return np.flatnonzero(posmap[found])  # docs is a subset of found: in the same order
    return members(found, docs)


def _fused_rows(
    matched: list[p.PlanNode], by_child: dict[int, tuple[I64, F64]], ctx: Context, docs: I64, posmap: I32
) -> dict[int, F64]:
    """The BM25F scores over ``docs`` of an AND's single words that :func:`.fused.and_rows`
    scores together, by ``id`` of the part; {} when off, unscorable, or on numba's path (each
    word's other fields are walked in place by ``add_field`` there instead)."""
    stats = ctx.stats
    if not fused.ENABLED or stats is None or ctx.k1 <= 0 or kernels.ready() is not None:
        return {}

    def tf_of(word: p.Text) -> F64:
        found, values = by_child[id(word)]
        return _at_members(found, values, docs, posmap)

    return fused.and_rows(matched, tf_of, docs, posmap, ctx.layout, stats, ctx.k1, ctx.b)


def evaluate(node: p.PlanNode, ctx: Context, scored: bool = True) -> Result:
    """Matches of ``node`` over the whole layout (deleted documents included: the caller masks them)."""
    if isinstance(node, p.Text):
        return _text(node, ctx, scored)
    if isinstance(node, p.Keyword):
        return _keyword(node.field, node.value, node.weight, ctx, scored)
    if isinstance(node, p.Prefix):
        return _prefix(node, ctx, scored)
    if isinstance(node, p.Dates):
        docs = _dates(ctx.layout, node, None)
        return docs, np.zeros(len(docs))
    if isinstance(node, p.Every):
        return np.arange(ctx.layout.size, dtype=np.int64), np.zeros(ctx.layout.size)
    if isinstance(node, p.Nothing):
        return empty()
    if isinstance(node, p.AllOf):
        return _all_of(node, ctx, scored)
    return _union([evaluate(child, ctx, scored) for child in node.children], ctx.layout)
