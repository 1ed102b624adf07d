"""The index's alias table: which entity names are one entity, what it is called, what is hidden.

Stored entity lists keep what the extractor found in each article on its own. Everything that
needs more than one article — "HRB" in a later article is the "Hanseatic Reserve Bank" another
article defined — lives here, in one small table per index, applied when entities are *read*
(query rewriting, facets, hits, ``Index.get``). So an index built with ``workers=1`` or
``workers=2``, reopened, or added to later gives the same answers, and editing the table
changes the answers at once without re-indexing.

The table has two parts:

* **learned**: acronym definitions ("Long Name (LN)") counted over every article added, so the
  most frequent long form of an acronym is its canonical name and a one-off misspelling never
  is; plus the built-in aliases (``US`` = United States, ...).
* **curated** by the user: ``merge`` one name into another, ``rename`` an entity, ``block`` a
  false one (it disappears from facets and hits; the text stays searchable).

It is persisted as ``aliases.json`` in the index folder, replaced atomically while the write
lock is held. The query AST rewrite is engine-neutral: an ``entity:`` leaf becomes an ``Or`` of
every name of its entity.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from searchlib import query as q
from searchlib.entities import KNOWN_ALIASES, acronym_definitions
from searchlib.errors import IncompatibleIndexError
from searchlib.models import Article, Entity, EntityKind, FacetCount, RelatedEntity

__all__ = [
    "ALIAS_FILE",
    "AliasFile",
    "AliasTable",
    "EntityCuration",
    "fold_entity_facets",
    "learn_from_text",
    "shown_related",
    "widen_query",
]

ALIAS_FILE = "aliases.json"
FORMAT = 1
_ENTITY_FIELDS = ("entity", "person", "org", "place")
_MAX_CHAIN = 16
_CACHE_SIZE = 50_000
"""Entries each of a table's caches holds before it starts over (bounds memory on huge indexes)."""


def _key(name: str) -> str:
    return " ".join(name.replace(",", " ").split()).casefold()


def _keys(value: Iterable[str]) -> frozenset[str]:
    return frozenset(_key(k) for k in value)


