"""News analytics over a set of matching documents: facets, co-occurring entities and date counts.

Entity and source counts read each segment's facet table (:mod:`.facettable`): ids counted with
numpy, each distinct name decoded once, never a document's names one by one.
"""

from __future__ import annotations

import bisect
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
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
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
    kids = _key_numbers(parts, picked, keys)
    counts = np.bincount(kids, minlength=len(keys.keys))
    chosen = _top_keys(counts, size)
    display = dict(_shown_names(parts, picked, kids, chosen, len(keys.keys)))
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
    keys: FacetKeys,
    background: npt.NDArray[np.int64],
    total: int,
    *,
    exclude: Collection[str],
    size: int,
    min_count: int,
) -> list[tuple[str, int, int, float]]:
    """(name, foreground count, background count, JLH significance), most significant first.

    The foreground is the documents of ``parts``; the background is the whole index of
    ``total`` live documents, ``background[k]`` of which name key number ``k`` (see
    :func:`entity_background`). The JLH score of Elasticsearch's significant terms,
    ``(fg% - bg%) * fg% / bg%``, favours entities that are both frequent among the matches
    and unusually so compared with the archive. Entities of ``exclude`` (keys), or known
    among the matches by an alias in it, are left out; ties go by count, then name.
    """
    matched = sum(len(docs) for _, docs in parts)
    if not matched:
        return []
    total = max(total, 1)
    picked = [table.picked(docs) for table, docs in parts]
    kids = _key_numbers(parts, picked, keys)
    counts = np.bincount(kids, minlength=len(keys.keys))
    keep = counts >= max(min_count, 1)
    if exclude:
        keep &= ~_excluded(parts, picked, keys, exclude)
    candidates = np.flatnonzero(keep)
    count = counts[candidates]
    back = np.maximum(background[candidates], count)
    fg = count / matched  # float64, the same operations as on Python floats: the same scores
    bg = back / total
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(fg > bg, (fg - bg) * (fg / bg), 0.0)
    order = np.lexsort((-count, -score))
    if len(order) > size:  # the size best by score and count, and every one tied with the last (names decide)
        last = order[size - 1]
        order = np.flatnonzero((score > score[last]) | ((score == score[last]) & (count >= count[last])))
    names = dict(_shown_names(parts, picked, kids, candidates[order], len(keys.keys)))
    rows = [(names[int(candidates[i])], int(count[i]), int(back[i]), float(score[i])) for i in order.tolist()]
    rows.sort(key=lambda row: (-row[3], -row[1], row[0].casefold()))
    return rows[:size]


def _key_numbers(parts: TableParts, picked: Sequence[npt.NDArray[np.int64]], keys: FacetKeys) -> npt.NDArray[np.int64]:
    """The key number of every mention of ``picked`` (each part's entity string ids), in order."""
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([keys.of(table)[ids] for (table, _), ids in zip(parts, picked, strict=True)])


def _shown_names(
    parts: TableParts,
    picked: Sequence[npt.NDArray[np.int64]],
    kids: npt.NDArray[np.int64],
    chosen: npt.NDArray[np.int64],
    count: int,
) -> Iterator[tuple[int, str]]:
    """(key number, the name a scan of the documents meets first for it) for each of ``chosen``."""
    bounds = np.cumsum([0, *(len(ids) for ids in picked)])
    for key, position in _first_places(kids, chosen, count):
        segment = int(np.searchsorted(bounds, position, side="right")) - 1
        table = parts[segment][0]
        yield key, table.name(int(picked[segment][position - bounds[segment]])).split(ALIAS_SEP, 1)[0]


def _excluded(
    parts: TableParts, picked: Sequence[npt.NDArray[np.int64]], keys: FacetKeys, exclude: Collection[str]
) -> npt.NDArray[np.bool_]:
    """Key numbers to leave out: those of ``exclude``, and those named among the matches with an alias in it."""
    out = np.zeros(len(keys.keys), dtype=bool)
    for key in exclude:
        at = bisect.bisect_left(keys.keys, key)
        if at < len(keys.keys) and keys.keys[at] == key:
            out[at] = True
    for (table, _), ids in zip(parts, picked, strict=True):
        aliased, alias_keys = table.aliased(sch.entity_key)
        if not len(aliased) or not len(ids):
            continue
        present = np.bincount(ids, minlength=len(table.names))[aliased] > 0
        of = keys.of(table)
        for at in np.flatnonzero(present).tolist():
            if not alias_keys[at].isdisjoint(exclude):
                out[of[aliased[at]]] = True
    return out


def entity_background(
    keys: FacetKeys, fields: Sequence[tuple[list[str], npt.NDArray[np.int64]]]
) -> npt.NDArray[np.int64]:
    """Live documents naming each key number, from each segment's ``entity`` terms and their live document counts."""
    index = {key: i for i, key in enumerate(keys.keys)}
    out = np.zeros(len(keys.keys), dtype=np.int64)
    for terms, live_counts in fields:
        at = np.fromiter((index.get(t, -1) for t in terms), dtype=np.int64, count=len(terms))
        known = at >= 0
        np.add.at(out, at[known], live_counts[known])
    return out


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
