"""The compiled extractor (Cython, ``SEARCHLIB_COMPILE=1``) finds exactly what the pure-Python one does.

``setup.py`` compiles ``_spans.py``, ``_kinds.py`` and ``_rules.py`` unchanged; these tests run
both copies on every benchmark corpus and on generated text and compare entity for entity.
Without the compiled copy they skip, unless ``SEARCHLIB_COMPILE=1`` is set, which says it was
built (``.ci/run`` builds it and sets it): then they fail. The guard that keeps a stale build
from running is tested either way.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import entity_same
from searchlib import _compiled, _rules, entities
from searchlib.models import Entity
from tests.conftest import require_compiled


@pytest.fixture(scope="module")
def compiled() -> ModuleType:
    return require_compiled(_compiled.compiled_rules(), "extractor")


@pytest.fixture(scope="module")
def corpora() -> dict[str, list[tuple[str, str]]]:
    return entity_same.corpora()


def both(compiled: ModuleType, text: str, learned: bool) -> tuple[tuple[Entity, ...], tuple[Entity, ...]]:
    return _rules.extract(text, learned), compiled.extract(text, learned)


@pytest.mark.parametrize("learned", [True, False])
@pytest.mark.parametrize("corpus", ["hand-annotated", "sample", "bbc", "generated"])
def test_compiled_extracts_what_the_pure_rules_do(
    compiled: ModuleType, corpora: dict[str, list[tuple[str, str]]], corpus: str, learned: bool
) -> None:
    if corpus not in corpora:
        pytest.skip(f"{corpus}: corpus not installed (test_entity_same.py says whether it must be)")
    _rules.clear_caches()
    compiled.clear_caches()
    differ = [doc_id for doc_id, text in corpora[corpus] if (pair := both(compiled, text, learned))[0] != pair[1]]
    assert differ == [], f"{len(differ)} {corpus} articles differ, first {differ[:5]}"


words = st.sampled_from(
    ["Theresa", "May", "Mr", "Secretary", "of", "State", "Rex", "Tillerson", "the", "The", "U.S.", "and", "in",
     "Bank", "England", "Park", "Geun-hye", "READ", "MORE", "al-Assad", "van", "der", "Sloot", "Israel's",
     "border", "said", "(UK)", "United", "Kingdom", "Texaco", "Canada", "Inc", "Radio", "4", "5", "US-led"]
)  # fmt: skip
seps = st.sampled_from([" ", " ", " ", ", ", ". ", "\n", "\n\n", ": "])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(words, seps), max_size=40))
def test_compiled_agrees_on_generated_text(compiled: ModuleType, parts: list[tuple[str, str]]) -> None:
    text = "".join(w + s for w, s in parts)
    pure, fast = both(compiled, text, True)
    assert pure == fast, text


def test_a_stale_or_missing_build_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_compiled, "source_digest", lambda: "0" * 64)
    assert _compiled.compiled_rules() is None  # built from other sources: the pure rules run
    monkeypatch.undo()

    def missing(name: str) -> ModuleType:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", missing)
    assert _compiled.compiled_rules() is None
    monkeypatch.undo()
    monkeypatch.setenv(_compiled.PURE_ENV, "1")
    assert _compiled.compiled_rules() is None
    monkeypatch.undo()

    def unreadable() -> str:
        raise FileNotFoundError("_rules.py")

    monkeypatch.setattr(_compiled, "source_digest", unreadable)
    assert _compiled.compiled_rules() is None


def test_accelerated_says_which_extractor_runs() -> None:
    assert entities.accelerated() is (_compiled.compiled_rules() is not None)
    text = "Theresa May met Rex Tillerson in London."
    assert entities.RuleExtractor().extract(text) == _rules.extract(text, True)


def test_compiled_takes_the_arguments_the_pure_rules_take(compiled: ModuleType) -> None:
    class Text(str):
        pass

    text = "Theresa May visited Paris."
    assert compiled.extract(Text(text), 1) == _rules.extract(Text(text), 1) == _rules.extract(text, True)
    for extract in (compiled.extract, _rules.extract):
        with pytest.raises(TypeError):
            extract(None, True)
