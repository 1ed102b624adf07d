"""An AND's words scored together: one gather per field for all of them, scores as a matrix.

Scoring an AND word by word looked each word up in every field it scores in (a free word:
body, title and entity text) and located those postings among the AND's matches: for an AND
of three words over two segments, six gathers of short lists (each a concatenation, the
segment bases added, a conversion), six lookups in the position map and six scatters, on
lists of tens to a few thousand documents -- ~70 numpy calls whose fixed cost, not their
work, was most of an AND's scoring time. Here the words of an AND that share a field and
field weights are one group: each other field's postings of every word of the group are
gathered in one pass over the segments (one concatenation), looked up in the position map
once and added into a (words x matches) matrix of pseudo frequencies at ``row * n + at``;
the primary field's frequencies are divided by the length normalisation as one matrix, and
BM25's saturation is one matrix expression with a column of idfs.

Every element goes through exactly the float operations of the word-by-word path
(:func:`.evaluate.text_pseudo` then :func:`.evaluate.saturate`), in the same order (fields in
their boost order, ``0 + x`` being exact), so the scores are bit-identical to it
(``tests/test_engine_steps.py`` compares both with ``==``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from searchlib import plan as p
from searchlib.engine import Stats, idf

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]

ENABLED = True
"""Score an AND's single words together (False: word by word; tests compare both)."""


def gather_terms(parts: Sequence[tuple[object, int]], field: str, terms: Sequence[str]) -> tuple[I64, F64, I64]:
    """Every posting of each of ``terms`` in ``field`` over the segments ``parts`` ((columns,
    base) pairs): global documents, frequencies, and which term (its index) each belongs to."""
    return gather(parts, [(field, term) for term in terms])


def gather(parts: Sequence[tuple[object, int]], items: Sequence[tuple[str, str]]) -> tuple[I64, F64, I64]:
    """Every posting of each ``(field, term)`` of ``items`` over the segments ``parts``
    ((columns, base) pairs), in one concatenation: global documents, frequencies, and which
    item (its index) each belongs to -- item after item, segment after segment within one."""
    docs_parts: list[npt.NDArray[np.unsignedinteger]] = []
    freq_parts: list[npt.NDArray[np.generic]] = []
    bases: list[int] = []
    rows: list[int] = []
    lens: list[int] = []
    for row, (field, term) in enumerate(items):
        for cols, base in parts:
            fp = cols.fields[field]  # type: ignore[attr-defined]
            tid = fp.term_id(term)
            if tid < 0:
                continue
            lo, hi = fp.slice(tid)
            if hi == lo:
                continue
            docs_parts.append(fp.docs[lo:hi])
            freq_parts.append(fp.freqs[lo:hi] if fp.freqs is not None else np.ones(hi - lo))
            bases.append(base)
            rows.append(row)
            lens.append(hi - lo)
    if not docs_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64)
    if len(docs_parts) == 1:
        docs = docs_parts[0].astype(np.int64)
        if bases[0]:
            docs += bases[0]
        return docs, freq_parts[0].astype(np.float64), np.full(lens[0], rows[0], dtype=np.int64)
    docs = np.concatenate(docs_parts, dtype=np.int64)
    if any(bases):
        docs += np.repeat(np.asarray(bases, dtype=np.int64), lens)
    return docs, np.concatenate(freq_parts, dtype=np.float64), np.repeat(np.asarray(rows, dtype=np.int64), lens)


def fusable(child: p.PlanNode) -> bool:
    """Whether an AND's part is scored here: a single word with fields to score in."""
    return isinstance(child, p.Text) and len(child.terms) == 1 and bool(child.boosts)


def group_scores(
    words: Sequence[p.Text],
    tfs: Sequence[F64],
    docs: I64,
    posmap: I32,
    parts: Sequence[tuple[object, int]],
    norm_of: object,
    stats: Stats,
    k1: float,
    b: float,
) -> F64:
    """BM25F scores (one row per word) over ``docs`` of ``words`` -- single words sharing their
    field and boosts -- with ``tfs`` their frequencies in that field at ``docs``.

    ``posmap`` holds each of ``docs``' position + 1 (zero elsewhere); ``norm_of(field, avg,
    b)`` is the layout's length normalisation of every document. ``k1 > 0``.
    """
    n = len(docs)
    field0 = words[0].field
    terms = [w.terms[0] for w in words]
    pseudo = np.zeros((len(words), n))
    flat = pseudo.reshape(-1)  # a view: the scatters below write the matrix
    for field, weight in words[0].boosts:
        avg = stats.avg_length(field)
        if avg <= 0:
            continue
        norm: F64 = norm_of(field, avg, b)  # type: ignore[operator]
        if field == field0:
            part = np.asarray(tfs) / norm[docs]
            if weight != 1.0:
                part *= weight
            pseudo += part
            continue
        found, freqs, rows = gather_terms(parts, field, terms)
        if not len(found):
            continue
        at = posmap[found]
        hit = np.flatnonzero(at)
        if not len(hit):
            continue
        pos = at[hit].astype(np.int64) - 1
        flat[rows[hit] * n + pos] += weight * freqs[hit] / norm[docs[pos]]
    factors = np.array([[idf(stats.doc_count, stats.doc_freqs.get((w.field, w.terms), 0)) * (k1 + 1.0)] for w in words])
    denominator = pseudo + k1
    pseudo *= factors
    pseudo /= denominator
    return pseudo
