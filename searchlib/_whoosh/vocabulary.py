"""Reads of the indexed vocabulary on the columns: more like this and "did you mean".

Since index format 9 Whoosh holds no postings for the text fields, so what used Whoosh's
term statistics reads the segments' columnar arrays instead:

* :func:`key_terms` picks a text's most distinctive body terms with the Bo1 model of
  Whoosh's ``Expander`` (``key_terms_from_text``), the same formula, on the same statistics
  (collection frequency and document count, deleted documents included, as Whoosh counts
  them), and :func:`more_like` ranks the index's articles for those weighted terms with
  searchlib's BM25F (the engine's ``evaluate``), as an archive does.
* :func:`spelling` finds, for a word no live article holds, the indexed stems within two
  edits sharing its first letter (Whoosh's ``terms_within(..., prefix=1)``), and the written
  form of the best one in a few articles holding it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np

from searchlib import analysis
from searchlib import plan as p
from searchlib._whoosh import schema as sch
from searchlib._whoosh.columnar import TEXT_FIELDS
from searchlib._whoosh.search import RawHit, column_reader, edit_distance

if TYPE_CHECKING:
    from searchlib._whoosh.engine import ColumnarSnapshot

__all__ = ["Spelling", "doc_frequency", "key_terms", "like_terms", "more_like", "spelling", "suggestions"]

FIELD = "body"
"""More like this and spelling read the body field (which also holds the title and entity names)."""
SURFACE_DOCS = 5
"""Articles read for the written form of a suggested stem."""


def _collection_frequency(snap: ColumnarSnapshot, field: str, term: str) -> int | None:
    """Total occurrences of ``term`` in ``field`` over every document, or None when no segment has it."""
    total: int | None = None
    for seg in snap.segments:
        fp = seg.cols.fields[field]
        tid = fp.term_id(term)
        if tid < 0:
            continue
        lo, hi = fp.slice(tid)
        assert fp.freqs is not None
        total = (total or 0) + int(np.asarray(fp.freqs[lo:hi], dtype=np.int64).sum())
    return total


def doc_frequency(snap: ColumnarSnapshot, field: str, term: str) -> int:
    """Live documents whose ``field`` holds ``term``."""
    total = 0
    for seg in snap.segments:
        fp = seg.cols.fields[field]
        tid = fp.term_id(term)
        if tid < 0:
            continue
        lo, hi = fp.slice(tid)
        total += hi - lo if seg.live is None else int(np.count_nonzero(seg.live[fp.docs[lo:hi]]))
    return total


def key_terms(snap: ColumnarSnapshot, text: str, numterms: int) -> list[tuple[str, float]]:
    """The ``numterms`` most distinctive body terms of ``text`` with their normalised Bo1 weights.

    Whoosh's ``Expander`` with ``Bo1Model`` and ``normalize=True``: a term's weight in the
    text ``w``, its frequency in the collection ``cf`` and the document count ``N`` (both
    counting deleted documents, as Whoosh's do) give ``w·log2((1+f)/f) + log2(1+f)`` with
    ``f = cf/N``, divided by the same formula for the best score; ties by term.
    """
    weights: dict[str, float] = {}
    for term, positions in analysis.positions(text).items():
        weights[term] = weights.get(term, 0.0) + len(positions)
    n = snap.size
    if not weights or not n:
        return []
    scored: list[tuple[float, str]] = []
    best = 0.0
    for term, weight in weights.items():
        cf = _collection_frequency(snap, FIELD, term)
        if cf is None:
            continue
        f = cf / n
        score = weight * math.log((1.0 + f) / f, 2) + math.log(1.0 + f, 2)
        best = max(best, score)
        scored.append((score, term))
    if not scored:
        return []
    f = best / n
    norm = (best * math.log((1.0 + f) / f) + math.log(1.0 + f)) / math.log(2.0)
    ranked = sorted(((score / norm, term) for score, term in scored), key=lambda x: (-x[0], x[1]))
    return [(term, weight) for weight, term in ranked[:numterms]]


def like_terms(
    snap: ColumnarSnapshot, doc_id: str, numterms: int
) -> tuple[tuple[tuple[str, float], ...], tuple[str, ...]] | None:
    """(the most distinctive body terms of ``doc_id`` with their weights, ids of its near-duplicates).

    ``None`` when the index has no article with that id.
    """
    docnum = snap.docnum_of(doc_id)
    if docnum is None:
        return None
    body = bytes(column_reader(snap.searcher.reader(), "body_text")[docnum]).decode("utf-8")
    terms = key_terms(snap, body, numterms)
    return tuple(terms), snap._copies(int(docnum))


def like_plan(terms: Sequence[tuple[str, float]], k1: float, b: float) -> p.Plan:
    """The plan ranking articles for weighted body terms (any of them matches)."""
    leaves = tuple(p.Text(FIELD, (term,), ((FIELD, weight),)) for term, weight in terms if weight > 0)
    return p.Plan(p.AnyOf(leaves) if leaves else p.Nothing(), k1, b)


def more_like(
    snap: ColumnarSnapshot, doc_id: str, limit: int, numterms: int, k1: float, b: float
) -> list[RawHit] | None:
    """Articles sharing the most distinctive terms of ``doc_id``'s body, best first; the article
    and its near-duplicates are left out. ``None`` when there is no article with that id."""
    found = like_terms(snap, doc_id, numterms)
    if found is None:
        return None
    terms, copies = found
    hidden = {doc_id, *copies}
    ranked = snap.evaluate(like_plan(terms, k1, b), limit=limit + len(hidden))
    ids = snap.ids()
    chosen = [
        (int(d), float(s)) for d, s in zip(ranked.docnums.tolist(), ranked.scores.tolist(), strict=True)
        if str(ids[d]) not in hidden
    ][:limit]  # fmt: skip
    articles = snap.articles([d for d, _ in chosen])
    return [RawHit(d, s, a) for (d, s), a in zip(chosen, articles, strict=True)]


@attrs.frozen
class Spelling:
    """One index's view of a word for "did you mean": whether it holds it, else its closest word."""

    present: bool
    distance: int = 0
    frequency: int = 0
    stem: str = ""
    surface: str | None = None


def _within(snap: ColumnarSnapshot, stem: str, maxdist: int) -> set[str]:
    """Indexed body stems within ``maxdist`` edits of ``stem`` that share its first letter."""
    found: set[str] = set()
    for seg in snap.segments:
        for term in seg.cols.fields[FIELD].with_prefix(stem[:1]):
            if term not in found and abs(len(term) - len(stem)) <= maxdist and edit_distance(term, stem) <= maxdist:
                found.add(term)
    return found


def _surface_form(snap: ColumnarSnapshot, stem: str, typed: str) -> str | None:
    """The written form of ``stem`` (from a few live articles holding it) closest to what was typed."""
    docnums: list[int] = []
    for seg in snap.segments:
        fp = seg.cols.fields[FIELD]
        tid = fp.term_id(stem)
        if tid < 0:
            continue
        lo, hi = fp.slice(tid)
        local = np.asarray(fp.docs[lo:hi], dtype=np.int64)
        if seg.live is not None:
            local = local[seg.live[local]]
        docnums.extend((local[: SURFACE_DOCS - len(docnums)] + seg.offset).tolist())
        if len(docnums) >= SURFACE_DOCS:
            break
    forms: set[str] = set()
    for article in snap.articles(docnums):
        for body in (sch.indexed_body(article, article.entities or ()),):
            forms.update(body[start:end].lower() for term, start, end in sch.tokens(body) if term == stem)
    return min(forms, key=lambda f: (edit_distance(f, typed), f)) if forms else None


def spelling(snap: ColumnarSnapshot, words: Sequence[str], *, maxdist: int = 2) -> dict[str, Spelling]:
    """For each word: held by a live article, or its closest indexed word (edits, documents, stem, written form)."""
    out: dict[str, Spelling] = {}
    for word in words:
        terms = sch.analyze(word)
        if len(terms) != 1 or len(terms[0]) < 3:
            continue
        stem = terms[0]
        if any(doc_frequency(snap, field, stem) for field in TEXT_FIELDS):
            out[word] = Spelling(True)
            continue
        frequency = {t: doc_frequency(snap, FIELD, t) for t in _within(snap, stem, maxdist)}
        candidates = [t for t, n in frequency.items() if n]
        if not candidates:
            continue
        best = min(candidates, key=lambda t: (edit_distance(t, stem), -frequency[t], t))
        surface = _surface_form(snap, best, word.lower())
        if surface:
            out[word] = Spelling(False, edit_distance(best, stem), frequency[best], best, surface)
    return out


def suggestions(snap: ColumnarSnapshot, words: Sequence[str]) -> dict[str, str]:
    """For each word no live article holds, the written form of the closest indexed word."""
    return {word: s.surface for word, s in spelling(snap, words).items() if not s.present and s.surface is not None}
