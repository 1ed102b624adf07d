"""Each document's facet values -- its source and its entities' names -- as ids into a segment's tables.

A segment's distinct entity names (an entity's name and aliases, ``ALIAS_SEP``-joined, as the
article gave them) and sources are stored once each, in sorted dictionaries; a document holds
its source's id and its entities' ids, in the article's order (sidecar version 8, see
:mod:`.sidecar`). Facets, related entities and entity statistics count ids with numpy instead
of decoding every matching document's names, and the table takes ~10 MB at 100,000 news
articles where the Whoosh ``facets`` column of versions up to 7 took 27 MB (every name as text
in every article). A segment written by older code is read through that column once
(:func:`of_values`) and gets its table on ``searchlib upgrade`` or its next merge.
"""

from __future__ import annotations

import itertools
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib._whoosh.ranges import gather
from searchlib._whoosh.terms import TermDict

__all__ = ["ALIAS_SEP", "ENTITY_SEP", "FacetTable", "FacetsBuilder", "Merged", "merged", "of_values"]

I64 = npt.NDArray[np.int64]

ENTITY_SEP = "\x1f"
"""Between the source and each entity in a document's facets value (``schema.to_document`` writes it)."""
ALIAS_SEP = "\x1e"
"""Between an entity's name and each of its aliases."""

MERGE_DOCS = 1 << 16
"""Documents remapped at a time by a merge (bounded temporaries: ~20 names a news article)."""


def _term(terms: list[str] | TermDict, i: int) -> str:
    return terms.key(i).decode("utf-8") if isinstance(terms, TermDict) else terms[i]


def _all(terms: list[str] | TermDict) -> list[str]:
    return terms.decode() if isinstance(terms, TermDict) else terms


