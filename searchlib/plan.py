"""Query plans: the query AST compiled once into the few operations an engine evaluates.

A plan is searchlib's own, engine-neutral value: analysed terms per field with their BM25F
field weights, exact keyword values, date-key ranges, and AND / OR / AND-NOT over them.
Typed filters (dates, entities, source) become unscored parts of the same plan. The engine
(:mod:`searchlib.engine`) never sees a query string and never re-analyses text.

Scoring is BM25F (see README "Ranking"): for a word or phrase, each field ``f`` it is
weighted in contributes ``w_f * tf_f / (1 - b + b * len_f / avglen_f)`` to one pseudo
frequency ``tf``, and the leaf scores ``idf * tf * (k1 + 1) / (tf + k1)`` with
``idf = ln(1 + (N - df + 0.5) / (df + 0.5))`` from the document frequency in the field
that decides the match. A document's score is the sum over the positive leaves it matches.
"""

from __future__ import annotations

import datetime as dt
import functools

import attrs

from searchlib import analysis
from searchlib import query as q
from searchlib._whoosh import schema as sch

__all__ = [
    "MAX_PREFIX_TERMS",
    "AllOf",
    "AnyOf",
    "Dates",
    "Every",
    "Keyword",
    "Nothing",
    "Plan",
    "PlanNode",
    "Prefix",
    "Text",
    "compile_plan",
    "shape_key",
]

MAX_PREFIX_TERMS = 2_000
"""Most distinct indexed words one trailing-``*`` prefix may expand to (more: a QuerySyntaxError)."""

TEXT_FIELDS = ("body", "title", "entity_text")
ENTITY_FIELDS = ("entity", "person", "org", "place")

Boosts = tuple[tuple[str, float], ...]


@attrs.frozen
class Text:
    """Documents whose ``field`` holds ``terms`` (consecutively when more than one: a phrase)."""

    field: str
    terms: tuple[str, ...]
    boosts: Boosts
    """BM25F weights: (field, weight) for every field the leaf scores in."""


@attrs.frozen
class Prefix:
    """Documents holding a word of ``field`` that starts with one of ``prefixes``.

    Scored as the OR of the words it expands to. For keyword fields ``boosts`` is empty and
    the match is unscored.
    """

    field: str
    prefixes: tuple[str, ...]
    boosts: Boosts
    text: str
    """The prefix as typed (for the error when it expands to too many words)."""


@attrs.frozen
class Keyword:
    """Documents whose keyword ``field`` holds exactly ``value``; scores ``weight * idf``."""

    field: str
    value: str
    weight: float = 0.0


@attrs.frozen
class Dates:
    """Documents dated between two ``YYYYMMDD`` keys, inclusive (unscored)."""

    low: int
    high: int


@attrs.frozen
class Every:
    """Every live document (unscored)."""


@attrs.frozen
class Nothing:
    """No document (a query of stop words only)."""


@attrs.frozen
class AllOf:
    """Documents matching every child of ``must`` and none of ``must_not``; scores add up."""

    must: tuple[PlanNode, ...]
    must_not: tuple[PlanNode, ...] = ()


@attrs.frozen
class AnyOf:
    """Documents matching any child; the scores of the children a document matches add up."""

    children: tuple[PlanNode, ...]


PlanNode = Text | Prefix | Keyword | Dates | Every | Nothing | AllOf | AnyOf


@attrs.frozen
class Plan:
    """A compiled query with its BM25 parameters."""

    root: PlanNode
    k1: float = 1.2
    b: float = 0.75


def _free_boosts(title: float, body: float, entities: float) -> Boosts:
    pairs = (("body", body), ("title", title), ("entity_text", entities))
    return tuple((f, w) for f, w in pairs if w > 0)


@attrs.frozen
class Weights:
    title: float = 2.0
    body: float = 1.0
    entities: float = 1.5


def _leaf(node: q.Term | q.Phrase, w: Weights) -> PlanNode | None:
    field = node.field
    if field in ENTITY_FIELDS:
        key = sch.entity_key(node.text)
        return Keyword(field, key, w.entities) if key else None
    if field == "source":
        value = node.text.casefold().strip()
        return Keyword("source", value) if value else None
    if field == "id":
        value = node.text.strip()
        return Keyword("id", value) if value else None
    terms = tuple(analysis.terms(node.text))
    if not terms:
        return None
    if field is None:
        # The indexed body holds the title and entity names too: bare words match on it,
        # and titles and entity names add to the score.
        return Text("body", terms, _free_boosts(w.title, w.body, w.entities))
    weight = {"title": w.title, "body": w.body}[field]
    return Text(field, terms, ((field, weight),) if weight > 0 else ())


def _prefix(node: q.Prefix, w: Weights) -> PlanNode | None:
    field = node.field
    if field in ENTITY_FIELDS:
        return Prefix(field, (sch.entity_key(node.text),), (), node.text)
    if field == "source":
        return Prefix("source", (node.text.casefold(),), (), node.text)
    if field == "id":
        return Prefix("id", (node.text,), (), node.text)
    lower = analysis.fold(node.text)
    stems = tuple(sorted({lower, *analysis.terms(lower)}))
    if field is None:
        return Prefix("body", stems, _free_boosts(w.title, w.body, w.entities), node.text)
    weight = {"title": w.title, "body": w.body}[field]
    return Prefix(field, stems, ((field, weight),) if weight > 0 else (), node.text)