def _frozen_counts(value: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    return {_key(k): {str(n): int(c) for n, c in v.items()} for k, v in value.items()}


def learn_from_text(text: str) -> Counter[tuple[str, str]]:
    """The acronym definitions of one article: ``{(acronym key, long form): 1}``."""
    return Counter((acronym, long) for acronym, long in acronym_definitions(text).items())


@attrs.frozen
class AliasTable:
    """Learned and curated aliases; immutable (every change returns a new table)."""

    learned: dict[str, dict[str, int]] = attrs.field(factory=dict, converter=_frozen_counts)
    """Acronym key -> {long form: number of articles defining it}."""
    merged: dict[str, str] = attrs.field(factory=dict)
    """Name key -> the name it was merged into."""
    renamed: dict[str, str] = attrs.field(factory=dict)
    """Entity key (as resolved) -> the name to show."""
    blocked: frozenset[str] = attrs.field(factory=frozenset, converter=_keys)
    """Entity keys (as resolved) hidden from facets and hits."""

    _long: dict[str, str] = attrs.field(init=False, eq=False, repr=False)
    _groups: dict[str, dict[str, str]] = attrs.field(init=False, eq=False, repr=False)
    """Cache: resolved key -> {name key: name} of every name the table knows (built on first use)."""
    _resolved: dict[str, str] = attrs.field(init=False, eq=False, repr=False)
    """Cache: name -> :meth:`resolve` of it (the table never changes, so neither do answers)."""
    _folded: dict[Entity, tuple[str, Entity | None, bool]] = attrs.field(init=False, eq=False, repr=False)
    """Cache: entity -> its resolved key and how it is shown (see :meth:`apply`)."""

    def __attrs_post_init__(self) -> None:
        long = {_key(form): acronym for acronym, forms in self.learned.items() for form in forms}
        object.__setattr__(self, "_long", long)
        object.__setattr__(self, "_groups", {})
        object.__setattr__(self, "_resolved", {})
        object.__setattr__(self, "_folded", {})

    # --- resolving --------------------------------------------------------------------

    def best_long_form(self, acronym: str) -> str | None:
        """The most frequent long form defined for ``acronym`` (ties: alphabetically first)."""
        forms = self.learned.get(_key(acronym))
        if not forms:
            return None
        return min(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0]

    def _long_forms(self) -> dict[str, str]:
        """Every learned long form's key -> its acronym's key."""
        return self._long

    def _follow(self, name: str) -> str:
        seen = 0
        while _key(name) in self.merged and seen < _MAX_CHAIN:
            target = self.merged[_key(name)]
            if _key(target) == _key(name):
                break
            name, seen = target, seen + 1
        return name

    def resolve(self, name: str) -> str:
        """The canonical name of the entity called ``name`` (before renaming and blocking)."""
        found = self._resolved.get(name)
        if found is None:
            if len(self._resolved) >= _CACHE_SIZE:
                self._resolved.clear()
            found = self._resolved[name] = self._resolve(name)
        return found

    def _resolve(self, name: str) -> str:
        name = self._follow(name)
        key = _key(name)
        if "." in key and len(key) <= 12 and key.replace(".", "") in (self.learned.keys() | KNOWN_ALIASES.keys()):
            key = key.replace(".", "")  # "U.S." is US
        acronym = key if key in self.learned else self._long_forms().get(key)
        if acronym is not None:
            name = self.best_long_form(acronym) or name
        elif key in KNOWN_ALIASES:
            name = KNOWN_ALIASES[key]
        return self._follow(name)

    def display(self, name: str) -> str | None:
        """The name to show for ``name``; ``None`` when its entity is blocked."""
        canonical = self.resolve(name)
        key = _key(canonical)
        if key in self.blocked:
            return None
        return self.renamed.get(key, canonical)

    def names_for(self, name: str) -> tuple[str, ...]:
        """Every name known to belong to the entity of ``name``, ``name`` first (for queries)."""
        canonical = self.resolve(name)
        target = _key(canonical)
        out = {_key(name): name, target: canonical}
        for key, known in self._known_groups().get(target, {}).items():
            out.setdefault(key, known)
        if target in self.renamed:
            out.setdefault(_key(self.renamed[target]), self.renamed[target])
        return tuple(out.values())

    def _known_groups(self) -> dict[str, dict[str, str]]:
        """Every name the table knows, grouped by the key it resolves to (computed once per table)."""
        if not self._groups:
            universe: list[str] = []
            for acronym, forms in self.learned.items():
                universe += [acronym.upper(), *forms]
            universe += [*self.merged.values(), *self.renamed.values(), *KNOWN_ALIASES.values()]
            universe += [*self.merged, *(k.upper() if len(k) <= 4 else k.title() for k in KNOWN_ALIASES)]
            for candidate in universe:
                group = self._groups.setdefault(_key(self.resolve(candidate)), {})
                group.setdefault(_key(candidate), candidate)
        return self._groups

    # --- applying -----------------------------------------------------------------------

    def apply(self, entities: Sequence[Entity]) -> tuple[Entity, ...]:
        """Entities as shown: canonical (or renamed) names, aliases kept, blocked ones dropped.

        An entity is resolved through its name or, failing that, any of its aliases ("OPEC"
        brings a misspelt long form to the most frequent one).
        """
        out: dict[str, Entity] = {}
        for ent in entities:
            key, folded, _same = self._fold(ent)
            if folded is None:
                continue
            if key in out:
                into = out[key]
                kind = into.kind if into.kind is not EntityKind.OTHER else folded.kind
                extra = [n for n in folded.names if _key(n) not in {_key(m) for m in into.names}]
                folded = Entity(into.name, kind, (*into.aliases, *extra))
            out[key] = folded
        return tuple(out.values())

    def _fold(self, ent: Entity) -> tuple[str, Entity | None, bool]:
        """(resolved key, ``ent`` as shown or None when blocked, whether it shows as stored),
        computed once per entity (by value: an equal entity of another article finds it too)."""
        found = self._folded.get(ent)
        if found is not None:
            return found
        canonical = self.resolve(ent.name)
        if _key(canonical) == ent.key:
            for alias in ent.aliases:
                other = self.resolve(alias)
                if _key(other) != _key(alias):
                    canonical = other
                    break
        key = _key(canonical)
        if key in self.blocked:
            found = (key, None, False)
        else:
            shown = self.renamed.get(key, canonical)
            names = [n for n in (*ent.names, *(() if shown == canonical else (canonical,))) if _key(n) != _key(shown)]
            same = shown == ent.name and tuple(names) == ent.aliases
            found = (key, ent if same else Entity(shown, ent.kind, tuple(names)), same)  # most show as stored
        if len(self._folded) >= _CACHE_SIZE:
            self._folded.clear()
        self._folded[ent] = found
        return found

    def show(self, article: Article) -> Article:
        """``article`` with its entities as the table shows them."""
        entities = article.entities
        if not entities:
            return article
        folded, keys = self._folded, set()
        for ent in entities:  # the usual case, checked without building anything: each shows as stored
            found = folded.get(ent) or self._fold(ent)  # found for an equal entity: its flag holds for ``ent``
            if not found[2] or found[0] in keys:
                break
            keys.add(found[0])
        else:
            return article  # nothing to fold, rename or hide: no copy to validate
        return attrs.evolve(article, entities=self.apply(entities))

    def rewrite(self, node: q.Node) -> q.Node:
        """``node`` with each ``entity:``/``person:``/``org:``/``place:`` term or phrase widened
        to an ``Or`` of every name of its entity (engine-neutral: the AST only)."""
        if isinstance(node, q.Term | q.Phrase) and node.field in _ENTITY_FIELDS:
            names = self.names_for(node.text)
            if len(names) <= 1:
                return node
            return q.Or(tuple(q.Term(n, node.field) for n in names))
        if isinstance(node, q.And):
            return q.And(tuple(self.rewrite(c) for c in node.children))
        if isinstance(node, q.Or):
            return q.Or(tuple(self.rewrite(c) for c in node.children))
        if isinstance(node, q.Not):
            return q.Not(self.rewrite(node.child))
        return node

    # --- changing -----------------------------------------------------------------------

    def learn(self, definitions: Mapping[tuple[str, str], int]) -> AliasTable:
        """Add counted acronym definitions (``{(acronym, long form): articles}``)."""
        if not definitions:
            return self
        learned = {k: dict(v) for k, v in self.learned.items()}
        for (acronym, long), count in sorted(definitions.items()):
            forms = learned.setdefault(_key(acronym), {})
            forms[long] = forms.get(long, 0) + count
        return attrs.evolve(self, learned=learned)

    def definitions(self) -> Counter[tuple[str, str]]:
        """The learned part as counted definitions (``{(acronym key, long form): articles}``),
        the form :meth:`learn` takes: summing shards' tables gives the table of all their articles."""
        return Counter({(acronym, long): n for acronym, forms in self.learned.items() for long, n in forms.items()})

    def forget_learned(self) -> AliasTable:
        return attrs.evolve(self, learned={})

    def merge(self, name: str, into: str) -> AliasTable:
        """``name`` (and every name of its entity) becomes a name of ``into``'s entity."""
        if _key(self.resolve(name)) == _key(self.resolve(into)):
            return self
        merged = dict(self.merged)
        merged[_key(self.resolve(name))] = self.resolve(into)
        merged[_key(name)] = self.resolve(into)
        return attrs.evolve(self, merged=merged)

    def rename(self, name: str, new: str) -> AliasTable:
        """Show ``name``'s entity as ``new``; ``new`` finds it in queries too."""
        if not new.strip():
            raise ValueError("the new name must not be empty")
        canonical = self.resolve(name)
        renamed = dict(self.renamed)
        renamed[_key(canonical)] = new.strip()
        merged = dict(self.merged)
        if _key(new) != _key(canonical):
            merged[_key(new)] = canonical
        return attrs.evolve(self, renamed=renamed, merged=merged)

    def block(self, name: str) -> AliasTable:
        return attrs.evolve(self, blocked=self.blocked | {_key(self.resolve(name))})

    def unblock(self, name: str) -> AliasTable:
        return attrs.evolve(self, blocked=self.blocked - {_key(self.resolve(name)), _key(name)})

    def rows(self) -> list[tuple[str, str, str]]:
        """(kind of row, name, what it maps to) for listing: learned, merged, renamed, blocked."""
        out: list[tuple[str, str, str]] = []
        for acronym in sorted(self.learned):
            forms = ", ".join(f"{n} ({c})" for n, c in sorted(self.learned[acronym].items(), key=lambda kv: -kv[1]))
            out.append(("learned", acronym.upper(), f"{self.best_long_form(acronym)} — from {forms}"))
        out += [("merged", k, v) for k, v in sorted(self.merged.items())]
        out += [("renamed", k, v) for k, v in sorted(self.renamed.items())]
        out += [("blocked", k, "") for k in sorted(self.blocked)]
        return out

    # --- persistence ---------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "learned": self.learned,
            "merged": self.merged,
            "renamed": self.renamed,
            "blocked": sorted(self.blocked),
        }

    @classmethod
    def from_json(cls, data: Any, *, path: Path | None = None) -> AliasTable:
        try:
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not an alias table of format {FORMAT}")
            return cls(
                learned=data.get("learned", {}),
                merged={_key(k): str(v) for k, v in data.get("merged", {}).items()},
                renamed={_key(k): str(v) for k, v in data.get("renamed", {}).items()},
                blocked=_keys(str(k) for k in data.get("blocked", [])),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise IncompatibleIndexError(f"{path or ALIAS_FILE}: {exc}", path=path) from exc

    @classmethod
    def load(cls, folder: Path) -> AliasTable:
        """The table in ``folder`` (an empty one when there is none yet)."""
        path = folder / ALIAS_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IncompatibleIndexError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}", path=path) from exc
        return cls.from_json(data, path=path)

    def save(self, folder: Path) -> None:
        """Replace ``folder/aliases.json`` atomically (the caller holds the write lock)."""
        path = folder / ALIAS_FILE
        tmp = path.with_name(f".{ALIAS_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8")
        os.replace(tmp, path)


