"""Searchlib's value types: frozen, validated attrs classes that outlive any searcher.

Everything the public API returns is one of these; no Whoosh object ever leaves
``searchlib._whoosh``.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import attrs

from searchlib._compiled import ingest_kernel

__all__ = [
    "Article",
    "DateBucket",
    "DuplicateGroup",
    "Entity",
    "EntityKind",
    "FacetCount",
    "Facets",
    "Hit",
    "IndexStats",
    "Recency",
    "RelatedEntity",
    "Results",
    "Snippet",
    "Sort",
    "Span",
    "Timeline",
    "derive_id",
    "derive_title",
]

TITLE_MAX_CHARS = 120
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]?\s")
_WS = re.compile(r"\s+")


class EntityKind(enum.StrEnum):
    """What an entity names. ``OTHER`` when the extractor cannot tell."""

    PERSON = "person"
    ORG = "org"
    PLACE = "place"
    OTHER = "other"


class Sort(enum.StrEnum):
    """Order of hits: by relevance, or by publication date."""

    SCORE = "score"
    NEWEST = "newest"
    OLDEST = "oldest"


class DateBucket(enum.StrEnum):
    """Granularity of date facets and timelines."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"

    def label(self, day: dt.date) -> str:
        """The bucket label of ``day``: ``2024-05-06``, ``2024-05`` or ``2024``."""
        iso = day.isoformat()
        return {DateBucket.DAY: iso, DateBucket.MONTH: iso[:7], DateBucket.YEAR: iso[:4]}[self]


def valid_text(value: str) -> str:
    """``value`` with lone surrogates (unencodable, e.g. from JSON ``\\ud800``) replaced by "?"."""
    if value.isascii():
        return value
    return value.encode("utf-8", "replace").decode("utf-8")


def _clean_name(value: str) -> str:
    if value.isascii() and value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
        return value  # already clean: ASCII whitespace other than " " is unprintable (most names: no regex)
    return _WS.sub(" ", valid_text(value)).strip()


def _names(value: Iterable[str]) -> tuple[str, ...]:
    if value == ():
        return ()
    if isinstance(value, str):
        raise TypeError("aliases must be a sequence of names, not a single string")
    return tuple(_clean_name(v) if isinstance(v, str) else v for v in value)


def _kind(value: EntityKind | str) -> EntityKind:
    return value if type(value) is EntityKind else EntityKind(value)


def _nonempty(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


@attrs.frozen(cache_hash=True)  # hashed per lookup when entities are shown through the alias table
class Entity:
    """A named entity: its canonical name as shown and indexed, and its kind."""

    name: str = attrs.field(converter=_clean_name, validator=_nonempty)
    kind: EntityKind = attrs.field(default=EntityKind.OTHER, converter=_kind)
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_names)
    """Other names folded into this one ("HRB" for "Hanseatic Reserve Bank"); searchable too."""

    @aliases.validator
    def _aliases_are_names(self, _attr: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]) -> None:
        if any(not isinstance(a, str) or not a.strip() for a in value):
            raise ValueError("aliases must be non-empty names")

    @property
    def key(self) -> str:
        """The case-folded form used for exact, case-insensitive matching."""
        return self.name.casefold()

    @property
    def names(self) -> tuple[str, ...]:
        """The name and every alias."""
        return (self.name, *self.aliases)


def _to_entities(value: Sequence[Entity | str] | None) -> tuple[Entity, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError("entities must be a sequence of names, not a single string")
    out: dict[str, Entity] = {}
    for item in value:
        ent = item if isinstance(item, Entity) else Entity(item)
        out.setdefault(ent.key, ent)
    return tuple(out.values())


def derive_title(body: str, *, max_chars: int = TITLE_MAX_CHARS) -> str:
    """The lead sentence of ``body``, shortened at a word boundary to ``max_chars``."""
    first_para = body.strip().split("\n\n", 1)[0]
    text = " ".join(first_para.split())  # = _WS.sub(" ", first_para).strip(), ~10x faster
    match = _SENTENCE_END.search(text)
    if match:
        text = text[: match.start()].strip()
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    space = cut.rfind(" ")
    if space > max_chars // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def derive_id(date: dt.date, body: str) -> str:
    """A stable id from the content: the same article always gets the same id.

    The sha1 of the date and the body with its whitespace runs collapsed (``" ".join(body.split())``,
    = ``_WS.sub(" ", body).strip()``: str.split's whitespace is re's ``\\s``), the compiled
    ``collapsed_ascii`` kernel's bytes for an ASCII body (a parallel ingest's parent derives
    every article's id; ~3x cheaper).
    """
    normal: bytes | None = _collapsed_ascii(body)
    if normal is None:
        normal = " ".join(body.split()).encode("utf-8", "surrogatepass")
    digest = hashlib.sha1(f"{date.isoformat()}\n".encode() + normal)
    return digest.hexdigest()[:16]


_collapsed_ascii = ingest_kernel("collapsed_ascii")


def _check_date(_inst: object, _attr: attrs.Attribute[dt.date], value: dt.date) -> None:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"date must be a datetime.date, not {type(value).__name__}")


