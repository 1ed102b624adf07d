"""News analytics over a set of matching documents: facets, co-occurring entities and date counts.

Entity and source counts read each segment's facet table (:mod:`.facettable`): ids counted with
numpy, each distinct name decoded once, never a document's names one by one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from searchlib._whoosh import schema as sch
from searchlib._whoosh.facettable import ALIAS_SEP, FacetTable
from searchlib.models import DateBucket, FacetCount, Facets

TableParts = Sequence[tuple[FacetTable, npt.NDArray[np.int64]]]
"""Each segment's facet table with the documents asked about in it (its own numbers, ascending), in segment order."""


def mentions(parts: TableParts) -> Iterator[tuple[str, int]]:
    """(entity string -- name and aliases, ``ALIAS_SEP``-joined --, documents naming it), in first-named order.

    First-named over the documents in order, as a scan of them would meet each: a caller
    keeping the first name it meets per entity key keeps the one such a scan keeps.
    """
    for table, docs in parts:
        ids, counts = table.mentions(docs)
        for i, n in zip(ids.tolist(), counts.tolist(), strict=True):
            yield table.name(i), n


class FacetKeys:
    """Every entity key named in a snapshot's segments, sorted, and each segment's entity strings' key numbers.

    Made once per snapshot (each segment's own keys once per segment: :meth:`.FacetTable.keyed`),
    so facets count key numbers with numpy and decode only the names they show.
    """

    def __init__(self, tables: Sequence[FacetTable]) -> None:
        keyed = [table.keyed(sch.entity_key) for table in tables]
        self.keys: list[str] = sorted(set().union(*(keys for keys, _ in keyed)))
        index = {key: i for i, key in enumerate(self.keys)}
        self._of: dict[int, npt.NDArray[np.int64]] = {}
        for table, (keys, of_name) in zip(tables, keyed, strict=True):
            here = np.fromiter((index[k] for k in keys), dtype=np.int64, count=len(keys))
            self._of[id(table)] = here[of_name]

    def of(self, table: FacetTable) -> npt.NDArray[np.int64]:
        """The key number of each of ``table``'s entity strings."""
        return self._of[id(table)]


def _top_keys(counts: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.int64]:
    """The key numbers of the ``size`` largest counts, ties by key (numbers are in key order)."""
    present = np.flatnonzero(counts)
    if len(present) > size:
        cut = len(present) - size
        threshold = np.partition(counts[present], cut)[cut]  # the size-th largest count
        present = present[counts[present] >= threshold]
    order = np.lexsort((present, -counts[present]))[:size]
    chosen: npt.NDArray[np.int64] = present[order]
    return chosen


FIRST_CHUNK = 1 << 16
"""Mentions searched at a time for where the shown entities are first named (the top ones come early)."""


def _first_places(kids: npt.NDArray[np.int64], chosen: npt.NDArray[np.int64], count: int) -> Iterator[tuple[int, int]]:
    """(key, where ``kids`` first holds it) for each key of ``chosen``, a chunk of ``kids`` at a time."""
    wanted = np.zeros(count, dtype=bool)
    wanted[chosen] = True
    left = len(chosen)
    for lo in range(0, len(kids), FIRST_CHUNK):
        if not left:
            return
        chunk = kids[lo : lo + FIRST_CHUNK]
        at = np.flatnonzero(wanted[chunk])
        if not len(at):
            continue
        found, first = np.unique(chunk[at], return_index=True)
        wanted[found] = False
        left -= len(found)
        yield from zip(found.tolist(), (at[first] + lo).tolist(), strict=True)