class FacetTable:
    """One segment's facet values (immutable; shared by every thread and snapshot).

    ``names`` and ``sources`` are sorted; document ``d``'s entities are
    ``ids[starts[d]:starts[d + 1]]`` and its source ``sources[source_ids[d]]`` (``""``: none).
    """

    def __init__(
        self,
        names: list[str] | TermDict,
        sources: list[str] | TermDict,
        starts: npt.NDArray[Any],
        ids: npt.NDArray[Any],
        source_ids: npt.NDArray[Any],
    ) -> None:
        self.names = names
        self.sources = sources
        self.starts = starts
        self.ids = ids
        self.source_ids = source_ids
        self._keyed: tuple[list[str], I64] | None = None
        self._aliased: tuple[I64, list[frozenset[str]]] | None = None
        self._lock = threading.Lock()

    @property
    def doc_count(self) -> int:
        return len(self.source_ids)

    def name(self, i: int) -> str:
        """Entity string ``i``: the name, then its aliases, ``ALIAS_SEP``-joined."""
        return _term(self.names, i)

    def source(self, i: int) -> str:
        return _term(self.sources, i)

    def document(self, docnum: int) -> tuple[str, list[str]]:
        """(source, entity strings) of one document, as the article gave them."""
        a, b = int(self.starts[docnum]), int(self.starts[docnum + 1])
        return self.source(int(self.source_ids[docnum])), [self.name(int(i)) for i in self.ids[a:b]]

    def keyed(self, key: Callable[[str], str]) -> tuple[list[str], I64]:
        """(the sorted distinct keys of the entities' names, each entity string's key number).

        ``key`` maps an entity's name (not its aliases) to its key (``schema.entity_key``: the
        same for every call on one table). Made on first use, then kept: the table never changes.
        """
        found = self._keyed
        if found is None:
            with self._lock:
                found = self._keyed
                if found is None:
                    names = [key(n.split(ALIAS_SEP, 1)[0]) for n in _all(self.names)]
                    keys = sorted(set(names))
                    index = {k: i for i, k in enumerate(keys)}
                    of_name = np.fromiter((index[k] for k in names), dtype=np.int64, count=len(names))
                    found = self._keyed = (keys, of_name)
        return found

    def aliased(self, key: Callable[[str], str]) -> tuple[I64, list[frozenset[str]]]:
        """(the ids of the entity strings that have aliases, each one's alias keys); made once, as :meth:`keyed`."""
        found = self._aliased
        if found is None:
            with self._lock:
                found = self._aliased
                if found is None:
                    with_aliases = [(i, n) for i, n in enumerate(_all(self.names)) if ALIAS_SEP in n]
                    ids = np.fromiter((i for i, _ in with_aliases), dtype=np.int64, count=len(with_aliases))
                    sets = [frozenset(key(a) for a in n.split(ALIAS_SEP)[1:]) for _, n in with_aliases]
                    found = self._aliased = (ids, sets)
        return found

    def picked(self, docs: I64) -> I64:
        """The entity string ids of ``docs`` (ascending), document after document, in each one's order."""
        if not len(docs):
            return np.zeros(0, dtype=np.int64)
        if len(docs) == self.doc_count:  # every document (they are distinct): no ranges to gather
            return np.asarray(self.ids).astype(np.int64)
        lo, hi = (np.asarray(self.starts[at]).astype(np.int64) for at in (docs, docs + 1))
        return np.asarray(self.ids)[gather(lo, hi)].astype(np.int64)

    def mentions(self, docs: I64) -> tuple[I64, I64]:
        """(entity string ids, documents of ``docs`` naming each), ordered by where each is first named.

        ``docs`` ascending; an entity named twice by one document (two kinds, one name) counts
        twice, as a scan of the documents would. First-named order lets a caller keep the
        name seen first for each entity key, exactly as a scan in document order does.
        """
        if not len(docs):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        found, first, counts = np.unique(self.picked(docs), return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        return found[order].astype(np.int64), counts[order].astype(np.int64)

    def source_counts(self, docs: I64) -> Iterator[tuple[str, int]]:
        """(source, documents of ``docs`` from it), the empty source left out."""
        counts = np.bincount(np.asarray(self.source_ids)[docs].astype(np.int64), minlength=len(self.sources))
        for i in np.flatnonzero(counts).tolist():
            if name := self.source(i):
                yield name, int(counts[i])

    def arrays(self) -> Iterator[tuple[str, npt.NDArray[Any]]]:
        """The arrays a sidecar stores (dictionaries as blob and starts), by their names there."""
        for label, terms in (("facets.names", self.names), ("facets.sources", self.sources)):
            blob, tstarts = terms.arrays() if isinstance(terms, TermDict) else TermDict.pack(terms)
            yield label, blob
            yield f"{label}.start", tstarts
        yield "facets.start", self.starts
        yield "facets.ids", self.ids
        yield "facets.source", self.source_ids

    def damage(self) -> str | None:
        """What is wrong with the table, or None (every entry read: for ``searchlib check``)."""
        starts = np.asarray(self.starts, dtype=np.int64)
        if len(starts) != self.doc_count + 1 or (len(starts) and (starts[0] != 0 or starts[-1] != len(self.ids))):
            return "the facet table's document offsets do not fit its entities"
        if bool((np.diff(starts) < 0).any()):
            return "the facet table's document offsets are out of order"
        for label, ids, terms in (("entities", self.ids, self.names), ("sources", self.source_ids, self.sources)):
            if len(ids) and (int(np.min(ids)) < 0 or int(np.max(ids)) >= len(terms)):
                return f"the facet table names {label} it does not have"
        for label, terms in (("entity", self.names), ("source", self.sources)):
            decoded = _all(terms)
            if isinstance(terms, TermDict) and not np.array_equal(
                np.asarray(terms.arrays()[1], dtype=np.int64), TermDict.pack(decoded)[1]
            ):
                return f"the facet table's {label} dictionary offsets do not fit its names"
            if any(a >= b for a, b in itertools.pairwise(decoded)):
                return f"the facet table's {label} dictionary is not sorted"
        return None


def _narrowest(top: int) -> np.dtype[Any]:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


class FacetsBuilder:
    """A new segment's table, collected document by document as the writer adds them."""

    def __init__(self) -> None:
        self._names: dict[str, int] = {}
        self._sources: dict[str, int] = {"": 0}
        # per document added: its number, source and entity count; its entities (first-seen ids) after another's
        self._docnums = array("q")
        self._source_of = array("q")
        self._counts = array("q")
        self._ids = array("q")

    def add(self, docnum: int, value: bytes | str) -> None:
        """Document ``docnum``'s facets value: ``source ENTITY_SEP entity ENTITY_SEP ...`` (the column's format)."""
        text = value.decode("utf-8") if isinstance(value, bytes) else value
        source, *entities = text.split(ENTITY_SEP)
        sources, names = self._sources, self._names
        self._docnums.append(docnum)
        self._source_of.append(sources.setdefault(source, len(sources)))
        self._counts.append(len(entities))
        self._ids.extend([names.setdefault(e, len(names)) for e in entities])

    def finish(self, doc_count: int) -> FacetTable:
        """The table of documents ``0 .. doc_count - 1`` (a document never added has no source and no entity)."""
        names = sorted(self._names)
        sources = sorted(self._sources)
        name_map = np.zeros(len(names), dtype=np.int64)
        name_map[np.fromiter((self._names[n] for n in names), dtype=np.int64, count=len(names))] = np.arange(len(names))
        source_map = np.zeros(len(sources), dtype=np.int64)
        source_map[np.fromiter((self._sources[s] for s in sources), np.int64, len(sources))] = np.arange(len(sources))
        docnums = np.frombuffer(self._docnums, dtype=np.int64)
        counts_added = np.frombuffer(self._counts, dtype=np.int64)
        first = np.zeros(len(counts_added) + 1, dtype=np.int64)
        np.cumsum(counts_added, out=first[1:])
        keep = np.flatnonzero(docnums < doc_count)
        keep = keep[np.argsort(docnums[keep], kind="stable")]  # documents in number order
        counts = np.zeros(doc_count, dtype=np.int64)
        counts[docnums[keep]] = counts_added[keep]
        source_ids = np.zeros(doc_count, dtype=np.int64)  # "" sorts first: no source
        source_ids[docnums[keep]] = source_map[np.frombuffer(self._source_of, dtype=np.int64)[keep]]
        starts = np.zeros(doc_count + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        seen = np.frombuffer(self._ids, dtype=np.int64)[gather(first[keep], first[keep + 1])]
        ids = name_map[seen]
        return FacetTable(
            names,
            sources,
            starts.astype(_narrowest(int(starts[-1]))),
            ids.astype(_narrowest(max(len(names) - 1, 0))),
            source_ids.astype(_narrowest(len(sources) - 1)),
        )


def of_values(values: Iterable[bytes | str], doc_count: int) -> FacetTable:
    """The table of a segment written before sidecar version 8, from its Whoosh ``facets`` column's values."""
    builder = FacetsBuilder()
    for docnum, value in enumerate(values):
        if docnum >= doc_count:
            break
        builder.add(docnum, value or b"")
    return builder.finish(doc_count)


Part = tuple[FacetTable, "npt.NDArray[np.bool_] | None"]
"""A source segment's table and its live-document mask (None: every document kept)."""


class Merged:
    """The table of a segment made of parts' live documents, in order: dictionaries and sizes first,
    then its arrays a few documents at a time (:meth:`chunks`), so a merge never holds them whole.

    Names and sources no live document uses are dropped, as a posting merge drops such terms.
    """

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts
        union_names = sorted(set().union(*(_all(t.names) for t, _ in parts)))
        union_sources = sorted(set().union([""], *(_all(t.sources) for t, _ in parts)))
        name_index = {n: i for i, n in enumerate(union_names)}
        source_index = {s: i for i, s in enumerate(union_sources)}
        self._name_maps = [
            np.fromiter((name_index[n] for n in _all(t.names)), np.int64, len(t.names)) for t, _ in parts
        ]
        self._source_maps = [
            np.fromiter((source_index[s] for s in _all(t.sources)), np.int64, len(t.sources)) for t, _ in parts
        ]
        del name_index, source_index
        used_names = np.zeros(len(union_names), dtype=bool)
        used_sources = np.zeros(len(union_sources), dtype=bool)
        used_sources[0] = True  # "" stays: a document without a source names it
        self.doc_count = self.mentions = 0
        for (table, live), name_map, source_map in zip(self.parts, self._name_maps, self._source_maps, strict=True):
            for docs in _live_chunks(table, live):
                picked = table.picked(docs)
                used_names[name_map[picked]] = True
                used_sources[source_map[np.asarray(table.source_ids)[docs].astype(np.int64)]] = True
                self.doc_count += len(docs)
                self.mentions += len(picked)
        self.names = [n for n, keep in zip(union_names, used_names.tolist(), strict=True) if keep]
        self.sources = [s for s, keep in zip(union_sources, used_sources.tolist(), strict=True) if keep]
        compact_names = np.cumsum(used_names) - 1
        compact_sources = np.cumsum(used_sources) - 1
        self._name_maps = [compact_names[m] for m in self._name_maps]
        self._source_maps = [compact_sources[m] for m in self._source_maps]
        self.starts_dtype = _narrowest(self.mentions)
        self.ids_dtype = _narrowest(max(len(self.names) - 1, 0))
        self.source_dtype = _narrowest(len(self.sources) - 1)

    def chunks(self) -> Iterator[tuple[I64, I64, I64]]:
        """(entity counts per document, entity ids, source ids) of the live documents, in order, a chunk at a time."""
        for (table, live), name_map, source_map in zip(self.parts, self._name_maps, self._source_maps, strict=True):
            for docs in _live_chunks(table, live):
                picked = table.picked(docs)
                yield (
                    np.asarray(table.starts[docs + 1]).astype(np.int64) - np.asarray(table.starts[docs]),
                    name_map[picked],
                    source_map[np.asarray(table.source_ids)[docs].astype(np.int64)],
                )

    def table(self) -> FacetTable:
        """The whole table in memory (an in-memory merge)."""
        counts, ids, sources = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)], [np.zeros(0, np.int64)]
        for c, i, s in self.chunks():
            counts.append(c)
            ids.append(i)
            sources.append(s)
        starts = np.zeros(self.doc_count + 1, dtype=np.int64)
        np.cumsum(np.concatenate(counts), out=starts[1:])
        return FacetTable(
            self.names,
            self.sources,
            starts.astype(self.starts_dtype),
            np.concatenate(ids).astype(self.ids_dtype),
            np.concatenate(sources).astype(self.source_dtype),
        )


def _live_chunks(table: FacetTable, live: npt.NDArray[np.bool_] | None) -> Iterator[I64]:
    """The live document numbers of ``table``, ``MERGE_DOCS`` documents at a time."""
    for lo in range(0, table.doc_count, MERGE_DOCS):
        hi = min(lo + MERGE_DOCS, table.doc_count)
        docs = np.arange(lo, hi, dtype=np.int64)
        yield docs if live is None else docs[live[lo:hi]]


def merged(parts: list[Part]) -> FacetTable:
    """The table of a segment made of ``parts``' live documents, in order, in memory."""
    return Merged(parts).table()
