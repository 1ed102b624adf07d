"""The rule-based extractor's work on one text: names, their kinds, folded aliases (the hot path).

``entities.RuleExtractor`` delegates here. Candidate spans come from ``_spans.py`` (one regex
pass); each distinct mention is read once per process (memoised, ``_readings``): titles,
sentence openers and demonyms are cut (``_clean``), connectors split ("Egypt and Qatar"), and
the rules guess a kind (``_kind``) from keyword, gazetteer and context cues; a surname alone is
resolved to the full name the article used earlier; the learned scorer (``_kinds``) then picks
each distinct name's kind, and aliases fold ("UK" -> United Kingdom, "Long Name (LN)").

A pure module (no classes, no state beyond its memos), so that it can also be compiled
unchanged: ``setup.py`` builds it, with ``_spans`` and ``_kinds``, into C extensions with
Cython when asked (``SEARCHLIB_COMPILE=1``), and ``entities`` uses the compiled copy when it
was built from these very sources (``_compiled.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

from searchlib import _kinds, _spans
from searchlib._cities import CITIES
from searchlib._gazetteer import (
    COMMON_CAPS,
    DEMONYMS,
    GENERIC,
    INSTITUTIONS,
    KNOWN_ORGS,
    MONTHS,
    NOT_NAMES,
    ORG_WORDS,
    PLACE_WORDS,
    PLACES,
)
from searchlib._given_names import GIVEN_NAMES
from searchlib._spans import CONNECTORS as _CONNECTORS
from searchlib._spans import JOINERS as _JOINERS
from searchlib._spans import PARTICLES as _PARTICLES
from searchlib._spans import PERSON_FOLLOWERS as _PERSON_FOLLOWERS
from searchlib._spans import PLACE_FOLLOWERS as _PLACE_FOLLOWERS
from searchlib._spans import Mention as _Mention
from searchlib._spans import mentions
from searchlib._surnames import SURNAMES
from searchlib.models import Entity, EntityKind


def extract(text: str, learned_kinds: bool) -> tuple[Entity, ...]:
    """``RuleExtractor(learned_kinds=...).extract(text)``: the entities named in ``text``, in order."""
    entities = []
    entity_of, pick = _ENTITIES, _kinds.kind
    for name, kind, words, context in rule_names(text):
        if learned_kinds:
            kind = pick(words, kind, context)
        entity = entity_of.get((name, kind))
        entities.append(entity if entity is not None else _remember(entity_of, (name, kind), Entity(name, kind)))
    defined = acronym_definitions(text) if "(" in text else None
    if not defined and all(entity.key not in KNOWN_ALIASES for entity in entities):
        return tuple(entities)  # no name to fold (the keys are distinct: ``rule_names`` keys by them)
    return fold_aliases(entities, {**KNOWN_ALIASES, **defined} if defined else KNOWN_ALIASES)


def entity(name: str, kind: EntityKind) -> Entity:
    """``Entity(name, kind)``, memoised (entities are immutable values; names recur across articles)."""
    found = _ENTITIES.get((name, kind))
    return found if found is not None else _remember(_ENTITIES, (name, kind), Entity(name, kind))


def clear_caches() -> None:
    """Forget the memoised readings and entities (benchmarks time extraction from cold)."""
    _READINGS.clear()
    _ENTITIES.clear()
    _FOLDED.clear()
    _MERGED.clear()
    _kinds.clear_caches()
    _spans.clear_caches()


_PLACE_ACRONYMS = frozenset({"US", "UK", "UAE", "USA", "DRC"})
_COMPASS = frozenset({"North", "South", "East", "West", "Northern", "Southern", "Eastern", "Western", "Central"})
PERSON = EntityKind.PERSON
_ORG_OR_PLACE_WORDS = ORG_WORDS | PLACE_WORDS
_ORGS_AND_INSTITUTIONS = KNOWN_ORGS | INSTITUTIONS
_PLACE_OPENERS = _COMPASS | {"New"}
_PLURAL_ACRONYM = re.compile(r"[A-Z]{2,}s")


def _is_acronym(word: str) -> bool:
    letters = word.replace(".", "")
    return 2 <= len(letters) <= 7 and letters.isupper() and letters.isalpha()


def _split_connectors(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """'Egypt and Qatar' is two entities; 'Bank of England' is one."""
    if _CONNECTORS.isdisjoint(words):
        return [words]
    if len(words) == 3 and words[1] == "and" and all(w in INSTITUTIONS or w == "House" for w in words[::2]):
        return [words[:1], words[2:]]  # "House and Senate"
    numbered = any(w in _CONNECTORS and words[k - 1][:1].isdigit() for k, w in enumerate(words) if k)
    if not numbered and (words[-1] in ORG_WORDS or any(w in ORG_WORDS or w in PLACE_WORDS for w in words[:-1])):
        return [words]  # "Bank of England"; but "Radio 4 and Channel 4" is two
    parts: list[tuple[str, ...]] = []
    current: list[str] = []
    for w in words:
        if w in _CONNECTORS:
            parts.append(tuple(current))
            current = []
        else:
            current.append(w)
    parts.append(tuple(current))
    return [p for p in parts if p]


def _clean(words: tuple[str, ...], sentence_initial: bool) -> tuple[str, ...]:
    """Drop leading sentence openers and trailing particles; reject generic single words."""
    w = list(words)
    if sentence_initial and len(w) >= 3 and w[1] == "of" and w[0].endswith("s") and w[0] not in _ORG_OR_PLACE_WORDS:
        del w[:2]  # "Shares of Borealis Inc" opens a sentence with a plural common noun
    while w and (w[0] in COMMON_CAPS or w[0] == "the" or (w[0] in _PARTICLES and len(w) > 1)):
        w.pop(0)
    while w and (
        w[-1] in _PARTICLES
        or w[-1] in _CONNECTORS
        or (w[-1] in COMMON_CAPS and not (w[-1] in MONTHS and len(w) >= 2 and _names_person(w[:-1])))
        or w[-1] == "the"
    ):
        w.pop()  # "Theresa May" keeps its surname; "in May" has no name left, "New York May" is New York
    if len(w) >= 2 and all(x.isupper() for x in w) and any(len(x) >= 4 and x.isalpha() for x in w):
        return ()  # "READ MORE", "COMPLETES SALE": shouting, not acronyms
    if w and w[-1] in DEMONYMS and all(x in DEMONYMS or x in _COMPASS for x in w):
        return ()  # "South African", "West Australian"
    if len(w) > 1 and w[-1] in DEMONYMS and (" ".join(w[:-1]) in PLACES or " ".join(w[:-1]) in CITIES):
        w.pop()  # "a Melbourne Christian school": the city, then an adjective
    if len(w) > 1 and w[0] in DEMONYMS and " ".join(w) not in PLACES and w[-1] not in ORG_WORDS:
        w.pop(0)  # "Belgian Petra De Sutter" -> Petra De Sutter; keeps "Saudi Arabia", "Saudi Press Agency"
    if not w:
        return ()
    if len(w) == 1:
        single = w[0]
        if single in INSTITUTIONS:
            return (single,)
        if single in NOT_NAMES or _PLURAL_ACRONYM.fullmatch(single):
            return ()  # "PC", "MPs", "Christmas", "Tory" (an adjective)
        if len(single) < 2 or single in GENERIC or single in ORG_WORDS or single in PLACE_WORDS or single in DEMONYMS:
            return ()
        if single.isupper() and len(single) > 7:
            return ()
        if single.endswith(("ians", "ians'", "eans", "ese")) or single.isdigit():
            return ()
    return tuple(w)


def _names_person(words: list[str]) -> bool:
    """Whether ``words`` before a month can open a person's name ("Theresa [May]", not "New York [May]")."""
    return words[-1][:1].isupper() and words[-1] in GIVEN_NAMES and " ".join(words) not in CITIES


