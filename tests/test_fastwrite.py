"""The one-pass indexer must write exactly the postings Whoosh's own analyzer chain would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh import analysis as analysis_whoosh
from whoosh import fields

from searchlib import analysis
from searchlib._whoosh import fastwrite
from searchlib._whoosh import schema as sch

_words = st.sampled_from(
    [
        "the",
        "Talks",
        "talking",
        "U.S.",
        "a",
        "of",
        "Israel’s",
        "it",
        "US",
        "x",
        "3.5",
        "co-op",
        "naïve",
        "ÉCOLE",
        "rationing",
        "stop",
        "and",
        "é",
        "e.g.",
        "ﬁnal",
        "İstanbul",
        "\u0130",
        "ß",
        "Σίσυφος",
        "Gdańsk",
        "gdansk",
        "Straße",
        "strasse",
        "Łódź",
        "Gdan\u0301sk",
    ]
)
_text = st.one_of(
    st.text(max_size=200),
    st.lists(_words, max_size=40).map(" ".join),
    st.lists(st.one_of(_words, st.text(max_size=5)), max_size=30).map(" ".join),
)

REFERENCE = fields.TEXT(analyzer=sch.ANALYZER, phrase=True)
FAST = sch.build_schema()["body"]


@given(_text)
def test_fast_postings_equal_whoosh_postings(text: str) -> None:
    assert sorted(FAST.index(text)) == sorted(REFERENCE.index(text))


@given(_text)
def test_highlight_tokens_equal_analyzer_tokens(text: str) -> None:
    expected = [(t.text, t.startchar, t.endchar) for t in sch.ANALYZER(text, chars=True, mode="index")]
    assert list(sch.tokens(text)) == expected


@given(_text, st.lists(_words, min_size=1, max_size=4))
def test_candidate_scan_finds_exactly_the_matching_tokens(text: str, query_words: list[str]) -> None:
    stems = frozenset(t for w in query_words for t in analysis.terms(w))
    quick = analysis.find_terms(text, stems)
    if quick is None:  # a stem too short to scan for: the caller tokenises everything
        return
    assert quick == [t for t in sch.tokens(text) if t[0] in stems]


_PREFIXES = ["ta", "talk", "is", "u.s", "co-", "é", "ra", "stop", "gdań", "stra"]


@given(_text, st.lists(st.sampled_from(_PREFIXES), min_size=1, max_size=3))
def test_prefix_scan_finds_exactly_the_prefixed_words(text: str, prefixes: list[str]) -> None:
    prefixes = [analysis.fold(p) for p in prefixes]
    quick = analysis.find_prefixes(text, prefixes)
    if quick is None:
        return
    expected = []
    for word, start, end in analysis.words(text):
        for index, prefix in enumerate(prefixes):
            if word.startswith(prefix):
                expected.append((start, end, index))
                break
    assert quick == expected


@given(st.lists(st.one_of(_words, st.sampled_from([" ", "", "a b", " x ", ",", "é,é"])), max_size=12).map(",".join))
def test_fast_keyword_postings_equal_whoosh_postings(value: str) -> None:
    reference = fields.KEYWORD(commas=True, scorable=True)
    assert sorted(sch.build_schema()["entity"].index(value)) == sorted(reference.index(value))


@given(st.one_of(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20), _words))
def test_fast_id_items_equal_whooshs(value: str) -> None:
    schema = sch.build_schema()
    for name in ("id", "source", "group"):
        assert fastwrite.fast_items(schema[name], value) == list(schema[name].index(value))
    assert (
        fastwrite.fast_items(fields.ID(analyzer=analysis_whoosh.StandardAnalyzer()), value) is None
    )  # other analyzers: Whoosh's path


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_fast_numeric_items_equal_whooshs(value: int) -> None:
    date = sch.build_schema()["date"]
    assert fastwrite.fast_items(date, value) == list(date.index(value))
    assert fastwrite.fast_items(date, value) == list(date.index(value))  # (cached)
    other = fields.NUMERIC(numtype=int, bits=64, signed=False, shift_step=8)
    if value >= 0:
        assert fastwrite.fast_items(other, value) == list(other.index(value))


def test_stored_fields_written_at_the_set_level_and_read_with_older_ones(tmp_path: Path) -> None:
    """A segment's stored fields are zlib stored blocks (``STORED_FIELDS_LEVEL``): the same format,
    so a merge of such a segment with one compressed at Whoosh's level 3 reads every article back."""
    from whoosh import columns

    from searchlib import Article, Entity, Index

    levels: list[int] = []
    add = columns.CompressedBytesColumn.Writer.add

    def recorded(self: Any, docnum: int, v: bytes) -> None:
        levels.append(self._level)
        add(self, docnum, v)

    shipped = fastwrite.STORED_FIELDS_LEVEL
    assert shipped == 0
    port = (Entity("Gdańsk", "place"),)  # given: stored as given
    articles = [Article(date=f"2024-05-0{i + 1}", body=f"strike {i} at Gdańsk", entities=port) for i in range(6)]
    with pytest.MonkeyPatch.context() as mp, Index.create(tmp_path / "ix") as ix:
        mp.setattr(columns.CompressedBytesColumn.Writer, "add", recorded)
        mp.setattr(fastwrite, "STORED_FIELDS_LEVEL", 3)  # an older segment, compressed
        ix.add(*articles[:3])
        mp.setattr(fastwrite, "STORED_FIELDS_LEVEL", shipped)
        ix.add(*articles[3:])
        assert levels == [3, 3, 3, 0, 0, 0]
        assert [ix.get(a.id) for a in articles] == articles
        with ix.writer() as w:
            w.commit(optimize=True)  # the two segments merged: their stored bytes copied as they are
        assert [ix.get(a.id) for a in articles] == articles
