"""Named-entity extraction: a pluggable interface and a rule-based default that needs no model download.

The default, :class:`RuleExtractor`, finds runs of capitalised words in news text (candidate
spans, ``_spans.py``: one regex pass, Python per span) and cleans them the way a reader
would: titles ("Defense Minister") and demonyms ("Belgian") are cut off, possessives
("Israel's") are stripped, sentence-initial common words ("The", "He") are dropped, acronyms
(IDF, UNRWA, U.S.) are kept, and a surname alone ("Gallant") is resolved to the full name the
article used earlier ("Yoav Gallant"). Kinds come from keyword, gazetteer (``_gazetteer.py``;
generated lists of common given names, ``_given_names.py``, surnames, ``_surnames.py``, and
large cities, ``_cities.py``) and context rules, ``EntityKind.OTHER`` when they cannot tell;
then a small learned scorer (``_kinds.py``, weights trained offline and shipped with the package) picks
person, organisation or place per distinct name from those and more cues. Per-mention
readings are memoised: a name and its context recur across articles.

The work itself is in ``_rules.py`` (with ``_spans.py`` and ``_kinds.py``); when those three
were compiled with Cython (``SEARCHLIB_COMPILE=1``, see README) from these very sources, the
compiled copy runs instead (:func:`accelerated`), with the same output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from searchlib import _compiled, _rules
from searchlib._rules import KNOWN_ALIASES, acronym_definitions, fold_aliases
from searchlib.models import Entity

__all__ = [
    "KNOWN_ALIASES",
    "EntityExtractor",
    "NoExtractor",
    "RuleExtractor",
    "accelerated",
    "acronym_definitions",
    "article_text",
    "entities_for",
    "fold_aliases",
]

_COMPILED = _compiled.compiled_rules()
_EXTRACT = _rules.extract if _COMPILED is None else _COMPILED.extract


def accelerated() -> bool:
    """Whether the compiled extractor runs (built at install or by ``setup.py build_ext`` from these sources)."""
    return _COMPILED is not None


@runtime_checkable
class EntityExtractor(Protocol):
    """Anything with ``extract(text) -> entities`` can tag articles at index time."""

    def extract(self, text: str) -> Sequence[Entity]:
        """The entities named in ``text``, each once, in order of first mention."""
        ...


@attrs.frozen
class NoExtractor:
    """Extracts nothing: for corpora whose entities are all given in the input."""

    def extract(self, text: str) -> Sequence[Entity]:
        return ()


@attrs.frozen
class RuleExtractor:
    """The default extractor: capitalisation, gazetteer and context rules tuned on news text.

    ``learned_kinds`` (default on) lets the shipped statistical scorer (``_kinds``) pick each
    entity's kind from the rules' guess and many more cues; off, the rules' kinds stand.
    """

    learned_kinds: bool = attrs.field(default=True, kw_only=True)

    def extract(self, text: str) -> Sequence[Entity]:
        return _EXTRACT(text, self.learned_kinds)


def rule_entities(text: str) -> list[tuple[Entity, tuple[str, ...], set[str] | frozenset[str]]]:
    """The names in ``text`` with the rules' kinds, before aliases fold: (entity, its words, its contexts).

    The contexts are the cues the kind scorer (``_kinds``) reads beyond the name itself:
    ``ctx=titled`` (after a title), ``ctx=prep`` (after "in", "from"...), ``ctx=next:<word>``
    ("border", "administration" after it), ``ctx=surname-alone`` (also named by surname alone).
    Always the pure-Python rules (training reads it).
    """
    return [(_rules.entity(name, kind), words, context) for name, kind, words, context in _rules.rule_names(text)]


def clear_caches() -> None:
    """Forget the memoised readings and entities (benchmarks time extraction from cold)."""
    _rules.clear_caches()
    if _COMPILED is not None:
        _COMPILED.clear_caches()


def entities_for(
    title: str,
    body: str,
    given: tuple[Entity, ...] | None,
    extractor: EntityExtractor,
    learned: Mapping[str, str] | None = None,
) -> tuple[Entity, ...]:
    """An article's entities as stored: ``given`` as given; else what ``extractor`` finds in it.

    Depends on this article alone, so parallel workers and later sessions store the same
    lists; aliases learned across articles are applied when reading (``searchlib.aliases``).
    ``learned`` is ignored (callers written before the index's alias table pass one).
    """
    if given is not None:
        return given
    return tuple(extractor.extract(article_text(title, body)))


def article_text(title: str, body: str) -> str:
    """The text entities are extracted from: the body, with the title first unless it repeats it."""
    return body if title in body else f"{title}\n\n{body}"