def _kind(words: tuple[str, ...], mention: _Mention) -> EntityKind:
    _, _, titled, prep, follower = mention
    name = " ".join(words)
    last = words[-1]
    if len(words) == 1 and _is_acronym(last):
        return EntityKind.PLACE if last in _PLACE_ACRONYMS else EntityKind.ORG
    if name in PLACES:
        return EntityKind.PLACE
    if last in ORG_WORDS:
        return EntityKind.ORG
    if last in PLACE_WORDS or follower in _PLACE_FOLLOWERS:
        return EntityKind.PLACE
    if name in KNOWN_ORGS or name in INSTITUTIONS or (len(words) >= 2 and words[0] in _ORGS_AND_INSTITUTIONS):
        return EntityKind.ORG  # "Senate Democrats", "Texaco Canada"
    if len(words) >= 2 and words[-1] in KNOWN_ORGS:
        return EntityKind.ORG  # "Liberal Democrats"
    if "of" in words and words[words.index("of") - 1] in ORG_WORDS:
        return EntityKind.ORG  # "Bank of England", "Court of Appeal"
    if titled or (len(words) == 1 and follower in _PERSON_FOLLOWERS):
        return EntityKind.PERSON
    if len(words) >= 2 and words[0] in _PLACE_OPENERS:
        return EntityKind.PLACE  # "New Mexico", "Northern Ireland"
    if name in CITIES and not (len(words) == 1 and (name in SURNAMES or name in GIVEN_NAMES)):
        return EntityKind.PLACE  # "Las Vegas", "Newcastle"; but "Jackson" alone is a name first
    if len(words) >= 2 and all(w[:1].isupper() or w in _PARTICLES for w in words):
        return EntityKind.PERSON
    if len(words) == 1 and prep:
        return EntityKind.PLACE
    if len(words) == 1 and (words[0] in SURNAMES or words[0] in GIVEN_NAMES):
        return EntityKind.PERSON  # "Johnson" alone: a person more often than a company
    if any(_is_acronym(w) for w in words) or len(words) == 1:
        return EntityKind.ORG  # an unknown single name in news is most often a company, club or band
    return EntityKind.OTHER


