"""The Whoosh schema, the text analyzer, and conversion between Articles and Whoosh documents."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from whoosh import analysis as whoosh_analysis
from whoosh import columns, fields

from searchlib import analysis, dedup
from searchlib._whoosh.facettable import ALIAS_SEP, ENTITY_SEP
from searchlib._whoosh.fastwrite import FastKeyword, FastText
from searchlib.models import Article, Entity, EntityKind, stored_article

FORMAT_VERSION = 10
"""Bumped whenever the schema, the stored layout or the analysis changes incompatibly.

10: no field has Whoosh postings: the keyword fields' (id, entity, person, org, place, source,
group, and ``dupkey``, the near-duplicate candidate keys) are in the columnar sidecar too, and
``date`` is a column only; Whoosh keeps segments, stored fields, columns and deletions.
9: the text fields (title, body, entity text) have no Whoosh postings: the columnar sidecar
(:mod:`.columnar`) is their only postings. 8: accent folding (searchlib.analysis) in words and
entity names. 7: the last format before it. ``searchlib upgrade`` rebuilds a format-7, 8 or 9
index from its stored articles.
"""

UPGRADABLE_FORMATS = frozenset({7, 8, 9})
"""Formats ``searchlib upgrade`` rebuilds from (older ones lack stored entities: re-index the source)."""

STOPLIST = analysis.STOP_WORDS
MINSIZE = analysis.MIN_LENGTH


class SearchlibAnalyzer(whoosh_analysis.Tokenizer):  # type: ignore[misc]
    """:mod:`searchlib.analysis` as a Whoosh analyzer (tokenise, fold, stop words, stem).

    The title, body and entity text fields use it, so whatever Whoosh analyses itself (such
    as the text of a more-like-this query) gives the terms the index holds.
    """

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Any]:
        token = whoosh_analysis.Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term, pos, start, end in analysis.tokens(value):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


ANALYZER = SearchlibAnalyzer()
"""Lower-cases, folds accents, drops stop words and stems; used for title, body and entity text."""


def _text(**kwargs: Any) -> FastText:
    return FastText(analyzer=ANALYZER, **kwargs)


KIND_FIELDS = {EntityKind.PERSON: "person", EntityKind.ORG: "org", EntityKind.PLACE: "place"}


def build_schema() -> fields.Schema:
    """Fields of a searchlib index; body text lives in a column, not in stored fields."""
    keyword = dict(lowercase=False, scorable=True)
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),
        date=fields.NUMERIC(numtype=int, bits=32, signed=True, sortable=True),  # unsigned ranges are buggy
        title=_text(stored=True),
        body=_text(stored=False),
        entity_text=_text(stored=False),
        entity=FastKeyword(**keyword),
        person=FastKeyword(**keyword),
        org=FastKeyword(**keyword),
        place=FastKeyword(**keyword),
        source=fields.ID(),
        dupkey=FastKeyword(lowercase=False),
        group=fields.ID(sortable=True),
        sketch=fields.COLUMN(columns.VarBytesColumn()),
        meta=fields.STORED(),
        body_text=fields.COLUMN(columns.VarBytesColumn()),
        facets=fields.COLUMN(columns.VarBytesColumn()),
    )


def schema_signature(schema: fields.Schema) -> list[str]:
    """Field names and types, to tell whether an index on disk matches this code."""
    return sorted(f"{name}:{type(field).__name__}" for name, field in schema.items())


def date_key(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def key_date(key: int) -> dt.date:
    return dt.date(key // 10_000, key // 100 % 100, key % 100)


def entity_key(name: str) -> str:
    """Exact, case- and accent-insensitive form of an entity name as indexed (no commas).

    ``entity:Gdansk`` finds "Gdańsk": names are folded as words are (:func:`searchlib.analysis.fold`).
    Cached per name (names recur across articles; the indexer asks twice per name).
    """
    found = _ENTITY_KEYS.get(name)
    if found is None:
        folded = analysis.fold(name.casefold())
        found = " ".join(folded.replace(",", " ").split())
        if len(_ENTITY_KEYS) >= _ENTITY_KEYS_MAX:
            _ENTITY_KEYS.clear()
        _ENTITY_KEYS[name] = found
    return found


_ENTITY_KEYS: dict[str, str] = {}
_ENTITY_KEYS_MAX = 200_000


def checksum(article: Article) -> str:
    """Digest of every field, so an unchanged re-ingest can be skipped.

    The sha1 of the fields as ``json.dumps([...], ensure_ascii=False)`` writes them (stored in
    every index: it must never change), written here one field at a time -- the same text: a
    list's items joined by ", " -- so that each string without non-ASCII characters or DEL is
    written by the ``ensure_ascii=True`` encoder, which gives the same text ~3x faster (the
    body always, whatever the title holds; an article's checksum is computed on every ingest).
    """
    entities = None if article.entities is None else [[e.name, e.kind.value, *e.aliases] for e in article.entities]
    parts = (
        f'"{article.date.isoformat()}"',
        _json_string(article.title),
        _json_string(article.body),
        _json_string(article.source),
        _json_string(article.url),
        json.dumps(entities, ensure_ascii=False),
    )
    payload = "[" + ", ".join(parts) + "]"
    return hashlib.sha1(payload.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _json_string(value: str | None) -> str:
    """``json.dumps(value, ensure_ascii=False)``; by the faster ASCII encoder when that writes
    the same text (ASCII without DEL, the one character only ``ensure_ascii=True`` escapes)."""
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=value.isascii() and "\x7f" not in value)


def indexed_body(article: Article, entities: tuple[Entity, ...]) -> str:
    """The body text as indexed: the body, plus the title and entity names it does not contain.

    Bare words are matched on the body alone (the title and entity fields only add score), so
    the body must contain every word a title or entity match could be found by.
    """
    body = article.body
    lowered = body.casefold()
    extra = [article.title] if article.title.casefold() not in lowered else []
    extra += [n for e in entities for n in e.names if n.casefold() not in lowered]
    return "\n\n".join([*extra, body]) if extra else body


def to_document(
    article: Article,
    entities: tuple[Entity, ...],
    digest: str,
    *,
    sketch: tuple[int, ...],
    group: str,
    extracted: bool,
) -> dict[str, Any]:
    """The Whoosh document for ``article`` with its final ``entities`` and near-duplicate group."""
    by_kind: dict[str, list[str]] = {name: [] for name in KIND_FIELDS.values()}
    for ent in entities:
        field = KIND_FIELDS.get(ent.kind)
        if field:
            by_kind[field].extend(entity_key(n) for n in ent.names)
    title, body = article.title, article.body
    meta = {
        "date": article.date.isoformat(),
        "title": title,
        "source": article.source,
        "url": article.url,
        "entities": [[e.name, e.kind.value, list(e.aliases)] for e in entities],
        "checksum": digest,
        "copy_of": None if group == article.id else group,
        "extracted": extracted,
    }
    searchable = [n for e in entities for n in e.names]
    doc: dict[str, Any] = {
        "id": article.id,
        "date": date_key(article.date),
        "title": title,
        "body": indexed_body(article, entities),
        "entity_text": "\n".join(searchable),
        "entity": ",".join(entity_key(n) for n in searchable),
        "meta": meta,
        "body_text": body.encode("utf-8"),
        "facets": ENTITY_SEP.join([article.source or "", *(ALIAS_SEP.join(e.names) for e in entities)]).encode("utf-8"),
        "dupkey": ",".join(dedup.candidate_keys(sketch)),
        "group": group,
        "sketch": dedup.pack(sketch),
    }
    if article.source:
        doc["source"] = article.source.casefold()
    for field, keys in by_kind.items():
        doc[field] = ",".join(keys)
    return doc


_ENTITIES: dict[tuple[str, ...], tuple[Entity, str]] = {}
_ENTITY_CACHE = 50_000
"""Stored entities kept (immutable values, shared by every article naming them), with their keys,
by ``(name, kind, *aliases)``."""


def _new_entity(key: tuple[str, ...]) -> tuple[Entity, str]:
    if len(_ENTITIES) >= _ENTITY_CACHE:
        _ENTITIES.clear()
    entity = Entity(key[0], EntityKind(key[1]), key[2:])
    found = _ENTITIES[key] = (entity, entity.key)
    return found


def to_article(doc_id: str, meta: dict[str, Any], body: bytes) -> Article:
    """Rebuild the Article stored for a document.

    Its values passed the Article's converters and validators when it was added, so they are
    not run again (:func:`searchlib.models.stored_article`); entities are still kept unique by
    key, as the converter keeps them. ~20 entities an article: the loop looks each up inline.
    """
    entities: dict[str, Entity] = {}
    known = _ENTITIES
    for stored in meta["entities"]:
        key = (stored[0], stored[1], *stored[2]) if len(stored) > 2 else (stored[0], stored[1])
        entity, folded = known.get(key) or _new_entity(key)
        entities.setdefault(folded, entity)
    return stored_article(
        id=doc_id,
        date=dt.date.fromisoformat(meta["date"]),
        title=meta["title"],
        body=body.decode("utf-8"),
        entities=tuple(entities.values()),
        source=meta["source"],
        url=meta["url"],
    )


def facets_value(meta: dict[str, Any]) -> str:
    """A stored document's facets value (as :func:`to_document` makes it) from its stored ``meta``."""
    entities = [ALIAS_SEP.join([e[0], *(e[2] if len(e) > 2 else ())]) for e in meta["entities"]]
    return ENTITY_SEP.join([meta.get("source") or "", *entities])


def tokens(text: str) -> Iterator[tuple[str, int, int]]:
    """(term, start char, end char) for each indexed token of ``text`` (:func:`searchlib.analysis.spans`)."""
    return analysis.spans(text)


def analyze(text: str) -> list[str]:
    """The indexed terms of ``text``, as the query side must produce them (:func:`searchlib.analysis.terms`)."""
    return analysis.terms(text)
