"""News analytics over a set of matching documents: co-occurring entities and date counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Sequence

from whoosh.searching import Searcher

from searchlib._whoosh import schema as sch
from searchlib._whoosh import search as ws
from searchlib.models import DateBucket


def entity_counts(searcher: Searcher, docs: Sequence[int]) -> tuple[Counter[str], dict[str, str], dict[str, set[str]]]:
    """Documents per entity key among ``docs``, a display name and the alias keys of each key."""
    column = ws.column_reader(searcher.reader(), "facets")
    counts: Counter[str] = Counter()
    display: dict[str, str] = {}
    aliases: dict[str, set[str]] = {}
    for docnum in docs:
        _source, entities = sch.decode_facets(column[docnum])
        for name, *others in entities:
            key = sch.entity_key(name)
            display.setdefault(key, name)
            aliases.setdefault(key, set()).update(sch.entity_key(o) for o in others)
            counts[key] += 1
    return counts, display, aliases


def related(
    searcher: Searcher,
    docs: Sequence[int],
    doc_frequency: Callable[[str], int],
    *,
    exclude: Collection[str],
    size: int,
    min_count: int,
) -> list[tuple[str, int, int, float]]:
    """(name, foreground count, background count, JLH significance), most significant first.

    The foreground is ``docs``; the background is the whole index, ``doc_frequency(key)``
    giving the live documents that name an entity key (:func:`.keywords.live_doc_frequency`). The JLH score of
    Elasticsearch's significant terms, ``(fg% - bg%) * fg% / bg%``, favours entities that are
    both frequent among the matches and unusually so compared with the archive.
    """
    if not docs:
        return []
    reader = searcher.reader()
    total = max(reader.doc_count(), 1)
    counts, display, aliases = entity_counts(searcher, docs)
    out = []
    for key, count in counts.items():
        if key in exclude or not aliases[key].isdisjoint(exclude) or count < min_count:
            continue
        background = max(doc_frequency(key), count)
        fg, bg = count / len(docs), background / total
        score = (fg - bg) * (fg / bg) if fg > bg else 0.0
        out.append((display[key], count, background, score))
    out.sort(key=lambda row: (-row[3], -row[1], row[0].casefold()))
    return out[:size]


def distinct_entities(searcher: Searcher, shown: Callable[[str], str | None] | None = None) -> int:
    """Entities named by live documents, counted as facets count them (canonical names, not aliases).

    ``shown`` maps a stored name to the name facets show (``None``: hidden), e.g. the alias table's.
    """
    reader = searcher.reader()
    if reader.doc_count() == 0:
        return 0
    column = ws.column_reader(reader, "facets")
    keys: set[str] = set()
    for docnum in reader.all_doc_ids():
        _source, entities = sch.decode_facets(column[docnum])
        for name, *_aliases in entities:
            name_shown = name if shown is None else shown(name)
            if name_shown is not None:
                keys.add(sch.entity_key(name_shown))
    return len(keys)


def date_counts(searcher: Searcher, docs: Sequence[int], bucket: DateBucket) -> Counter[str]:
    dates = ws.column_reader(searcher.reader(), "date")
    return Counter(bucket.label(sch.key_date(int(dates[d]))) for d in docs)


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