def rule_names(text: str) -> list[tuple[str, EntityKind, tuple[str, ...], set[str] | frozenset[str]]]:
    """The names in ``text`` with the rules' kinds, before aliases fold: (name, kind, words, contexts).

    No ``Entity`` is built for a rule's kind the scorer then changes. The contexts are the cues
    the kind scorer (``_kinds``) reads beyond the name itself: ``ctx=titled`` (after a title),
    ``ctx=prep`` (after "in", "from"...), ``ctx=next:<word>`` ("border", "administration" after
    it), ``ctx=surname-alone`` (also named by surname alone).
    """
    found: dict[str, tuple[str, EntityKind]] = {}
    words_of: dict[str, tuple[str, ...]] = {}
    contexts: dict[str, set[str]] = {}
    mid_sentence: set[str] = set()
    candidates: list[tuple[_Reading, _Mention]] = []
    persons: list[tuple[str, ...]] = []
    cache = _READINGS
    for mention in dict.fromkeys(mentions(text)):  # each distinct mention once, in order
        readings = cache.get(mention)
        if readings is None:
            readings = _remember(cache, mention, _readings(mention))
        for reading in readings:
            candidates.append((reading, mention))
            if reading[2]:
                mid_sentence.add(reading[3])
            if reading[6]:
                persons.append(reading[0])
    surnames = _surname_index(persons) if persons else None
    for (words, guessed, _, name, key, place, _), (_, initial, titled, prep, follower) in candidates:
        full = None
        if surnames is not None and not (len(words) == 1 and (prep or follower in _PLACE_FOLLOWERS)):
            full = surnames.get(key)
        if full is not None:
            words, kind, place = full, PERSON, None
            name = " ".join(full)
            key = name.casefold()
        else:
            if initial and len(words) == 1 and name not in mid_sentence:
                known = name in PLACES or name in KNOWN_ORGS or _is_acronym(name) or follower in _PLACE_FOLLOWERS
                if not known:
                    continue  # a capitalised word that only ever opens a sentence ("Officials")
            kind = guessed
        previous = found.get(key)
        if previous is None or (previous[1] is EntityKind.OTHER and kind is not EntityKind.OTHER):
            found[key] = (name, kind)
            words_of.setdefault(key, words)
        if titled or prep or follower or full is not None:
            context = contexts.setdefault(key, set())
            if titled:
                context.add("ctx=titled")
            if prep:
                context.add("ctx=prep")
            if follower:
                context.add(f"ctx=next:{follower}")
            if full is not None:
                context.add("ctx=surname-alone")
        if place is not None:  # "Texaco Canada Inc" names Canada too
            previous = found.get(place.casefold())
            if previous is None or previous[1] is EntityKind.OTHER:
                found[place.casefold()] = (place, EntityKind.PLACE)
                words_of[place.casefold()] = (place,)
    none: frozenset[str] = frozenset()
    return [(name, kind, words_of[key], contexts.get(key, none)) for key, (name, kind) in found.items()]


_Reading = tuple[tuple[str, ...], EntityKind, bool, str, str, str | None, bool]
"""One name in a mention: (its words, the rules' kind, whether it counts as seen mid-sentence,
the name, its case-folded key, the country closing it if it is a company's name ("Texaco
Canada"), whether it is a person's full name (a surname alone may refer to it))."""

_CACHE_SIZE = 1 << 16
_K = TypeVar("_K")
_V = TypeVar("_V")
_READINGS: dict[_Mention, tuple[_Reading, ...]] = {}
_ENTITIES: dict[tuple[str, EntityKind], Entity] = {}
_FOLDED: dict[tuple[str, Entity], Entity] = {}
"""(canonical name, entity) -> the entity renamed to it, its name kept as an alias ("US" -> United States)."""
_MERGED: dict[tuple[Entity, Entity], Entity] = {}


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> _V:
    """Store ``value`` in a memo ``cache``, emptied when full (a plain dict: cheaper than an LRU)."""
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def _readings(mention: _Mention) -> tuple[_Reading, ...]:
    """The names in one mention, each with its guessed kind and whether it counts as seen mid-sentence.

    A pure function of the mention, memoised by the caller: a name and its context recur across news articles.
    """
    initial = mention[1]
    out = []
    for part in _split_connectors(mention[0]):
        words = _clean(part, initial)
        if words:
            kind = _kind(words, mention)
            name = " ".join(words)
            place = _trailing_place(words) if kind is EntityKind.ORG else None
            person = kind is PERSON and len(words) > 1
            out.append((words, kind, not initial or words != part, name, name.casefold(), place, person))
    return tuple(out)


