"""Faster indexing with Whoosh, producing exactly the postings Whoosh itself would write.

Two hot spots dominate a Whoosh build (measured with cProfile on 1,000 news articles):

* analysis: a chain of generator filters per token (tokenize, lower-case, stop, stem) and a
  ``Token`` object per word. :class:`FastText` does the same work in one loop with a
  word -> stem cache, and is tested to yield identical postings to ``TEXT(analyzer=ANALYZER)``;
* commit: Whoosh looks up a document's field length in a column file once per *posting* to
  keep block statistics. :class:`FastSegmentWriter` reads each field's lengths once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from whoosh import fields, writing
from whoosh.lang.porter import stem
from whoosh.system import pack_uint

_WORD = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)  # Whoosh's RegexTokenizer default pattern
_STEMS: dict[str, str] = {}
_STEM_CACHE_MAX = 500_000


def stem_cached(word: str) -> str:
    found = _STEMS.get(word)
    if found is None:
        if len(_STEMS) >= _STEM_CACHE_MAX:
            _STEMS.clear()
        found = _STEMS[word] = stem(word)
    return found


def analyze_positions(text: str, stoplist: frozenset[str], minsize: int) -> dict[str, list[int]]:
    """Stemmed term -> positions, exactly as RegexTokenizer | Lowercase | Stop | Stem would give.

    Whoosh's StopFilter renumbers positions: the first kept token keeps its raw position and
    every later kept token follows it by one.
    """
    poses: dict[str, list[int]] = {}
    pos = -1
    for raw, match in enumerate(_WORD.finditer(text)):
        word = match.group().lower()
        if len(word) < minsize or word in stoplist:
            continue
        pos = raw if pos < 0 else pos + 1
        term = stem_cached(word)
        found = poses.get(term)
        if found is None:
            poses[term] = [pos]
        else:
            found.append(pos)
    return poses


def analyze_spans(text: str, stoplist: frozenset[str], minsize: int) -> Iterator[tuple[str, int, int]]:
    """(stemmed term, start, end) for each indexed token of ``text``."""
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if len(word) >= minsize and word not in stoplist:
            yield stem_cached(word), match.start(), match.end()


def find_stems(
    text: str, stems: frozenset[str], stoplist: frozenset[str], minsize: int
) -> list[tuple[str, int, int]] | None:
    """(term, start, end) of the tokens of ``text`` whose stem is in ``stems``, found fast.

    A Porter stem keeps all but possibly the last letter of its word, so a case-insensitive
    regular-expression scan for those prefixes finds every candidate; only candidates are
    tokenised and stemmed. Returns None when a stem is too short for that to be selective.
    """
    heads = {stem[:-1] if len(stem) > 3 else stem[:2] for stem in stems}
    lowered = text.lower()
    if any(len(h) < 2 for h in heads) or len(lowered) != len(text):
        return None  # (lower-casing "İ" adds a character: offsets would shift)
    scan = re.compile(r"\b(?:" + "|".join(re.escape(h) for h in sorted(heads, key=len, reverse=True)) + ")")
    found: list[tuple[str, int, int]] = []
    for hit in scan.finditer(lowered):
        start = hit.start()
        if start >= 2 and text[start - 1] == "." and text[start - 2].isalnum():
            continue  # inside a dotted token such as "u.s"
        match = _WORD.match(text, start)
        if match is None:
            continue
        word = match.group().lower()
        if len(word) < minsize or word in stoplist:
            continue
        term = stem_cached(word)
        if term in stems:
            found.append((term, start, match.end()))
    return found


def find_prefixes(text: str, prefixes: list[str]) -> list[tuple[int, int, int]] | None:
    """(start, end, prefix index) of tokens whose lower-case form starts with a prefix.

    None when lower-casing changes the text's length (offsets would shift).
    """
    lowered = text.lower()
    if len(lowered) != len(text) or not prefixes:
        return None
    scan = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in sorted(set(prefixes), key=len, reverse=True)) + ")")
    found: list[tuple[int, int, int]] = []
    for hit in scan.finditer(lowered):
        start = hit.start()
        if start >= 2 and text[start - 1] == "." and text[start - 2].isalnum():
            continue
        match = _WORD.match(lowered, start)
        if match is None:
            continue
        word = match.group()
        index = next((i for i, prefix in enumerate(prefixes) if word.startswith(prefix)), None)
        if index is not None:  # the scan can match inside a longer token ("co-" in "co")
            found.append((start, match.end(), index))
    return found


class FastText(fields.TEXT):  # type: ignore[misc]
    """A TEXT field (positions, stemming, stop words) with a one-pass indexer.

    Must be built with the analyzer whose behaviour it reproduces; its ``stoplist`` and
    ``minsize`` are passed explicitly.
    """

    def __init__(self, *, analyzer: Any, stoplist: frozenset[str], minsize: int, **kwargs: Any) -> None:
        super().__init__(analyzer=analyzer, phrase=True, **kwargs)
        self.fast_stoplist = stoplist
        self.fast_minsize = minsize

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        encode = self.format.encode
        boost = self.format.field_boost
        for term, positions in analyze_positions(value, self.fast_stoplist, self.fast_minsize).items():
            yield term.encode("utf-8"), len(positions), len(positions) * boost, encode(positions)


_COMMA_ITEM = re.compile(r"[^,]+")


class FastKeyword(fields.KEYWORD):  # type: ignore[misc]
    """A comma-separated KEYWORD field whose indexer skips Whoosh's token pipeline.

    Yields exactly what ``KEYWORD(commas=True)`` does: each ``[^,]+`` run, stripped, with its
    frequency (entity fields are indexed for every article, several names each).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(commas=True, **kwargs)

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        counts: dict[str, int] = {}
        for item in _COMMA_ITEM.findall(value):
            key = item.strip()
            counts[key] = counts.get(key, 0) + 1
        boost = self.format.field_boost
        for key, freq in counts.items():
            yield key.encode("utf-8"), freq, freq * boost, pack_uint(freq)


class _CachedLengths:
    """A per-document reader whose ``doc_field_length`` reads each field's column once."""

    def __init__(self, inner: Any, doc_count: int) -> None:
        self._inner = inner
        self._count = doc_count
        self._lengths: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            inner = self._inner
            lengths = [inner.doc_field_length(d, fieldname, default) for d in range(self._count)]
            self._lengths[fieldname] = lengths
        return lengths[docnum] if docnum < self._count else default

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class FastSegmentWriter(writing.SegmentWriter):  # type: ignore[misc]
    """Whoosh's SegmentWriter with field lengths cached while postings are written at commit."""

    def per_document_reader(self) -> Any:
        return _CachedLengths(super().per_document_reader(), self.docnum - self.docbase)
