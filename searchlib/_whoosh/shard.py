"""One shard's part of an archive query, in plain values (no Whoosh object leaves this module).

An archive (:mod:`searchlib.archive`) answers a query in two rounds, as Elasticsearch's DFS
query-then-fetch does: every shard reports the statistics scoring depends on
(:func:`collect_stats`: stored documents, total field lengths, document frequencies of the
query's terms, prefixes expanded), the archive sums them, and every shard ranks its matches
with the sums (:func:`rank`) through :class:`~searchlib._whoosh.scoring.GlobalBM25F`, so a
score is the float one index holding every shard's articles would give.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

import attrs
from whoosh.searching import Searcher

from searchlib import query as q
from searchlib._whoosh import analytics as wa
from searchlib._whoosh import schema as sch
from searchlib._whoosh import search as ws
from searchlib._whoosh.scoring import GlobalBM25F
from searchlib.models import DateBucket, Recency, Sort

__all__ = ["RankedPage", "ShardStats", "background", "collect_stats", "entity_keys", "rank", "related_counts"]

HUGE = 1 << 62


@attrs.frozen
class ShardStats:
    """Collection statistics of one shard (or, merged, of an archive) for one query."""

    doc_count: int
    """Stored documents, deleted ones included (Whoosh's ``N``)."""
    field_lengths: dict[str, int]
    doc_freqs: dict[tuple[str, bytes], int]

    def merged(self, other: ShardStats) -> ShardStats:
        lengths = dict(self.field_lengths)
        for name, n in other.field_lengths.items():
            lengths[name] = lengths.get(name, 0) + n
        freqs = dict(self.doc_freqs)
        for key, n in other.doc_freqs.items():
            freqs[key] = freqs.get(key, 0) + n
        return ShardStats(self.doc_count + other.doc_count, lengths, freqs)


@attrs.frozen
class RankedPage:
    """One shard's best matches: (sort key, article id, date key) per hit, and counts."""

    total: int
    hits: tuple[tuple[float, str, int, tuple[str, ...]], ...]
    """(score, id, date as int key, ids of near-duplicate copies)."""
    facets: tuple[dict[str, int], dict[str, str], dict[str, int], dict[str, int]] | None
    """(entity key counts, entity display names, date label counts, source counts)."""


def _queries(node: q.Node, weights: ws.Weights) -> list[Any]:
    node, _ranges = ws._split_dates(node)
    main = ws._top_level(ws.to_whoosh(node, weights))
    extras = [e for leaf in q.positive_leaves(node) if leaf.field is None for e in ws._extras(leaf, weights)]
    return [main, *extras]


def collect_stats(searcher: Searcher, node: q.Node, weights: ws.Weights) -> ShardStats:
    """This shard's statistics for scoring ``node`` (terms it does not hold are left out: 0)."""
    reader = searcher.reader()
    terms: set[tuple[str, bytes]] = set()
    for query in _queries(node, weights):
        terms.update(query.existing_terms(reader, phrases=True, expand=True))
    schema = searcher.schema
    lengths = {name: int(reader.field_length(name)) for name in schema.scorable_names()}
    freqs = {(f, bytes(t)): int(reader.doc_frequency(f, t)) for f, t in terms}
    return ShardStats(int(reader.doc_count_all()), lengths, freqs)


def rank(
    searcher: Searcher,
    node: q.Node,
    filters: ws.Filters,
    *,
    stats: ShardStats | None,
    weights: ws.Weights,
    sort: Sort,
    wanted: int,
    collapse: bool,
    recency: Recency | None,
    facets: DateBucket | None,
    hidden: Collection[str],
) -> RankedPage:
    """The first ``wanted`` matches in ``sort`` order, scored with the archive's ``stats``.

    ``stats`` ``None`` (date order): this shard's own weighting; scores are not used then.

    ``hidden`` ids (copies an article move has made redundant) are neither returned nor counted.
    """
    if searcher.reader().doc_count_all() == 0:
        return RankedPage(0, (), ({}, {}, {}, {}) if facets is not None else None)
    glob = searcher
    if stats is not None:
        b, k1 = searcher.weighting.B, searcher.weighting.K1
        weighting = GlobalBM25F(
            doc_count=stats.doc_count, field_lengths=stats.field_lengths, doc_freqs=stats.doc_freqs, B=b, K1=k1
        )
        glob = Searcher(searcher.reader(), weighting=weighting, closereader=False)
    hidden_docs = _docnums(searcher, hidden)
    extra = len(hidden_docs)
    raw = ws.search(
        glob,
        node,
        filters,
        weights=weights,
        sort=sort,
        offset=0,
        limit=min(wanted + extra, ws_limit()),
        facets=None,
        collapse=collapse,
        recency=recency,
    )
    total = raw.total
    hits = []
    for hit in raw.hits:
        if hit.docnum in hidden_docs:
            continue
        hits.append((float(hit.score), hit.article.id, sch.date_key(hit.article.date), tuple(hit.copies)))
    counted: tuple[dict[str, int], dict[str, str], dict[str, int], dict[str, int]] | None = None
    if hidden_docs or facets is not None:
        matched = [d for d in ws.matching_docs(searcher, node, filters, weights) if d not in hidden_docs]
        if hidden_docs and not collapse:
            total = len(matched)
        if facets is not None:
            counted = _facet_counts(searcher, matched, facets)
    return RankedPage(total, tuple(hits[:wanted]), counted)


def ws_limit() -> int:
    """Most hits one shard returns in one round."""
    return 1_000_000


def _docnums(searcher: Searcher, ids: Collection[str]) -> set[int]:
    out = set()
    for doc_id in ids:
        docnum = searcher.document_number(id=doc_id)
        if docnum is not None:
            out.add(int(docnum))
    return out


def _facet_counts(
    searcher: Searcher, matched: Sequence[int], bucket: DateBucket
) -> tuple[dict[str, int], dict[str, str], dict[str, int], dict[str, int]]:
    dates = ws.column(searcher, "date")
    meta = ws.column(searcher, "facets")
    date_counts: Counter[str] = Counter()
    entity_counts: Counter[str] = Counter()
    source_counts: Counter[str] = Counter()
    display: dict[str, str] = {}
    for docnum in matched:
        date_counts[bucket.label(sch.key_date(int(dates[docnum])))] += 1
        source, entities = sch.decode_facets(meta[docnum])
        if source:
            source_counts[source] += 1
        for name, *_aliases in entities:
            key = name.casefold()
            display.setdefault(key, name)
            entity_counts[key] += 1
    return dict(entity_counts), display, dict(date_counts), dict(source_counts)


def matches(
    searcher: Searcher, node: q.Node, filters: ws.Filters, weights: ws.Weights, hidden: Collection[str]
) -> list[int]:
    if searcher.reader().doc_count_all() == 0:
        return []
    hidden_docs = _docnums(searcher, hidden)
    return [d for d in ws.matching_docs(searcher, node, filters, weights) if d not in hidden_docs]


def date_counts(
    searcher: Searcher,
    node: q.Node,
    filters: ws.Filters,
    weights: ws.Weights,
    bucket: DateBucket,
    hidden: Collection[str],
) -> dict[str, int]:
    """Matches per date bucket label."""
    if searcher.reader().doc_count_all() == 0:
        return {}
    return dict(wa.date_counts(searcher, matches(searcher, node, filters, weights, hidden), bucket))


def related_counts(
    searcher: Searcher, node: q.Node, filters: ws.Filters, weights: ws.Weights, hidden: Collection[str]
) -> tuple[int, int, dict[str, int], dict[str, str], dict[str, set[str]]]:
    """(live documents, matches, entity key -> matching documents, display names, alias keys)."""
    docs = matches(searcher, node, filters, weights, hidden)
    if not docs:
        return int(searcher.reader().doc_count()), 0, {}, {}, {}
    counts, display, aliases = wa.entity_counts(searcher, docs)
    return int(searcher.reader().doc_count()), len(docs), dict(counts), display, aliases


def background(searcher: Searcher, keys: Sequence[str]) -> tuple[int, dict[str, int]]:
    """(live documents, live documents naming each entity key)."""
    counts = {key: wa.live_doc_frequency(searcher, "entity", key) for key in keys}
    return int(searcher.reader().doc_count()), counts


def entity_keys(searcher: Searcher) -> set[str]:
    """Canonical entity keys of live documents (as ``stats().entities`` counts them)."""
    reader = searcher.reader()
    if reader.doc_count() == 0:
        return set()
    column = reader.column_reader("facets")
    keys: set[str] = set()
    for docnum in reader.all_doc_ids():
        _source, entities = sch.decode_facets(column[docnum])
        keys.update(sch.entity_key(name) for name, *_aliases in entities)
    return keys


def live_ids(searcher: Searcher) -> list[tuple[str, Any]]:
    """(id, date) of every live document (for checking an archive's routing)."""
    reader = searcher.reader()
    if reader.doc_count() == 0:
        return []
    dates = reader.column_reader("date")
    return [(searcher.stored_fields(d)["id"], sch.key_date(int(dates[d]))) for d in reader.all_doc_ids()]
