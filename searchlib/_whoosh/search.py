"""Reading Whoosh's stored fields and columns: articles by document number, facets and duplicate groups
(ranking and matching live in :mod:`.engine`, more like this and spelling in :mod:`.vocabulary`)."""

from __future__ import annotations

import bisect
import datetime as dt
import os
import pickle
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from whoosh import columns, fields
from whoosh.codec.whoosh3 import STORED_COLUMN
from whoosh.reading import EmptyReader, IndexReader
from whoosh.searching import Searcher

from searchlib._whoosh import schema as sch
from searchlib.models import Article

TEXT_FIELDS = ("title", "body", "entity_text")


@attrs.frozen
class RawHit:
    docnum: int
    score: float
    article: Article
    copies: tuple[str, ...] = ()


NO_COLUMN: tuple[()] = ()
"""The column of an index with no documents: reading any document number is an ``IndexError``."""


def column_reader(reader: IndexReader, name: str) -> Any:
    """``reader.column_reader(name)``, also for an index with no segments.

    Whoosh reads an index with no segments (never filled, or every article deleted: a commit
    drops a segment whose every document is deleted) through an ``EmptyReader``, whose
    ``column_reader`` raises ``NotImplementedError``; its columns are empty. Every read of a
    column goes through here.
    """
    if isinstance(reader, EmptyReader):
        return NO_COLUMN
    return reader.column_reader(name)


class DateIndex:
    """Every live document's date key, sorted, with its document number: date ranges by bisection.

    Whoosh's ``NumericRange`` unions many range terms in Python (265 ms p50 at 100,000
    articles); a bisection over this array answers the same filter in about a millisecond.
    Built once per searcher (that is, per commit) and reused by every query.
    """

    def __init__(self, searcher: Searcher) -> None:
        reader = searcher.reader()
        dates = column_reader(reader, "date")
        pairs = sorted((int(dates[d]), d) for d in reader.all_doc_ids())
        self.keys = [k for k, _ in pairs]
        self.docs = [d for _, d in pairs]
        self.by_doc = {d: k for k, d in pairs}

    def between(self, start: dt.date | None, end: dt.date | None) -> set[int]:
        lo = 0 if start is None else bisect.bisect_left(self.keys, sch.date_key(start))
        hi = len(self.keys) if end is None else bisect.bisect_right(self.keys, sch.date_key(end))
        return set(self.docs[lo:hi])


_DATE_INDEXES: weakref.WeakKeyDictionary[Searcher, DateIndex] = weakref.WeakKeyDictionary()
_COLUMNS: weakref.WeakKeyDictionary[Searcher, dict[str, Any]] = weakref.WeakKeyDictionary()
_ARTICLES: weakref.WeakKeyDictionary[Searcher, dict[int, Article]] = weakref.WeakKeyDictionary()
_BODIES: weakref.WeakKeyDictionary[Searcher, LazyColumn] = weakref.WeakKeyDictionary()
_STORED: weakref.WeakKeyDictionary[Searcher, StoredFields] = weakref.WeakKeyDictionary()
ARTICLE_CACHE = 2048
"""Loaded articles kept per commit."""


class LazyColumn:
    """A column of every document of a searcher, each segment's reader made on its first read.

    What Whoosh's ``MultiColumnReader`` answers for ``column[docnum]``, without reading every
    segment's offsets up front: a page of hits from two segments opens two readers, not all
    of them (the first query of a process pays for the segments it reads).
    """

    def __init__(self, searcher: Searcher, name: str) -> None:
        self._name = name
        self._leaves = [reader for reader, _ in searcher.reader().leaf_readers()]
        self._offsets = [offset for _, offset in searcher.reader().leaf_readers()]
        self._readers: list[Any] = [None] * len(self._leaves)

    def __getitem__(self, docnum: int) -> Any:
        at = bisect.bisect_right(self._offsets, docnum) - 1
        reader = self._readers[at]
        if reader is None:  # a race only makes it twice
            reader = self._readers[at] = self._open(self._leaves[at])
        return reader[docnum - self._offsets[at]]

    def _open(self, leaf: Any) -> Any:
        return direct(column_reader(leaf, self._name))


class StoredFields(LazyColumn):
    """Every document's stored fields (a dict, ``{}`` when it has none), read from the
    segment's ``_stored`` column directly.

    What ``searcher.stored_fields(docnum)`` answers, without its four layers of Python calls
    per document (multi-reader, segment reader, per-document reader, the copy that filters out
    fields a schema no longer has -- a searchlib schema never drops one): ~5 us of the ~15 a
    stored article costs to read.
    """

    def __init__(self, searcher: Searcher) -> None:
        super().__init__(searcher, "_stored")

    def __getitem__(self, docnum: int) -> Any:
        found = super().__getitem__(docnum)
        return {} if found is None else found

    def _open(self, leaf: Any) -> Any:
        perdoc = getattr(leaf, "_perdoc", None)
        reader = None if perdoc is None else perdoc._cached_reader("_stored", STORED_COLUMN)
        return _NoStoredFields() if reader is None else direct(reader)


class _NoStoredFields:
    def __getitem__(self, docnum: int) -> None:
        return None


_AS_IS = fields.COLUMN.from_bytes
"""How a ``COLUMN`` field's reader translates its values (``from_column_value`` calls it): not at all."""