def facets(parts: TableParts, keys: FacetKeys, dates: Mapping[str, int], bucket: DateBucket, size: int) -> Facets:
    """Top ``size`` entities (by documents, then key) and sources over the documents of ``parts``.

    An entity shows under the name a scan of the documents in order meets first for its key.
    ``dates`` (bucket label -> documents) are counted by the caller, from the date column.
    """
    picked = [table.picked(docs) for table, docs in parts]
    kids = (
        np.concatenate([keys.of(table)[ids] for (table, _), ids in zip(parts, picked, strict=True)])
        if parts
        else np.zeros(0, dtype=np.int64)
    )
    counts = np.bincount(kids, minlength=len(keys.keys))
    chosen = _top_keys(counts, size)
    bounds = np.cumsum([0, *(len(ids) for ids in picked)])
    display: dict[int, str] = {}
    for key, position in _first_places(kids, chosen, len(keys.keys)):
        segment = int(np.searchsorted(bounds, position, side="right")) - 1
        table = parts[segment][0]
        display[key] = table.name(int(picked[segment][position - bounds[segment]])).split(ALIAS_SEP, 1)[0]
    entities = tuple(FacetCount(display[k], int(counts[k])) for k in chosen.tolist())
    source_counts: Counter[str] = Counter()
    for table, docs in parts:
        for source, n in table.source_counts(docs):
            source_counts[source] += n
    sources = sorted(source_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:size]
    return Facets(
        entities=entities,
        dates=tuple(FacetCount(k, n) for k, n in sorted(dates.items())),
        sources=tuple(FacetCount(k, n) for k, n in sources),
        date_bucket=bucket,
    )


def entity_counts(parts: TableParts) -> tuple[Counter[str], dict[str, str], dict[str, set[str]]]:
    """Documents per entity key among the documents of ``parts``, a display name and the alias keys of each key."""
    counts: Counter[str] = Counter()
    display: dict[str, str] = {}
    aliases: dict[str, set[str]] = {}
    for entity, n in mentions(parts):
        name, *others = entity.split(ALIAS_SEP)
        key = sch.entity_key(name)
        display.setdefault(key, name)
        aliases.setdefault(key, set()).update(sch.entity_key(o) for o in others)
        counts[key] += n
    return counts, display, aliases


def related(
    parts: TableParts,
    total: int,
    doc_frequency: Callable[[str], int],
    *,
    exclude: Collection[str],
    size: int,
    min_count: int,
) -> list[tuple[str, int, int, float]]:
    """(name, foreground count, background count, JLH significance), most significant first.

    The foreground is the documents of ``parts``; the background is the whole index of
    ``total`` live documents, ``doc_frequency(key)`` giving those that name an entity key
    (:func:`.keywords.live_doc_frequency`). The JLH score of Elasticsearch's significant
    terms, ``(fg% - bg%) * fg% / bg%``, favours entities that are both frequent among the
    matches and unusually so compared with the archive.
    """
    matched = sum(len(docs) for _, docs in parts)
    if not matched:
        return []
    total = max(total, 1)
    counts, display, aliases = entity_counts(parts)
    out = []
    for key, count in counts.items():
        if key in exclude or not aliases[key].isdisjoint(exclude) or count < min_count:
            continue
        background = max(doc_frequency(key), count)
        fg, bg = count / matched, background / total
        score = (fg - bg) * (fg / bg) if fg > bg else 0.0
        out.append((display[key], count, background, score))
    out.sort(key=lambda row: (-row[3], -row[1], row[0].casefold()))
    return out[:size]


def entity_names(parts: TableParts) -> dict[str, str]:
    """Entity key -> the name first stored for it, over the documents of ``parts``."""
    names: dict[str, str] = {}
    for entity, _n in mentions(parts):
        name = entity.split(ALIAS_SEP, 1)[0]
        names.setdefault(sch.entity_key(name), name)
    return names


def distinct_entities(parts: TableParts, shown: Callable[[str], str | None] | None = None) -> int:
    """Entities named by the documents of ``parts``, counted as facets count them (canonical names, not aliases).

    ``shown`` maps a stored name to the name facets show (``None``: hidden), e.g. the alias table's.
    """
    keys: set[str] = set()
    for entity, _n in mentions(parts):
        name = entity.split(ALIAS_SEP, 1)[0]
        name_shown = name if shown is None else shown(name)
        if name_shown is not None:
            keys.add(sch.entity_key(name_shown))
    return len(keys)


def bucket_labels(first: dt.date, last: dt.date, bucket: DateBucket) -> list[str]:
    """Every bucket label from ``first`` to ``last`` inclusive, in order (zero-filled timelines)."""
    labels: list[str] = []
    if bucket is DateBucket.DAY:
        labels = [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    elif bucket is DateBucket.MONTH:
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            labels.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    else:
        labels = [f"{year:04d}" for year in range(first.year, last.year + 1)]
    return labels
