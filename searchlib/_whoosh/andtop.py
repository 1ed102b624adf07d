"""A word, or an AND of words, ranked end to end by one numba call per segment.

The numpy path matches a query in steps -- gather each word's postings, intersect, apply the
date window and deletions, look each word up in its other fields, normalise, saturate, add, then
rank every match -- each step a few numpy calls on arrays of every match: ~160 numpy and ~900
Python calls for an AND of three words (benchmarks/README.md, session 7). Here numba's
``and_top`` does all of it in one walk of a segment's memory-mapped postings: the lists
intersected by galloping (the shortest drives), each match filtered (deletions, a date window,
keyword values such as an entity), counted, scored by BM25F and kept in a heap of the best
``offset + limit`` -- plus every match tying with the last of them, so that article ids, which
live outside the kernel, break ties exactly as :func:`.topk.top` does on the numpy path.

It takes the plans it can do exactly: a single word alone, or an AND (no NOT) of single words
sharing their field and field weights, with any date windows and keyword values (scored
``weight * idf``, as ``evaluate._keyword``). Anything else (phrases, OR, prefixes, NOT, sort by
date, collapsing, recency, a kernel not yet compiled for a segment's dtypes) returns None and
takes the numpy path. Scores are bit-identical to the numpy path's: the kernel performs the same
float64 operations in the same order (fields in boost order from 0.0, ``tf / norm`` times the
weight for the word's own field and ``weight * tf / norm`` for the others, the saturation
``pseudo * (idf * (k1 + 1)) / (pseudo + k1)``, the parts added from 0.0 in plan order);
``tests/test_andtop.py`` compares both with ``==``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from searchlib import plan as p
from searchlib._whoosh import kernels
from searchlib._whoosh.evaluate import Context
from searchlib._whoosh.topk import MARGIN, top
from searchlib.engine import Ranked, idf

if TYPE_CHECKING:
    from searchlib._whoosh.engine import ColumnarSnapshot

__all__ = ["ENABLED", "MAX_KEPT_BYTES", "MAX_KEPT_WORDS", "MAX_PARTS", "page", "shape"]

ENABLED = True
"""Rank the plans this module takes with numba's ``and_top`` (False: the numpy path; tests compare)."""

MAX_PARTS = 64
"""An AND of more parts takes the numpy path (the kernel counts a document's lists in a byte)."""

MAX_KEPT_WORDS = 4096
"""Words alone whose prepared kernel calls (and block bounds) a snapshot keeps; beyond it, it
starts again empty; 0 keeps none (benchmarks measure first sight so)."""

MAX_KEPT_BYTES = 64 << 20
"""Bytes of block bounds a snapshot keeps at most (a common word's in a large index are ~1 MB)."""

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_NO_LIVE = np.zeros(0, dtype=np.bool_)
_NO_DATES = np.zeros(0, dtype=np.int64)
_NO_KEYS = np.zeros(0, dtype=np.int64)
_NO_RANGES = np.zeros((0, 2), dtype=np.int64)
_NOTHING = (np.zeros(0), _NO_KEYS, np.zeros(0), _NO_KEYS)  # and_top takes no prepared bounds
_ONE = np.ones(1)


class Shape:
    """A plan this module ranks: its words (plan order), keyword values and date window."""

    def __init__(
        self, words: list[p.Text], parts: list[p.PlanNode], keywords: list[p.Keyword], window: tuple[int, int] | None
    ) -> None:
        self.words = words
        self.parts = parts  # the scored parts, in plan order: words and keywords
        self.keywords = keywords
        self.window = window


def shape(root: p.PlanNode) -> Shape | None:
    """The words, keywords and date window of ``root`` when the kernel can rank it, else None."""
    if isinstance(root, p.Text):
        if len(root.terms) != 1 or not root.boosts:
            return None
        return Shape([root], [root], [], None)
    if not isinstance(root, p.AllOf) or root.must_not:
        return None
    words: list[p.Text] = []
    parts: list[p.PlanNode] = []
    keywords: list[p.Keyword] = []
    window: tuple[int, int] | None = None
    for child in root.must:
        if isinstance(child, p.Text):
            if len(child.terms) != 1 or not child.boosts:
                return None
            if words and (child.field != words[0].field or child.boosts != words[0].boosts):
                return None
            words.append(child)
            parts.append(child)
        elif isinstance(child, p.Keyword):
            keywords.append(child)
            parts.append(child)
        elif isinstance(child, p.Dates):
            window = (
                (child.low, child.high) if window is None else (max(window[0], child.low), min(window[1], child.high))
            )
        elif not isinstance(child, p.Every):
            return None
    if not words or len(parts) > MAX_PARTS:
        return None
    return Shape(words, parts, keywords, window)


