"""The rule-based extractor on real and sample news text, and the pluggable interface."""

from __future__ import annotations

from pathlib import Path

import pytest

import searchlib
from searchlib import Article, Entity, EntityKind, NoExtractor, RuleExtractor


@pytest.fixture(scope="module")
def example_entities(example_path: Path) -> dict[str, EntityKind]:
    [article] = list(searchlib.read_articles([example_path]))
    assert isinstance(article, Article)
    return {e.name: e.kind for e in RuleExtractor().extract(article.body)}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Sami Abu Zuhri", EntityKind.PERSON),
        ("Yoav Gallant", EntityKind.PERSON),
        ("Lloyd Austin", EntityKind.PERSON),
        ("William Burns", EntityKind.PERSON),
        ("Petra De Sutter", EntityKind.PERSON),
        ("Barak Ravid", EntityKind.PERSON),
        ("IDF", EntityKind.ORG),
        ("UNRWA", EntityKind.ORG),
        ("CIA", EntityKind.ORG),
        ("United Nations Relief and Works Agency", EntityKind.ORG),
        ("Defense Ministry", EntityKind.ORG),
        ("Al-Qahera News", EntityKind.ORG),
        ("Israel", EntityKind.PLACE),
        ("Rafah", EntityKind.PLACE),
        ("Gaza", EntityKind.PLACE),
        ("Egypt", EntityKind.PLACE),
        ("Qatar", EntityKind.PLACE),
        ("Kerem Shalom", EntityKind.PLACE),
        ("Doha", EntityKind.PLACE),
        ("Cairo", EntityKind.PLACE),
        ("Belgium", EntityKind.PLACE),
        ("Washington", EntityKind.PLACE),
        ("Hamas", EntityKind.OTHER),
        ("Reuters", EntityKind.OTHER),
    ],
)
def test_example_article_entities(example_entities: dict[str, EntityKind], name: str, kind: EntityKind) -> None:
    assert example_entities.get(name) == kind


@pytest.mark.parametrize(
    "not_entity",
    [
        "The",
        "He",
        "Israel’s",
        "Israel's",
        "Defense Minister Yoav Gallant",
        "Belgian",
        "Egyptian",
        "Sunday",
        "Gallant",
        "De Sutter",
        "Agency",
        "Palestinians",
        "Vice Premier Petra De Sutter",
        "Egypt and Qatar",
    ],
)
def test_example_article_has_no_junk(example_entities: dict[str, EntityKind], not_entity: str) -> None:
    assert not_entity not in example_entities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Bank of England held rates. Officials in London said so.", ["Bank of England", "London"]),
        ("Margit van der Sloot spoke. Van der Sloot's plan won.", ["Margit van der Sloot"]),
        ("The U.S. and the U.K. agreed.", ["US", "UK"]),
        ("After the vote, Leila Abu Samra thanked Porto. Abu Samra smiled.", ["Leila Abu Samra", "Porto"]),
    ],
)
def test_rules(text: str, expected: list[str]) -> None:
    assert [e.name for e in RuleExtractor().extract(text)] == expected


def test_given_entities_are_kept_and_custom_extractors_plug_in() -> None:
    class Upper:
        def extract(self, text: str) -> list[Entity]:
            return [Entity(w, EntityKind.OTHER) for w in text.split() if w.isupper()]

    assert isinstance(Upper(), searchlib.EntityExtractor)
    ix = searchlib.Index.in_memory(extractor=Upper())
    ix.add(
        Article(id="1", date="2024-01-01", body="ACME and NATO met."),
        Article(id="2", date="2024-01-01", body="ACME met.", entities=["Given Name"]),
    )
    assert ix.get("1").entity_names == ("ACME", "NATO")  # type: ignore[union-attr]
    assert ix.get("2").entity_names == ("Given Name",)  # type: ignore[union-attr]
    ix2 = searchlib.Index.in_memory(extractor=NoExtractor())
    ix2.add(Article(id="1", date="2024-01-01", body="ACME met."))
    assert ix2.get("1").entity_names == ()  # type: ignore[union-attr]