class _DirectColumn:
    """A Whoosh variable-bytes column (plain, compressed, or pickled and compressed) read with
    one ``os.pread`` a value: the same bytes its reader returns, without the three layers of
    calls and the seek before each read (and no shared file position)."""

    __slots__ = ("_base", "_decompress", "_file", "_lengths", "_offsets", "_unpickle")

    def __init__(self, varbytes: Any, decompress: Any, unpickle: bool) -> None:
        self._file = varbytes._dbfile.file  # kept open by the segment's reader, as before
        self._base = varbytes._basepos
        self._offsets = varbytes._offsets
        self._lengths = varbytes._lengths
        self._decompress = decompress
        self._unpickle = unpickle

    def __getitem__(self, docnum: int) -> Any:
        length = self._lengths[docnum]
        if not length:
            return None if self._unpickle else b""
        # fileno() raises ValueError once the file is closed: never a read of a reused descriptor
        value = os.pread(self._file.fileno(), length, self._base + self._offsets[docnum])
        if self._decompress is not None:
            value = self._decompress(value)
        return pickle.loads(value) if self._unpickle else value


def direct(reader: Any) -> Any:
    """``reader`` as a :class:`_DirectColumn` when it is one of Whoosh's variable-bytes column
    readers over a real file (or a ``COLUMN`` field's, whose translation returns the bytes as
    they are); otherwise ``reader`` itself (an in-memory index, another column)."""
    translate = getattr(reader, "_translate", None)
    if (
        type(reader) is columns.TranslatingColumnReader
        and getattr(translate, "__func__", None) is fields.FieldType.from_column_value
        and getattr(type(getattr(translate, "__self__", None)), "from_bytes", None) is _AS_IS
    ):
        found = direct(reader._reader)
        return reader if found is reader._reader else found
    unpickle = type(reader) is columns.PickleColumn.Reader
    inner = reader._child if unpickle else reader
    if type(inner) is columns.CompressedBytesColumn.Reader:
        decompress = inner._decompress
    elif type(inner) is columns.VarBytesColumn.Reader and not unpickle:
        decompress = None
    else:
        return reader
    dbfile = getattr(inner, "_dbfile", None)
    if not getattr(dbfile, "is_real", False) or not hasattr(inner, "_offsets"):
        return reader
    return _DirectColumn(inner, decompress, unpickle)


def column(searcher: Searcher, name: str) -> Any:
    """The column reader of ``name``, opened once per searcher (that is, per commit)."""
    readers = _COLUMNS.get(searcher)
    if readers is None:
        readers = _COLUMNS[searcher] = {}
    found = readers.get(name)
    if found is None:
        found = readers[name] = column_reader(searcher.reader(), name)
    return found


def stored_fields(searcher: Searcher) -> StoredFields:
    """The stored fields of ``searcher``'s documents (:class:`StoredFields`), made once per searcher."""
    found = _STORED.get(searcher)
    if found is None:
        found = _STORED[searcher] = StoredFields(searcher)
    return found


def body_column(searcher: Searcher) -> LazyColumn:
    """The body text column of ``searcher`` (:class:`LazyColumn`), made once per searcher."""
    found = _BODIES.get(searcher)
    if found is None:
        found = _BODIES[searcher] = LazyColumn(searcher, "body_text")
    return found


def date_index(searcher: Searcher) -> DateIndex:
    found = _DATE_INDEXES.get(searcher)
    if found is None:
        found = _DATE_INDEXES[searcher] = DateIndex(searcher)
    return found


def duplicate_groups(
    searcher: Searcher, groups: Iterable[Iterable[int]], docs: list[int] | None, size: int
) -> list[list[Article]]:
    """Groups of near-duplicate articles (largest first); with ``docs``, only groups touching them.

    ``groups`` are the live documents of every group of two or more (:func:`.keywords.group_members`).
    """
    wanted = None if docs is None else set(docs)
    found: list[list[int]] = []
    for group in groups:
        members = [int(d) for d in group]
        if len(members) > 1 and (wanted is None or not wanted.isdisjoint(members)):
            found.append(members)
    keys = date_index(searcher).by_doc
    found.sort(key=lambda m: (-len(m), min(keys[d] for d in m)))
    return [sorted(load_articles(searcher, m), key=lambda a: (a.date, a.id)) for m in found[:size]]


def load_articles(searcher: Searcher, docnums: Sequence[int]) -> list[Article]:
    """The stored articles of ``docnums`` (body from its column, the rest from stored fields).

    Articles are immutable, so the last ``ARTICLE_CACHE`` loaded per commit are kept: pages
    and repeated queries do not rebuild them.
    """
    if not docnums:
        return []
    cache = _ARTICLES.get(searcher)
    if cache is None:
        cache = _ARTICLES[searcher] = {}
    out = []
    records, bodies = stored_fields(searcher), body_column(searcher)
    for docnum in docnums:
        article = cache.get(docnum)
        if article is None:
            stored: dict[str, Any] = records[docnum]
            article = sch.to_article(stored["id"], stored["meta"], bodies[docnum])
            if len(cache) >= ARTICLE_CACHE:
                cache.pop(next(iter(cache)))
            cache[docnum] = article
        out.append(article)
    return out


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def extracted_ids(searcher: Searcher) -> list[str]:
    """Ids of every live article whose entities were extracted (not given in the input)."""
    reader = searcher.reader()
    ids = []
    for docnum in reader.all_doc_ids():
        stored = reader.stored_fields(docnum)
        if stored["meta"].get("extracted", True):
            ids.append(stored["id"])
    return ids
