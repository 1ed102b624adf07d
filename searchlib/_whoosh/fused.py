"""An AND's words scored together: one gather per field for all of them, scores as a matrix.

Scoring an AND word by word looked each word up in every field it scores in (a free word:
body, title and entity text) and located those postings among the AND's matches: for an AND of
three words over two segments, six gathers of short lists (each a concatenation, the segment
bases added, a conversion), six lookups in the position map and six scatters, on lists of tens
to a few thousand documents -- ~70 numpy calls, each with a fixed cost. Here the words of an
AND that share a field and field weights are one group: each other field's postings of every
word of the group are gathered in one pass over the segments (one concatenation), looked up in
the position map once and added into a (words x matches) matrix of pseudo frequencies at
``row * n + at``; the primary field's frequencies are divided by the length normalisation as one
matrix, and BM25's saturation is one matrix expression with a column of idfs. What it saves is
small: an AND of three words at 100,000 articles ran 0.93-0.97x the word-by-word path's engine
time (the same process alternating both per query; benchmarks/README.md, session 7). A word
alone in its group keeps its own lookups (a binary search when its other lists are long:
gathering them for the position map cost word + entity 6-8% more).

Every element goes through exactly the float operations of the word-by-word path
(:func:`.evaluate.text_pseudo` then :func:`.evaluate.saturate`), in the same order (fields in
their boost order, ``0 + x`` being exact), so the scores are bit-identical to it
(``tests/test_engine_steps.py`` compares both with ``==``).

With numba's kernels loaded a word's other fields are added instead by :func:`add_field`:
numba's ``add_field`` walks each segment's memory-mapped postings of the word against the
matches in place (nothing gathered or converted, no binary search), one call per segment and
field, with the same float operations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from searchlib import plan as p
from searchlib._whoosh import kernels
from searchlib._whoosh.columnar import SegmentColumns
from searchlib.engine import Stats, idf

if TYPE_CHECKING:
    from searchlib._whoosh.evaluate import Layout

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]

ENABLED = True
"""Score an AND's single words together (False: word by word; tests compare both)."""


def gather_terms(parts: Sequence[tuple[SegmentColumns, int]], field: str, terms: Sequence[str]) -> tuple[I64, F64, I64]:
    """Every posting of each of ``terms`` in ``field`` over the segments ``parts`` ((columns,
    base) pairs), in one concatenation: global documents, frequencies, and which term (its
    index) each belongs to -- term after term, segment after segment within one."""
    docs_parts: list[npt.NDArray[np.unsignedinteger]] = []
    freq_parts: list[npt.NDArray[np.generic]] = []
    bases: list[int] = []
    rows: list[int] = []
    lens: list[int] = []
    for row, term in enumerate(terms):
        for cols, base in parts:
            fp = cols.fields[field]
            lo, hi = fp.term_range(term)
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


def and_rows(
    matched: Sequence[p.PlanNode],
    tf_of: Callable[[p.Text], F64],
    docs: I64,
    posmap: I32,
    layout: Layout,
    stats: Stats,
    k1: float,
    b: float,
) -> dict[int, F64]:
    """The BM25F scores over ``docs`` of the single words among an AND's parts ``matched``, by
    ``id`` of the part: those sharing a field and boosts, two or more, scored as one matrix
    (:func:`group_scores`); a word alone there keeps its own lookups (a binary search when its
    other lists are long). ``tf_of(word)``: its frequencies in its field at ``docs``."""
    groups: dict[tuple[str, p.Boosts], list[p.Text]] = {}
    for child in matched:
        if fusable(child):
            assert isinstance(child, p.Text)
            groups.setdefault((child.field, child.boosts), []).append(child)
    rows: dict[int, F64] = {}
    for words in groups.values():
        if len(words) < 2:
            continue
        matrix = group_scores(words, [tf_of(w) for w in words], docs, posmap, layout, stats, k1, b)
        for word, row in zip(words, matrix, strict=True):
            rows[id(word)] = row
    return rows


def group_scores(
    words: Sequence[p.Text],
    tfs: Sequence[F64],
    docs: I64,
    posmap: I32,
    layout: Layout,
    stats: Stats,
    k1: float,
    b: float,
) -> F64:
    """BM25F scores (one row per word) over ``docs`` of ``words`` -- single words sharing their
    field and boosts -- with ``tfs`` their frequencies in that field at ``docs``.

    ``posmap`` holds each of ``docs``' position + 1 (zero elsewhere); ``layout`` gives the
    segments and every document's length normalisation. ``k1 > 0``.
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
        norm = layout.norm(field, avg, b)
        if field == field0:
            part = np.asarray(tfs) / norm[docs]
            if weight != 1.0:
                part *= weight
            pseudo += part
            continue
        found, freqs, rows = gather_terms(layout.parts, field, terms)
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


def add_field(
    fast: Any, layout: Layout, field: str, term: str, weight: float, norm: F64, docs: I64, pseudo: F64
) -> bool:
    """``pseudo += weight * tf / norm`` for those of ``docs`` holding ``term`` in ``field``, by
    numba's ``add_field`` segment by segment (no list gathered, nothing located by binary
    search); False, with ``pseudo`` untouched, when it is not compiled for a segment's arrays."""
    jobs = []
    cuts: list[int] | None = None
    for i, (cols, base) in enumerate(layout.parts):
        fp = cols.fields[field]
        plo, phi = fp.term_range(term)
        if phi == plo:
            continue
        if fp.freqs is None or not kernels.field_types_ready(fast, fp.docs, fp.freqs):
            return False
        if cuts is None:
            cuts = segment_cuts(layout, docs)
        lo, hi = cuts[i], cuts[i + 1]
        if hi > lo:
            jobs.append((lo, hi, base, fp.docs, fp.freqs, plo, phi))
    if jobs and docs.dtype == np.int64 and docs.flags.c_contiguous and pseudo.flags.c_contiguous:
        for lo, hi, base, fdocs, ffreqs, plo, phi in jobs:
            fast.add_field(docs, lo, hi, base, fdocs, ffreqs, plo, phi, weight, norm, pseudo)
        return True
    return not jobs


def segment_cuts(layout: Layout, docs: I64) -> list[int]:
    """Where each segment's documents start in ``docs`` (ascending global numbers), and the end."""
    if len(layout.parts) == 1:
        return [0, len(docs)]
    cuts: list[int] = np.searchsorted(docs, layout.starts).tolist()
    return cuts