_CORPORATE = frozenset({"Inc", "Ltd", "Corp", "Co", "Plc", "PLC", "LLC", "Limited", "AG", "SA", "NV", "Group"})


def _trailing_place(words: tuple[str, ...]) -> str | None:
    """The country closing a company's name ("Texaco Canada Inc"), not "Bank of England"."""
    end = len(words) - 1 if words[-1] in _CORPORATE else len(words)
    if end >= 2 and words[end - 1] in PLACES and words[end - 2] not in _JOINERS:
        return words[end - 1]
    return None


KNOWN_ALIASES = {
    "us": "United States",
    "usa": "United States",
    "united states of america": "United States",
    "america": "United States",
    "uk": "United Kingdom",
    "britain": "United Kingdom",
    "great britain": "United Kingdom",
    "un": "United Nations",
    "eu": "European Union",
}
"""Alias (case-folded) -> canonical name, applied to every article."""

_ACRONYM = re.compile(r"\(([A-Z][A-Z0-9&]{1,7})\)")
_NAME_WORD = re.compile(r"[^\W\d_][\w’'\-]*")
_INNER_WORDS = frozenset({"of", "and", "for", "the", "de", "du", "des", "la", "le", "del", "on", "&"})


def acronym_definitions(text: str) -> dict[str, str]:
    """Acronyms defined in ``text`` as "Long Name (LN)": ``{"ln": "Long Name"}``.

    The long name is the run of capitalised words (with "of", "and", ...) right before the
    bracket whose initials spell the acronym.
    """
    found: dict[str, str] = {}
    for match in _ACRONYM.finditer(text):
        acronym = match.group(1)
        letters = [c for c in acronym.lower() if c.isalpha()]
        words = _NAME_WORD.findall(text[max(0, match.start() - 200) : match.start()])
        picked: list[str] = []
        i = len(words) - 1
        while i >= 0 and letters:
            word = words[i].rstrip("'’")
            if word.lower() in _INNER_WORDS and picked:
                picked.append(word.lower())
            elif word[:1].isupper() and word[0].lower() == letters[-1]:
                picked.append(word)
                letters.pop()
            else:
                break
            i -= 1
        while picked and picked[-1] in _INNER_WORDS:
            picked.pop()
        if not letters and len(picked) >= 2:
            found[acronym.casefold()] = " ".join(reversed(picked))
    return found


def fold_aliases(entities: Sequence[Entity], aliases: Mapping[str, str]) -> tuple[Entity, ...]:
    """Merge entities that are aliases of one canonical name into that name, in first-mention order.

    ``aliases`` maps a case-folded alias to its canonical name; the alias is kept in
    ``Entity.aliases`` so queries for either name find the article.
    """
    out: dict[str, Entity] = {}
    for ent in entities:
        key = ent.key
        canonical = aliases.get(key)
        if canonical is None or canonical.casefold() == key:
            target = out.get(key)
            out[key] = ent if target is None else _merge(target, ent)
            continue
        folded = _FOLDED.get((canonical, ent))
        if folded is None:
            folded = _remember(_FOLDED, (canonical, ent), Entity(canonical, ent.kind, (ent.name, *ent.aliases)))
        key = folded.key
        out[key] = folded if key not in out else _merge(out[key], folded)
    return tuple(out.values())


def _merge(into: Entity, other: Entity) -> Entity:
    """``into`` with ``other``'s names as aliases (and its kind if ``into``'s is unknown), memoised."""
    merged = _MERGED.get((into, other))
    return merged if merged is not None else _remember(_MERGED, (into, other), _merged(into, other))


def _merged(into: Entity, other: Entity) -> Entity:
    kind = into.kind if into.kind is not EntityKind.OTHER else other.kind
    seen = {into.key}
    aliases: list[str] = []
    for name in (*into.aliases, *other.names):
        if name.casefold() not in seen:
            seen.add(name.casefold())
            aliases.append(name)
    return Entity(into.name, kind, tuple(aliases))


def _surname_index(persons: list[tuple[str, ...]]) -> dict[str, tuple[str, ...] | None]:
    """Trailing words of each full name, case-folded ('gallant', 'de sutter') -> that name, if unambiguous."""
    index: dict[str, tuple[str, ...] | None] = {}
    for person in set(persons):
        folded = [w.casefold() for w in person]
        for k in range(1, len(person)):
            key = " ".join(folded[-k:])
            index[key] = person if index.get(key, person) == person else None
    return index
