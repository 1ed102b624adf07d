"""A small statistical scorer that picks an extracted entity's kind: person, organisation or place.

The rules in ``entities.py`` find names well but guess their kinds from a few cues. This
scorer weighs many cues at once: the rules' guess, the words of the name (head word, first
word, suffix, the whole name when common), its shape (acronym, hyphen, "of"), gazetteer hits
(places, cities, given names, surnames, organisation words) and the contexts the article
used it in (after a title, after "in", before "administration", alone as a surname).

It is a multinomial logistic regression trained offline by
``benchmarks/entity_data/train_kinds.py`` on spaCy's labels for the *dev* half of the BBC News
corpus (never the test half), and shipped as ``kind_weights.json``. Scoring is a sum of a few
weights per entity (per distinct name, not per token), memoised per name; no model library is
needed at run time. Without the weights file the rules' kinds stand.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

import attrs

from searchlib._cities import CITIES
from searchlib._gazetteer import DEMONYMS, INSTITUTIONS, KNOWN_ORGS, ORG_WORDS, PLACE_WORDS, PLACES, TITLES
from searchlib._given_names import GIVEN_NAMES
from searchlib._surnames import SURNAMES
from searchlib.models import EntityKind

KINDS = (EntityKind.PERSON, EntityKind.ORG, EntityKind.PLACE)
_CACHE_SIZE = 1 << 16
"""Memo sizes: a plain dict per memo, emptied when full (cheaper than an LRU's bookkeeping)."""
WEIGHTS_FILE = "kind_weights.json"
_DIGIT = re.compile(r"\d")
_COMPASS = frozenset({"North", "South", "East", "West", "Northern", "Southern", "Eastern", "Western", "Central", "New"})


def name_features(words: tuple[str, ...], rule: EntityKind) -> list[str]:
    """What the name itself says about its kind (see the module docstring), as feature strings.

    Training reads these; scoring (``_name_scores``) looks the same features up by family.
    """
    name = " ".join(words)
    first, last = words[0], words[-1]
    n = len(words)
    feats = [f"rule={rule.value}", f"n={min(n, 3)}", f"name={name.casefold()}", f"suf={last[-3:].lower()}"]
    feats.append(f"rule={rule.value}&n={min(n, 3)}")
    if n > 1:
        feats += [f"last={last.casefold()}", f"first={first.casefold()}"]
    letters = name.replace(".", "").replace(" ", "")
    if letters.isupper():
        feats.append("shape=caps" if len(letters) > 5 else "shape=acronym")
    if _DIGIT.search(name):
        feats.append("shape=digit")
    if "-" in name:
        feats.append("shape=hyphen")
    if "of" in words:
        feats.append("shape=of")
    if "and" in words or "&" in words:
        feats.append("shape=and")
    feats += _gazetteer_hits(words, name)
    return feats


def _gazetteer_hits(words: tuple[str, ...], name: str) -> list[str]:
    """The gazetteer features of a name: "gaz=place", "gaz=given", ..."""
    first, last = words[0], words[-1]
    hits = []
    if name in PLACES:
        hits.append("gaz=place")
    if name in CITIES:
        hits.append("gaz=city")
    if name in KNOWN_ORGS or name in INSTITUTIONS:
        hits.append("gaz=known-org")
    if last in ORG_WORDS:
        hits.append("gaz=org-word")
    if last in PLACE_WORDS:
        hits.append("gaz=place-word")
    if first in GIVEN_NAMES:
        hits.append("gaz=given")
    if last in SURNAMES:
        hits.append("gaz=surname")
    if first in TITLES:
        hits.append("gaz=title-first")
    if first in DEMONYMS:
        hits.append("gaz=demonym-first")
    if len(words) > 1:
        if first in _COMPASS:
            hits.append("gaz=compass-first")
        if first in GIVEN_NAMES and last in SURNAMES:
            hits.append("gaz=given+surname")
    return hits


Vector = tuple[float, float, float]
_SCORES: dict[tuple[tuple[str, ...], EntityKind], tuple[Vector, bool]] = {}
_PLAIN: dict[tuple[tuple[str, ...], EntityKind], EntityKind] = {}


@attrs.frozen
class _Model:
    """The weights, grouped by feature family so that scoring a name needs no feature strings."""

    base: dict[tuple[EntityKind, int], Vector]  # bias + rule= + n= + rule=&n=
    families: dict[str, dict[str, Vector]]  # "name", "last", "first", "suf" -> value -> weights
    flags: dict[str, Vector]  # "gaz=place", "shape=of", "ctx=titled", ...


def _parse(data: dict[str, Any]) -> _Model:
    if data.get("classes") != [k.value for k in KINDS]:
        raise ValueError(f"{WEIGHTS_FILE}: classes must be {[k.value for k in KINDS]}")
    weights: dict[str, Vector] = {f: (float(w[0]), float(w[1]), float(w[2])) for f, w in data["weights"].items()}
    zero = (0.0, 0.0, 0.0)
    base = {}
    for rule in EntityKind:
        for n in (1, 2, 3):
            parts = [tuple(data["bias"]), *(weights.get(f, zero) for f in (f"rule={rule.value}", f"n={n}"))]
            parts.append(weights.get(f"rule={rule.value}&n={n}", zero))
            base[rule, n] = (sum(v[0] for v in parts), sum(v[1] for v in parts), sum(v[2] for v in parts))
    families: dict[str, dict[str, Vector]] = {f: {} for f in ("name", "last", "first", "suf")}
    flags = {}
    for feat, w in weights.items():
        family, _, value = feat.partition("=")
        if family in families:
            families[family][value] = w
        elif family in ("gaz", "shape", "ctx"):
            flags[feat] = w
    return _Model(base, families, flags)


@functools.lru_cache(maxsize=1)
def _model() -> _Model | None:
    try:
        text = resources.files("searchlib").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return _parse(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # a damaged weights file: the rules' kinds stand, as without one


def available() -> bool:
    """Whether the shipped weights are present (they are in every install of the package)."""
    return _model() is not None


def _name_scores(words: tuple[str, ...], rule: EntityKind) -> tuple[Vector, bool]:
    """The scores the name's own features give (``name_features``, looked up by family), and
    whether any of them is evidence about this name (its words, suffix or a gazetteer) beyond
    the rules' guess and its length. Memoised per name and rule guess."""
    found = _SCORES.get((words, rule))
    if found is not None:
        return found
    model = _model()
    assert model is not None
    n = len(words)
    first, last = words[0], words[-1]
    name = " ".join(words)
    fam = model.families
    hits = [fam["name"].get(name.casefold()), fam["suf"].get(last[-3:].lower())]
    if n > 1:
        hits += [fam["last"].get(last.casefold()), fam["first"].get(first.casefold())]
    flags = model.flags
    letters = name.replace(".", "").replace(" ", "")
    if letters.isupper():
        hits.append(flags.get("shape=caps" if len(letters) > 5 else "shape=acronym"))
    if _DIGIT.search(name):
        hits.append(flags.get("shape=digit"))
    if "-" in name:
        hits.append(flags.get("shape=hyphen"))
    if n > 1:
        if "of" in words:
            hits.append(flags.get("shape=of"))
        if "and" in words or "&" in words:
            hits.append(flags.get("shape=and"))
    hits += [flags.get(feat) for feat in _gazetteer_hits(words, name)]
    s0, s1, s2 = model.base[rule, min(n, 3)]
    evidence = False
    for v in hits:
        if v is not None:
            evidence = True
            s0 += v[0]
            s1 += v[1]
            s2 += v[2]
    if len(_SCORES) >= _CACHE_SIZE:
        _SCORES.clear()
    found = _SCORES[words, rule] = ((s0, s1, s2), evidence)
    return found


def kind(words: tuple[str, ...], rule: EntityKind, context: frozenset[str] | set[str]) -> EntityKind:
    """The most likely kind of the entity named ``words`` given the rules' guess and its contexts."""
    if not context:  # most names: the answer depends on the name and the rules' guess alone
        found = _PLAIN.get((words, rule))
        if found is None:
            if len(_PLAIN) >= _CACHE_SIZE:
                _PLAIN.clear()
            found = _PLAIN[words, rule] = _kind(words, rule, context)
        return found
    return _kind(words, rule, context)


def _kind(words: tuple[str, ...], rule: EntityKind, context: frozenset[str] | set[str]) -> EntityKind:
    """:func:`kind`, computed."""
    model = _model()
    if model is None:
        return rule
    (s0, s1, s2), evidence = _name_scores(words, rule)
    for feat in context:
        v = model.flags.get(feat)
        if v is not None:
            evidence = True
            s0 += v[0]
            s1 += v[1]
            s2 += v[2]
    if not evidence:
        return rule  # a name the scorer knows nothing about: the rules' cues ("crossing", "Mr") stand
    if rule is EntityKind.PLACE and "ctx=titled" not in context and " ".join(words) in CITIES:
        return rule  # spaCy's small model calls many cities people ("Glasgow"); the city list knows
    if s0 >= s1 and s0 >= s2:
        return EntityKind.PERSON
    return EntityKind.ORG if s1 >= s2 else EntityKind.PLACE


def clear_caches() -> None:
    """Forget memoised scores (benchmarks time extraction from cold)."""
    _SCORES.clear()
    _PLAIN.clear()
