"""What a query call is made of before it reaches the engine: the query parsed (leniently
when asked), typed filters validated, ranking weights turned into a plan, and the words a
"did you mean" corrects.

:class:`searchlib.Index` and the archive (:mod:`searchlib.archive`) both build their calls
from these pieces, so a query means the same to both; the facade keeps only what needs an
open index (writing, the alias table, reading through the engine).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import attrs

from searchlib import plan as pl
from searchlib import query as q
from searchlib._whoosh.analytics import bucket_labels
from searchlib.errors import QuerySyntaxError
from searchlib.highlight import HighlightOptions, Matcher, mark_all, select_snippets
from searchlib.models import Article, DateBucket, FacetCount, Hit, Timeline

__all__ = [
    "MAX_LIMIT",
    "MAX_TIMELINE_DAYS",
    "MLT_TERMS",
    "DateLike",
    "Ranking",
    "make_hit",
    "page_offset",
    "timeline_of",
]

MAX_LIMIT = 10_000
"""Most hits one search returns (page deeper with ``offset``)."""

MLT_TERMS = 25
"""Distinctive terms of an article used to find more like it."""

MAX_TIMELINE_DAYS = 40_000
"""Timelines spanning more days than this list only their non-empty buckets."""

DateLike = dt.date | str | None

MAX_WEIGHT = 1e6
"""Largest boost and k1 a :class:`Ranking` takes: larger (or infinite) ones overflow scores into NaN."""

# NaN fails ge(0), inf fails le
_WEIGHT = attrs.validators.and_(attrs.validators.ge(0.0), attrs.validators.le(MAX_WEIGHT))


@attrs.frozen
class Ranking:
    """BM25F parameters and field weights. Derive variants with ``attrs.evolve``."""

    title_boost: float = attrs.field(default=2.0, validator=_WEIGHT)
    entity_boost: float = attrs.field(default=1.5, validator=_WEIGHT)
    body_boost: float = attrs.field(default=1.0, validator=_WEIGHT)
    k1: float = attrs.field(default=1.2, validator=_WEIGHT)
    b: float = attrs.field(default=0.75, validator=[attrs.validators.ge(0), attrs.validators.le(1)])

    def plan(self, node: q.Node, filters: _Filters | None = None) -> pl.Plan:
        """The plan of a parsed query within ``filters``, scored with these weights."""
        f = filters or _Filters()
        return pl.compile_plan(
            node,
            date_from=f.date_from,
            date_to=f.date_to,
            entities=f.entities,
            source=f.source,
            title_boost=self.title_boost,
            body_boost=self.body_boost,
            entity_boost=self.entity_boost,
            k1=self.k1,
            b=self.b,
        )


@attrs.frozen
class _Filters:
    """Typed filters that restrict matches without affecting scores."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    entities: tuple[str, ...] = ()
    source: str | None = None


def _bound(value: DateLike, *, end: bool, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    try:
        first, last = q.parse_date_bound(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return last if end else first


def _filters(date_from: DateLike, date_to: DateLike, entities: Sequence[str], source: str | None) -> _Filters:
    if isinstance(entities, str):
        raise TypeError("entities must be a sequence of names, not a string")
    return _Filters(
        date_from=_bound(date_from, end=False, name="date_from"),
        date_to=_bound(date_to, end=True, name="date_to"),
        entities=tuple(entities),
        source=source,
    )


def _spelling_words(query: str, lenient: bool) -> tuple[str, list[str]]:
    """The query "did you mean" corrects (its plain words if it does not parse and ``lenient``)
    and the words a correction may replace: unfielded, title and body terms, sorted."""
    node, notice = _parse(query, lenient)
    if notice is not None:
        query = q.plain_words(query)
    leaves = q.positive_leaves(node)
    words = {leaf.text for leaf in leaves if isinstance(leaf, q.Term) and leaf.field in (None, "title", "body")}
    return query, sorted(words)


def _corrected(query: str, fixes: dict[str, str]) -> str | None:
    """``query`` with each wrong word (not a field name, whole words only) replaced, or ``None``."""
    corrected = query
    for wrong, right in fixes.items():
        corrected = re.sub(rf"(?<![\w:]){re.escape(wrong)}(?!\w)", right, corrected)
    return corrected if corrected != query and fixes else None


def _parse(query: str, lenient: bool) -> tuple[q.Node, str | None]:
    """The query's AST; when ``lenient``, a query that does not parse becomes its plain words, with a notice."""
    try:
        return q.parse(query), None
    except QuerySyntaxError as exc:
        if not lenient:
            raise
        words = q.plain_words(query)
        return q.parse(words), f"{exc.reason} at position {exc.position}: searched as plain words ({words or 'none'})"


def _key_words(text: str) -> list[str]:
    """Longer words of ``text`` (for highlighting what more-like-this hits share with it)."""
    counts: dict[str, int] = {}
    for word in re.findall(r"[^\W\d_]{6,}", text.lower()):
        counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: -counts[w])[:MLT_TERMS]


def page_offset(offset: int, limit: int, page: int | None) -> int:
    """The first hit's offset of a page request (``page``, 1-based, overrides ``offset``), validated."""
    if not 0 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 0 and {MAX_LIMIT}")
    if page is not None:
        if page < 1:
            raise ValueError("page numbers start at 1")
        offset = (page - 1) * limit
    if offset < 0:
        raise ValueError("offset must not be negative")
    return offset


def make_hit(
    rank: int,
    score: float,
    article: Article,
    matchers: tuple[Matcher, Matcher] | None,
    options: HighlightOptions | None,
    *,
    copies: tuple[str, ...] = (),
) -> Hit:
    """The hit of ``article`` at ``rank``, with its snippets and marked title unless ``options``
    is None (``matchers`` may then be None too), and the ids of its collapsed ``copies``."""
    if options is None:
        return Hit(rank=rank, score=score, article=article, copies=copies)
    if matchers is None:
        raise ValueError("highlighting needs the query's matchers")
    body = select_snippets(article.body, matchers[0], options)
    title = mark_all(article.title, matchers[1], field="title")
    return Hit(rank=rank, score=score, article=article, snippets=body, title_snippet=title, copies=copies)


def timeline_of(query: str, bucket: DateBucket, counts: dict[str, int], filters: _Filters) -> Timeline:
    """Counts per bucket label as a timeline from ``filters``' dates (or the first and last
    bucket counted) with empty buckets filled in; only the counted ones past ``MAX_TIMELINE_DAYS``."""
    if not counts and (filters.date_from is None or filters.date_to is None):
        return Timeline(query=query, bucket=bucket, points=())
    keys = sorted(counts)
    first = filters.date_from or q.parse_date_bound(keys[0])[0]
    last = filters.date_to or q.parse_date_bound(keys[-1])[1]
    labels = bucket_labels(first, last, bucket) if (last - first).days < MAX_TIMELINE_DAYS else keys
    return Timeline(query=query, bucket=bucket, points=tuple(FacetCount(k, counts.get(k, 0)) for k in labels))