def count_definitions(texts: Iterable[str]) -> Counter[tuple[str, str]]:
    total: Counter[tuple[str, str]] = Counter()
    for text in texts:
        total.update(learn_from_text(text))
    return total


def widen_query(table: AliasTable, node: q.Node, entities: Sequence[str]) -> tuple[q.Node, tuple[str, ...]]:
    """The query with entity names widened by ``table``, and the entity filters that still fit a
    plain filter (an entity with several names becomes an ``Or`` and-ed to the query)."""
    if isinstance(entities, str):
        raise TypeError("entities must be a sequence of names, not a string")
    node = table.rewrite(node)
    plain: list[str] = []
    extra: list[q.Node] = []
    for name in entities:
        names = table.names_for(name)
        if len(names) <= 1:
            plain.append(name)
        else:
            extra.append(q.Or(tuple(q.Term(n, "entity") for n in names)))
    if extra:
        node = q.And((*(() if isinstance(node, q.MatchAll) else (node,)), *extra))
    return node, tuple(plain)


def fold_entity_facets(
    table: AliasTable, raw: Sequence[FacetCount], node: q.Node, size: int, count: Callable[[q.Node], int]
) -> tuple[FacetCount, ...]:
    """Entity facet counts by entity as shown: merged names recounted exactly, blocked ones dropped.

    ``raw`` are the stored names' counts over the matches of ``node``; ``count(query)`` counts
    the articles matching ``query`` within the same filters (an article may name an entity
    several ways: it counts once).
    """
    groups: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    counts: dict[str, int] = {}
    for fc in raw:
        name = table.display(fc.value)
        if name is None:
            continue
        key = name.casefold()
        shown.setdefault(key, name)
        groups.setdefault(key, []).append(fc.value)
        counts[key] = counts.get(key, 0) + fc.count
    for key, raw_names in groups.items():
        if len(raw_names) > 1:
            either = q.Or(tuple(q.Term(n, "entity") for n in table.names_for(shown[key])))
            counts[key] = count(either if isinstance(node, q.MatchAll) else q.And((node, either)))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:size]
    return tuple(FacetCount(shown[k], n) for k, n in ranked)


