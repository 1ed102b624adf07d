"""A segment's facet table (searchlib._whoosh.facettable): built, merged and counted as the documents say."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib._whoosh import facettable as ft
from searchlib._whoosh.terms import TermDict

NAMES = st.sampled_from(["Anna", "Gdańsk", "Gdansk", "Oslo\x1eOsl", "NGX", "Jon Berg\x1eJ. Berg", "Ä", "z"])
DOC = st.tuples(st.sampled_from(["", "Daily", "daily", "Post"]), st.lists(NAMES, max_size=5))
SEGMENT = st.lists(DOC, max_size=12)
Doc = tuple[str, list[str]]


def _value(doc: Doc) -> bytes:
    return ft.ENTITY_SEP.join([doc[0], *doc[1]]).encode("utf-8")


def _table(docs: list[Doc]) -> ft.FacetTable:
    return ft.of_values((_value(d) for d in docs), len(docs))


def _stored(table: ft.FacetTable) -> ft.FacetTable:
    """The table as a sidecar reads it back: dictionaries over stored bytes."""
    arrays = dict(table.arrays())
    names = TermDict.stored(arrays["facets.names"], arrays["facets.names.start"], len(table.names))
    sources = TermDict.stored(arrays["facets.sources"], arrays["facets.sources.start"], len(table.sources))
    return ft.FacetTable(names, sources, arrays["facets.start"], arrays["facets.ids"], arrays["facets.source"])


@settings(max_examples=100, deadline=None)
@given(SEGMENT)
def test_each_document_reads_back_as_written(docs: list[Doc]) -> None:
    for table in (_table(docs), _stored(_table(docs))):
        assert [table.document(d) for d in range(len(docs))] == docs
        assert table.damage() is None


@settings(max_examples=100, deadline=None)
@given(SEGMENT, st.data())
def test_mentions_and_sources_count_as_a_scan_does(docs: list[Doc], data: st.DataObject) -> None:
    picked = sorted(data.draw(st.sets(st.integers(0, max(len(docs) - 1, 0)), max_size=len(docs))) if docs else [])
    table = _stored(_table(docs))
    ids, counts = table.mentions(np.asarray(picked, dtype=np.int64))
    got = [(table.name(int(i)), int(n)) for i, n in zip(ids, counts, strict=True)]
    scan: Counter[str] = Counter(name for d in picked for name in docs[d][1])
    first_seen = list(dict.fromkeys(name for d in picked for name in docs[d][1]))
    assert got == [(name, scan[name]) for name in first_seen]
    sources = Counter(docs[d][0] for d in picked if docs[d][0])
    assert dict(table.source_counts(np.asarray(picked, dtype=np.int64))) == sources


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(SEGMENT, st.data()), min_size=1, max_size=4))
def test_a_merge_keeps_the_live_documents_in_order(
    segments: list[tuple[list[Doc], st.DataObject]],
) -> None:
    parts: list[ft.Part] = []
    want: list[Doc] = []
    for docs, data in segments:
        live = np.array(data.draw(st.lists(st.booleans(), min_size=len(docs), max_size=len(docs))), dtype=bool)
        parts.append((_stored(_table(docs)), None if live.all() else live))
        want += [d for d, keep in zip(docs, live.tolist(), strict=True) if keep]
    old = ft.MERGE_DOCS
    ft.MERGE_DOCS = 3  # several chunks a segment
    try:
        table = ft.merged(parts)
    finally:
        ft.MERGE_DOCS = old
    assert [table.document(d) for d in range(len(want))] == want
    assert table.damage() is None
    assert set(table.names) == {n for _, names in want for n in names}  # names only deleted documents used are gone
    assert set(table.sources) == {""} | {s for s, _ in want}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(SEGMENT, st.data()), min_size=1, max_size=3), st.integers(1, 6))
def test_facets_rank_and_name_entities_as_a_scan_of_the_documents_does(
    segments: list[tuple[list[Doc], st.DataObject]], size: int
) -> None:
    """Documents per entity key (a name twice in one document counts twice), the top ``size`` by
    count then key, each shown under the name first met in document order; sources likewise."""
    from searchlib._whoosh import analytics
    from searchlib._whoosh.schema import entity_key
    from searchlib.models import DateBucket

    tables = [_stored(_table(docs)) for docs, _ in segments]
    parts: list[tuple[ft.FacetTable, np.ndarray]] = []
    scanned: list[Doc] = []
    for table, (docs, data) in zip(tables, segments, strict=True):
        picked = sorted(data.draw(st.sets(st.integers(0, max(len(docs) - 1, 0)), max_size=len(docs))) if docs else [])
        if picked:
            parts.append((table, np.asarray(picked, dtype=np.int64)))
            scanned += [docs[d] for d in picked]
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for _source, names in scanned:
        for entity in names:
            name = entity.split(ft.ALIAS_SEP)[0]
            shown.setdefault(entity_key(name), name)
            counts[entity_key(name)] += 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:size]
    sources = Counter(source for source, _ in scanned if source)
    chunk = analytics.FIRST_CHUNK
    analytics.FIRST_CHUNK = 2  # first places found across several chunks
    try:
        found = analytics.facets(parts, analytics.FacetKeys(tables), {}, DateBucket.MONTH, size)
    finally:
        analytics.FIRST_CHUNK = chunk
    assert [(f.value, f.count) for f in found.entities] == [(shown[k], n) for k, n in top]
    assert [(f.value, f.count) for f in found.sources] == sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))[:size]


def test_damage_finds_dictionary_offsets_and_ids_out_of_place() -> None:
    docs = [("Daily", ["Anna", "Oslo\x1eOsl"]), ("", ["Gdańsk"]), ("Post", ["Anna"])]
    table = _stored(_table(docs))
    arrays = dict(table.arrays())
    starts = np.array(arrays["facets.names.start"], dtype=np.int64)
    starts[1] -= 2  # the second name now starts inside the first: decoding by the blob alone would not see it
    names = TermDict.stored(arrays["facets.names"], starts, len(table.names))
    moved = ft.FacetTable(names, table.sources, table.starts, table.ids, table.source_ids)
    assert moved.damage() == "the facet table's entity dictionary offsets do not fit its names"
    negative = np.array(table.ids, dtype=np.int64)
    negative[0] = -1
    assert ft.FacetTable(table.names, table.sources, table.starts, negative, table.source_ids).damage() == (
        "the facet table names entities it does not have"
    )
    beyond = np.array(table.source_ids, dtype=np.int64)
    beyond[1] = len(table.sources)
    assert ft.FacetTable(table.names, table.sources, table.starts, table.ids, beyond).damage() == (
        "the facet table names sources it does not have"
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(SEGMENT, st.data()), min_size=1, max_size=3),
    st.integers(1, 5),
    st.integers(1, 2),
    st.sets(st.sampled_from(["anna", "osl", "oslo", "gdansk", "j. berg"]), max_size=2),
    st.data(),
)
def test_related_ranks_as_a_scan_of_the_documents_does(
    segments: list[tuple[list[Doc], st.DataObject]], size: int, min_count: int, exclude: set[str], data: st.DataObject
) -> None:
    """JLH over key counts (a name twice in a document counts twice), keys of ``exclude`` or known
    by an alias in it left out, ties by count then name: as the per-document scan computed it."""
    from searchlib._whoosh import analytics
    from searchlib._whoosh.schema import entity_key

    tables = [_stored(_table(docs)) for docs, _ in segments]
    parts: list[tuple[ft.FacetTable, np.ndarray]] = []
    scanned: list[Doc] = []
    for table, (docs, seg_data) in zip(tables, segments, strict=True):
        picked = sorted(
            seg_data.draw(st.sets(st.integers(0, max(len(docs) - 1, 0)), max_size=len(docs))) if docs else []
        )
        if picked:
            parts.append((table, np.asarray(picked, dtype=np.int64)))
            scanned += [docs[d] for d in picked]
    keys = analytics.FacetKeys(tables)
    background = np.array([data.draw(st.integers(0, 9)) for _ in keys.keys], dtype=np.int64)
    total = data.draw(st.integers(1, 40))
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    aliases: dict[str, set[str]] = {}
    for _source, names in scanned:
        for entity in names:
            name, *others = entity.split(ft.ALIAS_SEP)
            key = entity_key(name)
            shown.setdefault(key, name)
            aliases.setdefault(key, set()).update(entity_key(o) for o in others)
            counts[key] += 1
    want = []
    for key, count in counts.items():
        if key in exclude or not aliases[key].isdisjoint(exclude) or count < min_count:
            continue
        back = max(int(background[keys.keys.index(key)]), count)
        fg, bg = count / len(scanned), back / total
        want.append((shown[key], count, back, (fg - bg) * (fg / bg) if fg > bg else 0.0))
    want.sort(key=lambda row: (-row[3], -row[1], row[0].casefold()))
    got = analytics.related(parts, keys, background, total, exclude=exclude, size=size, min_count=min_count)
    assert got == want[:size]
