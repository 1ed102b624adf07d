"""The spaCy extractor, tested offline with a blank pipeline and an entity ruler (no model)."""

from __future__ import annotations

import pytest

import searchlib
from searchlib import Article, EntityKind

spacy = pytest.importorskip("spacy")

from searchlib.spacy_extractor import SpacyExtractor  # noqa: E402


@pytest.fixture(scope="module")
def extractor() -> SpacyExtractor:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PERSON", "pattern": "Yoav Gallant"},
            {"label": "ORG", "pattern": "Hanseatic Reserve Bank"},
            {"label": "ORG", "pattern": "HRB"},
            {"label": "GPE", "pattern": [{"LOWER": "israel"}, {"ORTH": "'s", "OP": "?"}]},
            {"label": "NORP", "pattern": "Belgian"},
            {"label": "DATE", "pattern": "Monday"},
        ]
    )
    return SpacyExtractor(nlp)


def test_labels_map_to_kinds_and_aliases_fold(extractor: SpacyExtractor) -> None:
    text = "Yoav Gallant met the Hanseatic Reserve Bank (HRB) on Monday. Israel's Belgian partner and the HRB agreed."
    found = {e.name: e for e in extractor.extract(text)}
    assert set(found) == {"Yoav Gallant", "Hanseatic Reserve Bank", "Israel"}
    assert found["Yoav Gallant"].kind is EntityKind.PERSON
    assert found["Israel"].kind is EntityKind.PLACE
    assert found["Hanseatic Reserve Bank"].aliases == ("HRB",)


def test_an_index_uses_it(extractor: SpacyExtractor) -> None:
    ix = searchlib.Index.in_memory(extractor=extractor)
    ix.add(Article(id="1", date="2024-05-06", body="Yoav Gallant spoke with the HRB."))
    assert ix.search('person:"yoav gallant"').total == 1
    assert ix.get("1").entity_names == ("Yoav Gallant", "HRB")  # type: ignore[union-attr]


def test_a_missing_model_is_an_error_not_a_download() -> None:
    with pytest.raises(OSError):
        SpacyExtractor(model="searchlib_no_such_model")