def shown_related(table: AliasTable, rows: Iterable[RelatedEntity], named: Iterable[str]) -> tuple[RelatedEntity, ...]:
    """Related entities under their shown names: blocked ones and repeats of an entity (or of one
    named in the query, given as entity keys) dropped."""
    out: list[RelatedEntity] = []
    seen = set(named)
    for entity in rows:
        name = table.display(entity.name)
        if name is not None and _key(name) not in seen:
            seen.add(_key(name))
            out.append(attrs.evolve(entity, name=name))
    return tuple(out)


class EntityCuration:
    """The entity-curation verbs :class:`~searchlib.Index` and :class:`~searchlib.Archive` share.

    Each supplies ``_curate``, which applies a change to its alias table under its write lock,
    persists it and returns the new table; the verbs only say which change.
    """

    def _curate(self, change: Callable[[AliasTable], AliasTable], timeout: float) -> AliasTable:
        raise NotImplementedError

    def merge_entities(self, name: str, into: str, *, timeout: float = 0.0) -> AliasTable:
        """Make ``name`` another name of ``into``'s entity, in queries, facets and hits (persisted)."""
        return self._curate(lambda t: t.merge(name, into), timeout)

    def rename_entity(self, name: str, new_name: str, *, timeout: float = 0.0) -> AliasTable:
        """Show ``name``'s entity as ``new_name`` (both names find it in queries; persisted)."""
        return self._curate(lambda t: t.rename(name, new_name), timeout)

    def block_entity(self, name: str, *, timeout: float = 0.0) -> AliasTable:
        """Hide a false entity from facets and hits (its words stay searchable; persisted)."""
        return self._curate(lambda t: t.block(name), timeout)

    def unblock_entity(self, name: str, *, timeout: float = 0.0) -> AliasTable:
        """Undo :meth:`block_entity`."""
        return self._curate(lambda t: t.unblock(name), timeout)


class AliasFile:
    """An index's alias table as kept in its folder (``ALIAS_FILE``), re-read when it changed.

    Another process (the CLI, another ``Index`` on the same folder) may curate the table: each
    read compares the file's modification time and size with those last read, so a change is
    seen without parsing the file on every query. In memory (``folder`` None) only this copy exists.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._path = None if folder is None else os.fspath(folder / ALIAS_FILE)  # stat'ed every search: no pathlib
        self._table = AliasTable.load(folder) if folder is not None else AliasTable()
        self._stamp = self._file_stamp()

    def _file_stamp(self) -> tuple[int, int] | None:
        if self._path is None:
            return None
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def table(self) -> AliasTable:
        """The current table (re-read when the file changed since it was last read or written)."""
        stamp = self._file_stamp()
        if stamp != self._stamp and self.folder is not None:
            self._table, self._stamp = AliasTable.load(self.folder), stamp
        return self._table

    def replace(self, table: AliasTable) -> None:
        """Keep ``table`` and persist it (the caller holds the index's write lock)."""
        self._table = table
        if self.folder is not None:
            table.save(self.folder)
            self._stamp = self._file_stamp()
