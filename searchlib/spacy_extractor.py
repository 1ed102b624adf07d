"""An entity extractor backed by spaCy, for users who have a spaCy pipeline with NER installed.

Install with ``pip install 'searchlib[spacy]'`` plus a model (``python -m spacy download
en_core_web_sm`` on a machine with internet). searchlib never downloads a model itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from searchlib.entities import KNOWN_ALIASES, acronym_definitions, fold_aliases
from searchlib.models import Entity, EntityKind

__all__ = ["LABEL_KINDS", "SpacyExtractor"]

LABEL_KINDS = {
    "PERSON": EntityKind.PERSON,
    "PER": EntityKind.PERSON,
    "ORG": EntityKind.ORG,
    "NORP": None,  # nationalities, religious and political groups: not entities here
    "GPE": EntityKind.PLACE,
    "LOC": EntityKind.PLACE,
    "FAC": EntityKind.PLACE,
}
"""spaCy entity labels -> kinds; labels mapped to None, or absent, are skipped."""


class SpacyExtractor:
    """Named entities from a spaCy pipeline (``nlp``), or from the installed model ``model``.

    Possessives are stripped ("Israel's" -> Israel) and aliases folded as with the rule-based
    extractor. Raises ``ImportError`` without spaCy and ``OSError`` (spaCy's) when the model
    is not installed.
    """

    def __init__(self, nlp: Any = None, *, model: str = "en_core_web_sm") -> None:
        if nlp is None:
            try:
                import spacy
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ImportError("SpacyExtractor needs spaCy: pip install 'searchlib[spacy]'") from exc
            nlp = spacy.load(model)
        self.nlp = nlp

    def extract(self, text: str) -> Sequence[Entity]:
        found: dict[str, Entity] = {}
        for span in self.nlp(text).ents:
            kind = LABEL_KINDS.get(span.label_)
            if kind is None:
                continue
            name = span.text.strip()
            for suffix in ("'s", "’s"):
                if name.endswith(suffix):
                    name = name[: -len(suffix)]
            if name.lower().startswith("the "):
                name = name[4:]
            if len(name) < 2:
                continue
            found.setdefault(name.casefold(), Entity(name, kind))
        return fold_aliases(tuple(found.values()), {**KNOWN_ALIASES, **acronym_definitions(text)})
