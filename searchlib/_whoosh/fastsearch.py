"""Set-at-a-time evaluation of the common query shapes over Whoosh's posting blocks.

Whoosh evaluates a query one document at a time through a tree of matcher objects: several
Python method calls per posting (``next``, ``id``, ``score``, ``skip_to``, span checks). For
the shapes most searches have -- a word, a phrase, an AND of words and phrases, an OR of
words, on one text field -- this module reads each term's posting blocks whole (document
numbers and frequencies; positions only for phrases), intersects document sets with Python's
set operations (which run in C), checks phrase positions only for the survivors, and scores
with Whoosh's BM25F formula, parameters and field lengths. Any other shape returns ``None``
and is evaluated by Whoosh. tests/test_fastsearch.py compares both on random queries.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import pickle
import weakref
from collections.abc import Sequence
from typing import Any

from whoosh import query as wq
from whoosh import scoring
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.searching import Searcher

from searchlib._whoosh.scoring import field_lengths

__all__ = ["Matches", "best", "evaluate", "term_docs"]

Matches = dict[int, float]
"""Global document number -> score, for every matching document."""

_NORMS: weakref.WeakKeyDictionary[Any, dict[tuple[str, float, float, float], list[float]]] = weakref.WeakKeyDictionary()


class _Unsupported(Exception):
    """The query has a shape (or a field) this evaluator leaves to Whoosh."""


def evaluate(searcher: Searcher, query: wq.Query, allowed: set[int] | None) -> Matches | None:
    """Every document matching ``query`` (within ``allowed``) with Whoosh's score, or None.

    None means the shape is not one this module handles; the caller asks Whoosh instead.
    """
    try:
        _check(query)
        found: Matches = {}
        ordered = sorted(allowed) if allowed is not None else None
        for subsearcher, offset in searcher.leaf_searchers():
            local = None
            if ordered is not None:
                end = offset + subsearcher.reader().doc_count_all()
                window = ordered[bisect.bisect_left(ordered, offset) : bisect.bisect_left(ordered, end)]
                if not window:
                    continue
                local = {d - offset for d in window} if offset else set(window)
            segment = _segment(subsearcher, query, local)
            if segment:
                found.update({offset + d: s for d, s in segment.items()} if offset else segment)
        return found
    except _Unsupported:
        return None


def best(matches: Matches, count: int) -> list[tuple[int, float]]:
    """The ``count`` best (docnum, score) pairs: highest score first, then lowest docnum (Whoosh's order)."""
    chosen = list(matches)
    if len(chosen) > count > 0:
        chosen = heapq.nlargest(count, matches, key=matches.__getitem__)  # a C key: no Python call per match
        cutoff = matches[chosen[-1]]
        above = [d for d in chosen if matches[d] > cutoff]
        tied = sorted(d for d, score in matches.items() if score == cutoff)  # equal scores: lowest docnums
        chosen = above + tied[: count - len(above)]
    return sorted(((d, matches[d]) for d in chosen), key=lambda pair: (-pair[1], pair[0]))[:count]


def term_docs(searcher: Searcher, fieldname: str, text: str) -> set[int]:
    """Global numbers of the live documents containing a term (a filter: no scores)."""
    found: set[int] = set()
    field = searcher.schema[fieldname]
    tbytes = field.to_bytes(text)
    for subsearcher, offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        if (fieldname, tbytes) not in reader:
            continue
        ids: list[int] = []
        _read_postings(reader._terms.matcher(fieldname, tbytes, field.format), ids, None, None)
        docs = set(ids)
        if reader.has_deletions():
            docs.difference_update(reader._perdoc.deleted_docs())
        found.update({offset + d for d in docs} if offset else docs)
    return found


def _check(query: wq.Query) -> None:
    kind = type(query)
    if kind is wq.Term or (kind is wq.Phrase and query.slop == 1):
        return
    if query.boost != 1.0:
        raise _Unsupported
    if kind is wq.And and all(type(c) in (wq.Term, wq.Phrase) for c in query.subqueries):
        for child in query.subqueries:
            _check(child)
        return
    plain_or = kind is wq.Or and not query.minmatch and query.scale is None
    if plain_or and all(type(c) is wq.Term for c in query.subqueries):
        return
    raise _Unsupported


def _segment(searcher: Searcher, query: wq.Query, local: set[int] | None) -> Matches:
    """Matches in one segment (allowed to ``local`` if given), by the segment's own document numbers."""
    reader = searcher.reader()
    if reader.has_deletions():
        deleted = set(reader._perdoc.deleted_docs())
        local = local - deleted if local is not None else None
    else:
        deleted = set()
    kind = type(query)
    if kind is wq.Or:
        found = _union(searcher, query.subqueries, local)
    else:
        found = _intersection(searcher, query.subqueries if kind is wq.And else [query], local)
    if deleted and local is None:
        for docnum in deleted.intersection(found):
            del found[docnum]
    return found


class _Term:
    """One term's postings in one segment, with its BM25F scoring constants."""

    def __init__(self, searcher: Searcher, fieldname: str, text: str, boost: float, positions: bool) -> None:
        reader = searcher.reader()
        field = searcher.schema[fieldname]
        self.format = field.format
        tbytes = field.to_bytes(text)
        self.found = (fieldname, tbytes) in reader
        self.boost = boost
        self.ids: list[int] = []
        self.tfs: list[float] = []
        self.values: list[bytes] = []
        if not self.found:
            return
        scorer = searcher.weighting.scorer(searcher, fieldname, tbytes)
        lengths = field_lengths(reader, fieldname)
        if not isinstance(scorer, scoring.BM25FScorer) or lengths is None:
            raise _Unsupported
        self.idf: float = scorer.idf
        self.k1: float = scorer.K1
        self.norms = _norms(reader, fieldname, lengths, scorer.avgfl, scorer.B, scorer.K1)
        matcher = reader._terms.matcher(fieldname, tbytes, self.format)
        _read_postings(matcher, self.ids, self.tfs, self.values if positions else None)

    def scores(self, docs: set[int] | None) -> dict[int, float]:
        """BM25F of each of the term's documents (only those in ``docs``), times the term's boost.

        The same expression as Whoosh's BM25FScorer, so the same floats.
        """
        idf, k1, norms = self.idf, self.k1, self.norms
        if docs is None:
            pairs: Any = zip(self.ids, self.tfs, strict=True)
        else:
            tf_of = dict(zip(self.ids, self.tfs, strict=True))
            pairs = ((d, tf_of[d]) for d in docs.intersection(tf_of))
        scores = {d: idf * ((tf * (k1 + 1)) / (tf + norms[d])) for d, tf in pairs}
        boost = self.boost
        return {d: s * boost for d, s in scores.items()} if boost != 1.0 else scores


def _norms(reader: Any, fieldname: str, lengths: list[int], avgfl: float, b: float, k1: float) -> list[float]:
    """``k1 * ((1 - b) + b * length / avgfl)`` per document, cached per segment reader."""
    per_reader = _NORMS.get(reader)
    if per_reader is None:
        per_reader = _NORMS[reader] = {}
    key = (fieldname, avgfl, b, k1)
    norms = per_reader.get(key)
    if norms is None:
        norms = per_reader[key] = [k1 * ((1 - b) + b * length / avgfl) for length in lengths]
    return norms


def _read_postings(matcher: Any, ids: list[int], tfs: list[float] | None, values: list[bytes] | None) -> None:
    """Every posting of a term, a block at a time (Whoosh's matcher decodes them one call each).

    Fills ``ids``, and ``tfs`` (frequencies) and ``values`` (encoded positions) when given.
    """
    if type(matcher) is not W3LeafMatcher:
        while matcher.is_active():
            ids.append(matcher.id())
            if tfs is not None:
                tfs.append(matcher.weight())
            if values is not None:
                values.append(matcher.value())
            matcher.next()
        return
    while not matcher._atend:
        matcher._read_data()
        deltas, weights, _ = matcher._data
        ids.extend(itertools.accumulate(deltas))
        if tfs is not None:
            if weights is None:
                tfs.extend(itertools.repeat(1.0, matcher._blocklength))
            elif isinstance(weights, float):
                tfs.extend(itertools.repeat(weights, matcher._blocklength))
            else:
                tfs.extend(weights)
        if values is not None:
            matcher._read_values()
            values.extend(matcher._values)
        matcher._next_block()


def _union(searcher: Searcher, children: Sequence[wq.Query], local: set[int] | None) -> Matches:
    total: Matches = {}
    for child in children:
        term = _Term(searcher, child.fieldname, child.text, child.boost, positions=False)
        if not term.found:
            continue
        scores = term.scores(local)
        both = {d: total[d] + scores[d] for d in total.keys() & scores.keys()}  # only shared documents in Python
        total.update(scores)
        total.update(both)
    return total


def _intersection(searcher: Searcher, parts: Sequence[wq.Query], local: set[int] | None) -> Matches:
    """AND of terms and phrases; a phrase is the AND of its words plus a position check."""
    groups: list[tuple[list[_Term], float, bool]] = []  # (terms, boost, is phrase)
    for part in parts:
        if type(part) is wq.Term:
            groups.append(([_Term(searcher, part.fieldname, part.text, part.boost, positions=False)], 1.0, False))
        else:
            words = [_Term(searcher, part.fieldname, w, 1.0, positions=True) for w in part.words]
            groups.append((words, part.boost, True))
    terms = [t for group, _, _ in groups for t in group]
    if not terms or not all(t.found for t in terms):
        return {}
    if len(terms) == 1 and local is None:
        return terms[0].scores(None)
    docs = set(min(terms, key=lambda t: len(t.ids)).ids)
    if local is not None:
        docs &= local
    for term in terms:
        if not docs:
            return {}
        docs.intersection_update(term.ids)
    for group, _, phrase in groups:
        if phrase and docs:
            docs = _with_phrase(group, docs)
    if not docs:
        return {}
    total = dict.fromkeys(docs, 0.0)
    for group, boost, phrase in groups:
        scored = [t.scores(docs) for t in group]
        if not phrase:
            for docnum, score in scored[0].items():
                total[docnum] += score
            continue
        for docnum in docs:
            score = sum(s[docnum] for s in scored)
            total[docnum] += score * boost if boost != 1.0 else score
    return total


def _with_phrase(words: list[_Term], docs: set[int]) -> set[int]:
    """The documents of ``docs`` where the words occur at consecutive positions."""
    order = list(docs)
    positions = []
    for word in words:
        value_of = dict(zip(word.ids, word.values, strict=True))
        positions.append(_decode_many([value_of[d] for d in order]))
    kept = set()
    for j, docnum in enumerate(order):
        starts = set(positions[0][j])
        for i in range(1, len(words)):
            starts.intersection_update([p - i for p in positions[i][j]])
            if not starts:
                break
        if starts:
            kept.add(docnum)
    return kept


_PROTOCOL_2 = b"\x80\x02"


def _decode_many(values: list[bytes]) -> list[tuple[int, ...]]:
    """``formats.Positions.decode_positions`` of many values with one ``pickle.loads``.

    Each value is a 4-byte count and a protocol-2 pickle of a list of position deltas; the
    pickles' bodies, between one MARK and a TUPLE, unpickle as a tuple of those lists.
    """
    if not all(v[4:6] == _PROTOCOL_2 and v.endswith(b".") for v in values):
        return [_decode_positions(v) for v in values]
    deltas = pickle.loads(b"".join([_PROTOCOL_2 + b"(", *[v[6:-1] for v in values], b"t."]))
    return [tuple(itertools.accumulate(d)) for d in deltas]


def _decode_positions(value: bytes) -> tuple[int, ...]:
    """``formats.Positions.decode_positions``: a 4-byte count, then pickled position deltas."""
    if not value.endswith(b"."):
        value += b"."
    return tuple(itertools.accumulate(pickle.loads(value[4:])))