def _writable(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if array.flags.writeable and array.flags.c_contiguous:
        return array
    return np.array(array, copy=True)


def page(snap: ColumnarSnapshot, root: p.PlanNode, ctx: Context, offset: int, limit: int) -> Ranked | None:
    """The page ``offset:offset + limit`` of ``root`` ranked by score, with the exact total,
    from numba's ``and_top``; None when the plan or the segments' arrays are not for it."""
    fast = kernels.ready()
    stats = ctx.stats
    if not ENABLED or fast is None or stats is None or ctx.k1 <= 0:
        return None
    found = shape(root)
    if found is None:
        return None
    alone = len(found.words) == 1 and not found.keywords  # word_top's: a date window only filters
    words = found.words
    field = words[0].field
    kept: _KeptWords | None = snap._lazy.get("andtop_words")
    if kept is None:
        kept = snap._lazy.setdefault("andtop_words", _KeptWords())
    if alone:  # a word searched before with the same statistics (any window): its kernel calls are ready
        word = words[0]
        key = (
            field,
            word.terms,
            word.boosts,
            ctx.k1,
            ctx.b,
            stats.doc_count,
            stats.doc_freqs.get((field, word.terms), 0),
            tuple(stats.avg_length(name) for name, _ in word.boosts),
            min(offset + limit, ctx.layout.size),  # the calls' wanted, as computed below
        )
        ready_calls = kept.get(key)
        if ready_calls is not None:
            return _word_page(snap, fast, ready_calls, offset, found.window)
    slots: list[tuple[str, float]] = []  # the fields each word scores in, in boost order
    order: list[int] = []
    norms: list[F64] = [_ONE, _ONE, _ONE]
    weights = [1.0, 1.0, 1.0]
    for name, weight in words[0].boosts:
        avg = stats.avg_length(name)
        if avg <= 0:
            continue
        slot = 0 if name == field else len(slots) + 1
        if slot:
            if len(slots) == 2:
                return None
            slots.append((name, weight))
        order.append(slot)
        norms[slot] = ctx.layout.norm(name, avg, ctx.b)
        weights[slot] = weight
    layout = ctx.layout
    keyword_docs = [ctx.phrase(k.field, (k.value,))[0] for k in found.keywords]
    kdocs = _writable(np.concatenate(keyword_docs)) if keyword_docs else _NO_KEYS
    kstarts = [0]
    for docs in keyword_docs:
        kstarts.append(kstarts[-1] + len(docs))
    k1 = ctx.k1
    factors = [idf(stats.doc_count, stats.doc_freqs.get((w.field, w.terms), 0)) * (k1 + 1.0) for w in words]
    consts = [
        part.weight * idf(stats.doc_count, stats.doc_freqs.get((part.field, (part.value,)), 0))
        if isinstance(part, p.Keyword) and part.weight > 0
        else 0.0
        for part in found.parts
    ]
    floats = np.array([weights[0], weights[1], weights[2], k1, 1.0 if weights[0] != 1.0 else 0.0])
    order_arr = np.array(order, dtype=np.int64)
    documents = layout.size
    wanted = min(offset + limit, documents)  # the kernels' heaps: never past every document
    if alone and len(order) == 3 and order[-1] == 0:
        return None  # word_top adds the word's own field first: (p0 + p1) + p2 would round otherwise
    live = _writable(snap.live()) if snap._deleted else _NO_LIVE
    window = found.window
    dates = _writable(layout.dates()) if window is not None else _NO_DATES
    jobs = []
    ready: set[tuple[int, str, tuple[tuple[str, float], ...]]] = snap._lazy.setdefault("andtop_ready", set())
    for at, (cols, base) in enumerate(layout.parts):
        fp = cols.fields[field]
        if fp.freqs is None:
            return None
        own = [fp.term_range(word.terms[0]) for word in words]
        if any(hi == lo for lo, hi in own):
            continue
        spans = [own]
        arrays: list[npt.NDArray[Any]] = [fp.docs, fp.freqs]
        for name, _ in slots:
            other = cols.fields.get(name)
            if other is None or other.freqs is None:
                return None
            arrays += [other.docs, other.freqs]
            spans.append([other.term_range(word.terms[0]) for word in words])
        while len(arrays) < 6:  # an unused slot: the word's own field, empty ranges
            arrays += [fp.docs, fp.freqs]
            spans.append([(0, 0)] * len(words))
        ranges = np.array(spans, dtype=np.int64)  # (slot, word, lo / hi)
        known = (at, field, tuple(slots))
        if known not in ready:  # compiled for these dtypes (once true, true for the snapshot)
            if not kernels.and_top_ready(fast, arrays):
                return None
            ready.add(known)
        if alone:
            # the word's bounds per block of postings and its postings other fields add to,
            # filled by the kernel on the word's first search (see _word_page for the later ones)
            extra = int((ranges[1:, 0, 1] - ranges[1:, 0, 0]).sum())
            cached = (
                np.zeros(-(-(own[0][1] - own[0][0]) // fast.BLOCK)),
                np.zeros(extra, dtype=np.int64),
                np.zeros(extra),
                np.full(1, -1, dtype=np.int64),  # how many of those: -1 until the kernel filled the bounds
            )
            kranges = _NO_RANGES
            meta = np.array([base, wanted, len(live) > 0, 1, *_window_meta(window)], dtype=np.int64)
        else:
            kranges = np.zeros((len(keyword_docs), 2), dtype=np.int64)
            for i, docs in enumerate(keyword_docs):
                kranges[i] = np.searchsorted(docs, [base, base + cols.doc_count]) + kstarts[i]
            low, high = window if window is not None else (0, 0)
            meta = np.array(
                [base, wanted, low, high, len(live) > 0, window is not None, cols.doc_count], dtype=np.int64
            )
            cached = _NOTHING
        jobs.append((arrays, ranges, kranges, meta, cached))
    if not alone:
        factor_arr = np.array(factors)
        plan_word = np.array([words.index(w) if isinstance(w, p.Text) else -1 for w in found.parts], dtype=np.int64)
        plan_const = np.array(consts)
    total = 0
    score_parts: list[F64] = []
    doc_parts: list[I64] = []
    for arrays, ranges, kranges, meta, cached in jobs:
        if alone:  # blocks that vectorise over a common word's many matches, most skipped
            scores, docs, count = fast.word_top(
                *arrays, ranges, norms[0], norms[1], norms[2], live, dates, meta, order_arr, floats,
                factors[0], MARGIN, *cached,
            )  # fmt: skip
        else:
            scores, docs, count = fast.and_top(
                *arrays, ranges, kdocs, kranges, norms[0], norms[1], norms[2], live, dates, meta, order_arr, floats,
                factor_arr, plan_word, plan_const,
            )  # fmt: skip
        total += count
        if len(docs):
            score_parts.append(scores)
            doc_parts.append(docs)
    if alone and wanted and MAX_KEPT_WORDS > 0 and all(cached[3][0] >= 0 for *_, cached in jobs):
        # published only now, filled (every call asked for a page fills them, even one with no
        # match to rank -- none live, none in its window -- whose bounds serve other windows):
        # another thread must never find bounds still being written, nor any search bounds never
        # written
        calls = [(arrays, ranges, _filled(meta), cached) for arrays, ranges, _k, meta, cached in jobs]
        kept.keep(key, _Prepared(calls, norms, live, order_arr, floats, factors[0], wanted))
    if not total or not limit or not doc_parts:
        return Ranked(np.zeros(0, dtype=np.int64), np.zeros(0), total)
    return _ranked(snap, doc_parts, score_parts, offset, wanted, total)


class _KeptWords(dict[Any, "_Prepared"]):
    """A snapshot's prepared words, bounded by :data:`MAX_KEPT_WORDS` and :data:`MAX_KEPT_BYTES`."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0  # (threads may race on it: an estimate, which only moves when it starts again)

    def keep(self, key: Any, prepared: _Prepared) -> None:
        size = sum(int(a.nbytes) for _arrays, _ranges, _meta, cached in prepared.calls for a in cached)
        if len(self) >= MAX_KEPT_WORDS or self.bytes + size > MAX_KEPT_BYTES:
            self.clear()
            self.bytes = 0
        self[key] = prepared
        self.bytes += size


class _Prepared:
    """A word alone's ``word_top`` calls, one per segment, with bounds its first search filled."""

    def __init__(
        self,
        calls: list[tuple[list[npt.NDArray[Any]], I64, I64, tuple[F64, I64, F64, I64]]],
        norms: list[F64],
        live: npt.NDArray[np.bool_],
        order: I64,
        floats: F64,
        factor: float,
        wanted: int,
    ) -> None:
        self.calls = calls
        self.norms = norms
        self.live = live
        self.order = order
        self.floats = floats
        self.factor = factor
        self.wanted = wanted


def _window_meta(window: tuple[int, int] | None) -> tuple[int, int, int]:
    """``word_top``'s meta for a date window: whether one applies, its low and high keys."""
    return (0, 0, 0) if window is None else (1, window[0], window[1])


def _filled(meta: I64) -> I64:
    """``meta`` of a ``word_top`` call whose bounds are filled (read, not written), without a window."""
    again = meta.copy()
    again[3] = 0
    again[4:7] = _window_meta(None)
    return again


def _word_page(
    snap: ColumnarSnapshot, fast: Any, ready: _Prepared, offset: int, window: tuple[int, int] | None
) -> Ranked:
    """The page of a word searched before (alone or within ``window``): its kept calls, block
    bounds read, not computed."""
    total = 0
    score_parts: list[F64] = []
    doc_parts: list[I64] = []
    norm0, norm1, norm2 = ready.norms
    dates = _NO_DATES if window is None else _writable(snap.layout.dates())
    for arrays, ranges, meta, cached in ready.calls:
        if window is not None:
            meta = meta.copy()
            meta[4:7] = _window_meta(window)
        scores, docs, count = fast.word_top(
            *arrays, ranges, norm0, norm1, norm2, ready.live, dates, meta, ready.order, ready.floats,
            ready.factor, MARGIN, *cached,
        )  # fmt: skip
        total += count
        if len(docs):
            score_parts.append(scores)
            doc_parts.append(docs)
    if not total or not doc_parts:
        return Ranked(np.zeros(0, dtype=np.int64), np.zeros(0), total)
    return _ranked(snap, doc_parts, score_parts, offset, ready.wanted, total)


def _ranked(
    snap: ColumnarSnapshot, doc_parts: Sequence[I64], score_parts: Sequence[F64], offset: int, wanted: int, total: int
) -> Ranked:
    """The page of the segments' candidates, ranked as the numpy path ranks every match."""
    docs = np.concatenate(doc_parts) if len(doc_parts) > 1 else doc_parts[0]
    scores = np.concatenate(score_parts) if len(score_parts) > 1 else score_parts[0]
    by_score = np.argsort(-scores, kind="stable")  # a few candidates: sorted outright
    head = scores[by_score[: wanted + 1]]
    if not (head[1:] == head[:-1]).any():  # no ties on the page: no article id is looked up
        chosen: npt.NDArray[np.intp] = by_score[offset:wanted]
        return Ranked(docs[chosen], scores[chosen], total)
    by_doc = np.argsort(docs)  # ascending, as the tie-breaking helpers expect
    docs, scores = docs[by_doc], scores[by_doc]

    def ranks(indices: I64) -> I64:
        return snap._local_id_ranks(docs[indices])

    def smallest(indices: I64, need: int) -> npt.NDArray[np.intp] | None:
        return snap._smallest_ids(docs[indices], need)

    chosen = top(-scores, ranks, wanted, smallest)[offset:]
    return Ranked(docs[chosen], scores[chosen], total)
