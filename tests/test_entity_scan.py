"""The C span scanner (``searchlib/_scan.pyx``) finds exactly the spans the regexes of ``_spans.scan`` find.

The compiled extractor scans with it; the pure-Python one keeps the regexes. These tests compare
the two span for span (start, stop, text, the token after it, preposition before it, sentence
opening) on every benchmark corpus and on random text built from the characters and words the
regexes treat specially. Without a build they skip, unless ``SEARCHLIB_COMPILE=1`` says one was
made (``.ci/run``): then they fail.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import entity_same
from searchlib import _compiled, _spans
from tests.conftest import require_compiled


@pytest.fixture(scope="module")
def scanner() -> ModuleType:
    require_compiled(_compiled.compiled_rules(), "extractor")
    module = importlib.import_module("searchlib._scan")
    module.configure(_spans.OPENERS, _spans.JOINERS)
    return module


@pytest.mark.parametrize("corpus", ["hand-annotated", "sample", "bbc", "generated"])
def test_the_scanner_finds_the_regex_spans_on_every_corpus(scanner: ModuleType, corpus: str) -> None:
    corpora = entity_same.corpora()
    if corpus not in corpora:
        pytest.skip(f"{corpus}: corpus not installed (test_entity_same.py says whether it must be)")
    differ = [doc_id for doc_id, text in corpora[corpus] if scanner.scan(text) != _spans.scan(text)]
    assert differ == [], f"{len(differ)} {corpus} articles differ, first {differ[:5]}"


def test_the_compiled_extractor_scans_with_it(scanner: ModuleType) -> None:
    spans_c = importlib.import_module("searchlib._spans_c")
    assert spans_c._SCAN is scanner.scan
    assert _spans._SCAN is None  # the pure module keeps the regexes


PIECES = [
    "The", "He", "But", "A", "I", "It's", "Mr", "Mr.", "Mrs.", "Ms.", "Dr.", "St.", "May", "Theresa", "Secretary",
    "of", "of the", "and", "for", "&", "van", "der", "de", "del", "della", "al", "el", "y", "the", "in", "from",
    "towards", "into", "at", "near", "IN", "ın", "İn", "acroſs", "Bank", "England", "al-Assad", "el-Sisi", "al-",
    "U.S.", "U.K", "A.B.C.", "Radio", "Channel", "Formula", "4", "1,000.5", "٣", "²", "Israel's", "Dockworkers'",
    "d'Ivoire", "O’Neill", "pro-Russian", "US-led", "Geun-hye", "Ωmega", "Δelta", "Ǆemal", "ǅemal", "Éric", "Ünal",
    "READ", "MORE", "_Under", "x", "said", "(", "[", "\"", "'", "“", "‘", "’", ")", "]", "”", "-", "—", ".", ",", ";",
    ":", "!", "?", "ſ",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", "\t", "\n", "\n\n", "\u00a0", "", ". ", ", ", ".\n", "\u2009"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), max_size=30))
def test_the_scanner_agrees_on_generated_text(scanner: ModuleType, parts: list[tuple[str, str]]) -> None:
    text = "".join(p + s for p, s in parts)
    assert scanner.scan(text) == _spans.scan(text), text


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.sampled_from("AaeEl-MrsDtSUK.  \n'’\"”)(\u201c ,;:!?4ıİſRadiohTf_é\u00a0"), max_size=60))
def test_the_scanner_agrees_on_random_characters(scanner: ModuleType, text: str) -> None:
    assert scanner.scan(text) == _spans.scan(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_the_scanner_agrees_on_any_unicode(scanner: ModuleType, text: str) -> None:
    assert scanner.scan(text) == _spans.scan(text), text