def _date_key(day: dt.date | None, default: dt.date) -> int:
    return sch.date_key(day or default)


def _compile(node: q.Node, w: Weights) -> PlanNode | None:
    if isinstance(node, (q.Term, q.Phrase)):
        return _leaf(node, w)
    if isinstance(node, q.Prefix):
        return _prefix(node, w)
    if isinstance(node, q.DateRange):
        return Dates(_date_key(node.start, dt.date.min), _date_key(node.end, dt.date.max))
    if isinstance(node, q.MatchAll):
        return Every()
    if isinstance(node, q.Not):
        child = _compile(node.child, w)
        return None if child is None else AllOf((Every(),), (child,))
    children = [c for c in (_compile(child, w) for child in node.children) if c is not None]
    if not children:
        return None
    if isinstance(node, q.Or):
        return children[0] if len(children) == 1 else AnyOf(tuple(children))
    must: list[PlanNode] = []
    must_not: list[PlanNode] = []
    for child in children:  # NOT x inside an AND: the AND excludes x
        if isinstance(child, AllOf) and child.must == (Every(),) and len(child.must_not) == 1:
            must_not.append(child.must_not[0])
        else:
            must.append(child)
    if not must_not and len(must) == 1:
        return must[0]
    return AllOf(tuple(must) or (Every(),), tuple(must_not))


def compile_plan(
    node: q.Node,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    entities: tuple[str, ...] = (),
    source: str | None = None,
    title_boost: float = 2.0,
    body_boost: float = 1.0,
    entity_boost: float = 1.5,
    k1: float = 1.2,
    b: float = 0.75,
) -> Plan:
    """The plan of a parsed query within typed filters (which restrict matches, never score).

    Plans are immutable: the last ``PLAN_CACHE`` distinct calls are answered from a cache.
    """
    return _compiled(node, date_from, date_to, tuple(entities), source, title_boost, body_boost, entity_boost, k1, b)


PLAN_CACHE = 1024
"""Distinct (query, filters, weights) whose plans are kept."""


@functools.lru_cache(maxsize=PLAN_CACHE)  # thread-safe; a call that raises is not kept
def _compiled(
    node: q.Node,
    date_from: dt.date | None,
    date_to: dt.date | None,
    entities: tuple[str, ...],
    source: str | None,
    title_boost: float,
    body_boost: float,
    entity_boost: float,
    k1: float,
    b: float,
) -> Plan:
    root = _compile(node, Weights(title_boost, body_boost, entity_boost))
    if root is None:
        return Plan(Nothing(), k1, b)
    filters: list[PlanNode] = []
    if date_from is not None or date_to is not None:
        filters.append(Dates(_date_key(date_from, dt.date.min), _date_key(date_to, dt.date.max)))
    filters += [Keyword("entity", sch.entity_key(name)) for name in entities]
    if source is not None:
        filters.append(Keyword("source", source.casefold().strip()))
    if filters:
        root = AllOf((*root.must, *filters), root.must_not) if isinstance(root, AllOf) else AllOf((root, *filters))
    return Plan(root, k1, b)


SHAPE_KEY_LIMIT = 48
"""Characters of a :func:`shape_key` kept; a longer shape is one class, ``"long"``."""


def shape_key(node: PlanNode) -> str:
    """The shape of ``node`` without its words: ``"w"`` a word, ``"p"`` a phrase, ``"x"`` a
    prefix, ``"k"`` a keyword value, ``"d"`` dates, ``"e"`` every document, ``"n"`` nothing;
    ``&(..)``, ``|(..)`` and ``-(..)`` for AND, OR and NOT, children sorted.

    Queries of one shape cost alike far more often than queries in general do: an archive
    times its rounds per shape to decide where they run (:mod:`searchlib.archive.dispatch`).
    """
    found = _shape(node)
    return found if len(found) <= SHAPE_KEY_LIMIT else "long"


def _shape(node: PlanNode) -> str:
    if isinstance(node, Text):
        return "w" if len(node.terms) == 1 else "p"
    if isinstance(node, AllOf):
        inner = ",".join(sorted(_shape(c) for c in node.must))
        excluded = ",".join(sorted(_shape(c) for c in node.must_not))
        return f"&({inner})" + (f"-({excluded})" if excluded else "")
    if isinstance(node, AnyOf):
        return "|(" + ",".join(sorted(_shape(c) for c in node.children)) + ")"
    return {Prefix: "x", Keyword: "k", Dates: "d", Every: "e", Nothing: "n"}[type(node)]


def scored_leaves(node: PlanNode) -> list[Text | Prefix | Keyword]:
    """The leaves of ``node`` that contribute to scores (not under a NOT)."""
    if isinstance(node, (Text, Prefix)):
        return [node] if node.boosts else []
    if isinstance(node, Keyword):
        return [node] if node.weight > 0 else []
    if isinstance(node, AllOf):
        return [leaf for child in node.must for leaf in scored_leaves(child)]
    if isinstance(node, AnyOf):
        return [leaf for child in node.children for leaf in scored_leaves(child)]
    return []
