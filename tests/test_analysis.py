"""searchlib.analysis: the same stems as Whoosh's analyzer on plain text, plus accent folding.

Folding is checked both ways (an accented query finds plain text and a plain query finds
accented text) through the public API, and highlights must mark the words as written.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import analysis as whoosh_analysis
from whoosh.lang.porter import stem as whoosh_stem

import searchlib
from searchlib import Article, Entity, EntityKind, Index, analysis

WHOOSH_ANALYZER = whoosh_analysis.StemmingAnalyzer(stoplist=analysis.STOP_WORDS, minsize=analysis.MIN_LENGTH)
"""The analyzer of index format 7 and before."""

_ascii_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzAEIOUY", min_size=1, max_size=14)


@given(_ascii_words)
def test_the_vendored_porter_stemmer_is_whooshs(word: str) -> None:
    word = word.lower()
    assert analysis.stem(word) == whoosh_stem(word)


@given(st.lists(st.one_of(_ascii_words, st.sampled_from(["the", "U.S.", "3.5", "it's", "--", "co-op"])), max_size=40))
def test_plain_text_is_analysed_as_whoosh_did(words: list[str]) -> None:
    text = " ".join(words)
    expected = [(t.text, t.pos, t.startchar, t.endchar) for t in WHOOSH_ANALYZER(text, positions=True, chars=True)]
    assert list(analysis.tokens(text)) == expected


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("Gdańsk", "gdansk"),
        ("GDAŃSK", "gdansk"),
        ("Gdan\u0301sk", "gdansk"),  # decomposed: n + combining acute
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        ("Ærø", "aero"),
        ("Œuvre", "oeuvre"),
        ("naïve", "naive"),
        ("Nguyễn", "nguyen"),
        ("ﬁnal", "final"),
        ("Þór", "thor"),
        ("Москва", "москва"),
        ("Йошкар", "йошкар"),  # other scripts keep their marks
        ("Σίσυφος", "σίσυφος"),
    ],
)
def test_fold(written: str, folded: str) -> None:
    assert analysis.fold(written) == folded


_LATIN = "abcdeilnorsuyz"
_MARKS = ["\u0301", "\u0300", "\u0308", "\u0302", "\u0303", "\u030c", "\u0327", "\u0328"]


@st.composite
def _accented(draw: st.DrawFn) -> tuple[str, str]:
    """A plain word and the same word with random diacritics, composed or not."""
    plain = draw(st.text(alphabet=_LATIN, min_size=2, max_size=10))
    chars = [c + "".join(draw(st.lists(st.sampled_from(_MARKS), max_size=2))) for c in plain]
    form = draw(st.sampled_from(["NFC", "NFD"]))
    accented = unicodedata.normalize(form, "".join(chars))
    if draw(st.booleans()):
        accented = accented.capitalize()
    return plain, accented


@given(_accented())
def test_accented_and_plain_words_get_the_same_term(pair: tuple[str, str]) -> None:
    plain, accented = pair
    assert analysis.terms(accented) == analysis.terms(plain)


@given(st.lists(_accented(), min_size=1, max_size=12), st.integers(min_value=0, max_value=11), st.booleans())
def test_highlights_mark_the_original_words_both_ways(
    pairs: list[tuple[str, str]], pick: int, query_accented: bool
) -> None:
    """Text written with accents, queried without (and the other way round): spans cover the words as written."""
    plain, accented = pairs[pick % len(pairs)]
    words = [a if query_accented is False else p for p, a in pairs]
    text = " ".join(words)
    query = plain if not query_accented else accented
    if not analysis.terms(query):
        return  # a stop word or a single letter: nothing to match
    snippet = searchlib.highlight(text, query)
    expected = [(s, e) for t, s, e in analysis.spans(text) if t in set(analysis.terms(query))]
    assert [(s.start, s.end) for s in snippet.spans] == expected
    for span in snippet.spans:
        marked = text[span.start : span.end]
        assert marked in words  # a whole word, exactly as written
        assert analysis.terms(marked) == analysis.terms(query)


@given(st.text(max_size=80), st.lists(_accented(), min_size=1, max_size=3))
def test_candidate_scan_agrees_with_tokenising_on_accented_text(noise: str, pairs: list[tuple[str, str]]) -> None:
    text = noise + " " + " ".join(a for _, a in pairs) + " " + noise
    wanted = frozenset(t for p, _ in pairs for t in analysis.terms(p))
    quick = analysis.find_terms(text, wanted)
    if quick is not None:
        assert quick == [s for s in analysis.spans(text) if s[0] in wanted]


@pytest.fixture(scope="module")
def index() -> Index:
    ix = Index.in_memory()
    ix.add(
        Article(id="pl", date="2025-01-02", title="Strike in Gdańsk", body="Dock workers in Gdańsk walked out."),
        Article(id="de", date="2025-01-03", title="Strasse closed", body="The Hauptstrasse was closed in Gdansk too."),
        Article(
            id="given",
            date="2025-01-04",
            body="A visit to the port city.",
            entities=(Entity("Łódź", EntityKind.PLACE), Entity("Gdansk Port Authority", EntityKind.ORG)),
        ),
    )
    return ix


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("gdansk", {"pl", "de", "given"}),
        ("Gdańsk", {"pl", "de", "given"}),
        ("GDANSK", {"pl", "de", "given"}),
        ('"workers in gdansk"', {"pl"}),
        ("hauptstraße", {"de"}),
        ("gdań*", {"pl", "de", "given"}),
        ("title:strasse", {"de"}),
        ("title:straße", {"de"}),
        ("entity:Lodz", {"given"}),
        ("place:łódź", {"given"}),
        ('entity:"Gdańsk Port Authority"', {"given"}),
        ("lodz", {"given"}),  # entity names are searchable words too
    ],
)
def test_search_folds_both_ways(index: Index, query: str, ids: set[str]) -> None:
    results = index.search(query, limit=10)
    assert {h.article.id for h in results} == ids


def test_hits_highlight_the_accented_words_as_written(index: Index) -> None:
    hit = index.search("gdansk", limit=10)
    pl = next(h for h in hit if h.article.id == "pl")
    marked = [pl.snippets[0].text[s.start : s.end] for s in pl.snippets[0].spans]
    assert marked == ["Gdańsk"]


def test_entity_filter_folds(index: Index) -> None:
    assert [h.article.id for h in index.search("", entities=["lodz"])] == ["given"]


@given(st.text(max_size=200))
def test_the_plain_word_pattern_is_only_a_shortcut(text: str) -> None:
    """Text without combining marks is tokenised with the simpler pattern: the same tokens."""
    shortcut = analysis._words_of(text)
    assert [m.span() for m in shortcut.finditer(text)] == [m.span() for m in analysis.WORD.finditer(text)]


def test_entity_facets_count_names_as_entity_queries_match_them() -> None:
    """ "Gdańsk" and "Gdansk" are one entity to ``entity:``, so one facet with both counted."""
    with Index.in_memory() as ix:
        ix.add(
            *(
                Article(id=f"a{i}", date="2025-01-01", body="Port news.", entities=(Entity(name, EntityKind.PLACE),))
                for i, name in enumerate(["Gdańsk", "Gdansk", "GDAŃSK", "Łódź"])
            )
        )
        facets = {f.value.casefold(): f.count for f in ix.facets("port").entities}
        assert facets == {"gdańsk": 3, "łódź": 1}
        assert ix.search("entity:gdansk").total == 3


@settings(max_examples=25, deadline=None)
@given(st.lists(_accented(), min_size=1, max_size=6), st.lists(st.booleans(), min_size=6, max_size=6))
def test_an_index_finds_each_word_by_either_spelling(pairs: list[tuple[str, str]], accents: list[bool]) -> None:
    """Articles written with or without accents; each word is searched both ways: the same articles."""
    with Index.in_memory() as ix:
        ix.add(
            *(
                Article(id=f"a{i}", date="2025-01-01", body=f"{accented if accents[i] else plain} report")
                for i, (plain, accented) in enumerate(pairs)
            )
        )
        for plain, accented in pairs:
            if not analysis.terms(plain):
                continue
            expected = {f"a{i}" for i, (p, _) in enumerate(pairs) if analysis.terms(p) == analysis.terms(plain)}
            for query in (plain, accented):
                assert {h.article.id for h in ix.search(query, limit=50, highlight=None)} == expected


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="aZ9_. \n-'", max_size=60),  # dots in every arrangement
        st.text(alphabet=[chr(c) for c in range(128)], max_size=80),
        st.text(max_size=60),
    )
)
def test_the_ascii_splitter_gives_the_expressions_tokens(text: str) -> None:
    """kept_terms and positions split ASCII text without the expression: the same tokens, the same terms."""
    assert analysis._split(text) == analysis._words_of(text).findall(text)
    words = analysis._words_of(text).findall(text)
    found = [analysis.term(w) or "" for w in words]
    kept = [f for f in found if f]
    assert analysis.kept_terms(text) == (kept, found.index(kept[0]) if kept else 0)


def test_kept_terms_hold_when_the_term_cache_starts_over(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "The U.S. port strike in Gdańsk: dockers, dockers and the union talk again on Friday."
    expected = analysis.kept_terms(text)
    monkeypatch.setattr(analysis, "_CACHE_MAX", 2)  # cleared while one text's words are analysed
    monkeypatch.setattr(analysis, "_TERMS", analysis._TermCache())
    assert analysis.kept_terms(text) == expected
    assert expected[0][1:3] == ["port", "strike"] and len(analysis._TERMS) <= 2