def _to_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    if not isinstance(value, dt.date):
        raise TypeError(f"date must be a datetime.date or an ISO string, not {type(value).__name__}")
    return value


def _text(value: str) -> str:
    return valid_text(value) if isinstance(value, str) else value


def _check_text(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{attribute.name} must be str, not {type(value).__name__}")
    if attribute.name == "body" and not value.strip():
        raise ValueError("body must not be empty")


def _optional_str(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected str or None, not {type(value).__name__}")
    value = valid_text(value).strip()
    return value or None


@attrs.frozen(kw_only=True)
class Article:
    """One news article. ``title`` and ``id`` are derived when not given.

    ``entities`` is ``None`` when they are to be extracted at index time; a given
    sequence (even empty) is kept as given.
    """

    date: dt.date = attrs.field(converter=_to_date, validator=_check_date)
    body: str = attrs.field(converter=_text, validator=_check_text)
    title: str = attrs.field(converter=_text, validator=_check_text)
    id: str = attrs.field(converter=_text, validator=[_check_text, _nonempty])
    entities: tuple[Entity, ...] | None = attrs.field(default=None, converter=_to_entities)
    source: str | None = attrs.field(default=None, converter=_optional_str)
    url: str | None = attrs.field(default=None, converter=_optional_str)

    @title.default
    def _title_default(self) -> str:
        return derive_title(self.body)

    @id.default
    def _id_default(self) -> str:
        return derive_id(self.date, self.body)

    @property
    def entity_names(self) -> tuple[str, ...]:
        """The entity names, in order (empty when not yet extracted)."""
        return tuple(e.name for e in self.entities or ())


def stored_article(
    *,
    id: str,
    date: dt.date,
    title: str,
    body: str,
    entities: tuple[Entity, ...],
    source: str | None,
    url: str | None,
) -> Article:
    """An :class:`Article` from values an index stored, which passed its converters and
    validators when it was added: none of them runs again.

    Reading a page of hits builds ten articles with ~20 entities each; validating them again
    (a case-folded key per entity, every text field checked) was ~15 us an article, a fifth of
    an end-to-end search. The caller guarantees what the converters would (``entities`` unique
    by key, texts valid, ``source`` / ``url`` stripped or ``None``); ``tests/test_models.py``
    checks the result equals the validated construction.
    """
    article: Article = object.__new__(Article)
    put = object.__setattr__
    put(article, "date", date)
    put(article, "body", body)
    put(article, "title", title)
    put(article, "id", id)
    put(article, "entities", entities)
    put(article, "source", source)
    put(article, "url", url)
    return article


@attrs.frozen
class Span:
    """A half-open character range ``[start, end)`` of a match inside a snippet's text."""

    start: int = attrs.field(validator=attrs.validators.ge(0))
    end: int = attrs.field()

    @end.validator
    def _end_after_start(self, _attr: attrs.Attribute[int], value: int) -> None:
        if value < self.start:
            raise ValueError("span end must not precede its start")


@attrs.frozen
class Snippet:
    """A passage of an article with the spans of query matches, relative to ``text``.

    ``offset`` is where ``text`` starts in the field it came from; ``truncated_start`` /
    ``truncated_end`` say whether text was cut before or after the passage.
    """

    text: str
    spans: tuple[Span, ...] = attrs.field(default=())
    field: str = "body"
    offset: int = 0
    truncated_start: bool = False
    truncated_end: bool = False

    @spans.validator
    def _spans_inside(self, _attr: attrs.Attribute[tuple[Span, ...]], value: tuple[Span, ...]) -> None:
        for span in value:
            if span.end > len(self.text):
                raise ValueError(f"span {span} is outside the snippet text")

    @property
    def matches(self) -> tuple[str, ...]:
        """The matched substrings, in order."""
        return tuple(self.text[s.start : s.end] for s in self.spans)


@attrs.frozen
class Hit:
    """One ranked search result: the stored article, its score and highlighted snippets."""

    rank: int
    score: float
    article: Article
    snippets: tuple[Snippet, ...] = ()
    title_snippet: Snippet | None = None
    copies: tuple[str, ...] = ()

    @property
    def entities(self) -> tuple[Entity, ...]:
        """The article's entities: always a tuple (articles read from an index always carry theirs)."""
        return self.article.entities or ()

    """Ids of this article's near-duplicates, when the search collapsed them into this hit."""


@attrs.frozen
class FacetCount:
    """A facet value and the number of matching articles that have it."""

    value: str
    count: int


@attrs.frozen
class Facets:
    """Counts over all matches of a query, not just the returned page."""

    entities: tuple[FacetCount, ...] = ()
    dates: tuple[FacetCount, ...] = ()
    sources: tuple[FacetCount, ...] = ()
    date_bucket: DateBucket = DateBucket.MONTH


@attrs.frozen
class Results:
    """A page of hits, the total number of matches, and (if asked) facets."""

    query: str
    total: int
    hits: tuple[Hit, ...]
    offset: int
    limit: int
    facets: Facets | None = None
    notice: str | None = None
    """Set by ``search(..., lenient=True)`` when the query did not parse and was searched as plain words."""

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    @overload
    def __getitem__(self, index: int) -> Hit: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Hit, ...]: ...
    def __getitem__(self, index: int | slice) -> Hit | tuple[Hit, ...]:
        """``results[0]`` is the first hit of this page; slices give tuples of hits."""
        return self.hits[index]

    def __repr__(self) -> str:
        shown = f"hits {self.offset + 1}-{self.offset + len(self.hits)}" if self.hits else "no hits"
        return f"<Results {self.query!r}: {self.total} matches, {shown}>"

    @property
    def has_more(self) -> bool:
        """Whether hits remain after this page."""
        return self.offset + len(self.hits) < self.total

    @property
    def page(self) -> int:
        """The 1-based page number of this page for its ``limit``."""
        return self.offset // self.limit + 1 if self.limit else 1


@attrs.frozen
class IndexStats:
    """Facts about an index's live articles (``entities``: distinct canonical names, as facets count them)."""

    path: str | None
    documents: int
    segments: int
    size_bytes: int
    first_date: dt.date | None
    last_date: dt.date | None
    entities: int
    generation: int
    aliases: int = 0
    """Rows of the alias table: learned acronyms, merged and renamed names."""
    blocked: int = 0
    """Entities blocked in the alias table."""


@attrs.frozen
class RelatedEntity:
    """An entity that co-occurs with a query: how often, how often overall, and how significantly.

    ``count`` is the number of matching articles naming it, ``background`` the number of
    articles in the whole index naming it, ``score`` the JLH significance (0 when it is no more
    common among the matches than in the archive).
    """

    name: str
    count: int
    background: int
    score: float


@attrs.frozen
class Timeline:
    """Matching articles per date bucket, zero-filled between the first and last bucket."""

    query: str
    bucket: DateBucket
    points: tuple[FacetCount, ...]

    @property
    def total(self) -> int:
        return sum(p.count for p in self.points)

    @property
    def peak(self) -> FacetCount | None:
        """The bucket with the most matches (the earliest on ties)."""
        return max(self.points, key=lambda p: p.count, default=None)


@attrs.frozen
class DuplicateGroup:
    """Articles detected as copies of one another (wire copies, light re-edits), oldest first."""

    articles: tuple[Article, ...]

    @property
    def original(self) -> Article:
        """The earliest article of the group."""
        return self.articles[0]


@attrs.frozen
class Recency:
    """Decay scores with age: an article ``half_life_days`` older than ``reference`` scores half.

    Applied by re-ranking the best ``RECENCY_WINDOW`` matches by relevance, so a very recent but
    barely relevant article cannot jump ahead of thousands of better ones.
    """

    reference: dt.date = attrs.field(converter=_to_date, validator=_check_date)
    half_life_days: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))

    def factor(self, day: dt.date) -> float:
        """The multiplier for an article dated ``day`` (1.0 at or after the reference date)."""
        age = max(0, (self.reference - day).days)
        return float(0.5 ** (age / self.half_life_days))
