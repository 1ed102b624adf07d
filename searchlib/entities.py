"""Named-entity extraction: a pluggable interface and a rule-based default that needs no model.

The default, :class:`RuleExtractor`, finds runs of capitalised words in news text and cleans
them the way a reader would: titles ("Defense Minister") and demonyms ("Belgian") are cut
off, possessives ("Israel's") are stripped, sentence-initial common words ("The", "He") are
dropped, acronyms (IDF, UNRWA, U.S.) are kept, and a surname alone ("Gallant") is resolved to
the full name the article used earlier ("Yoav Gallant"). Kinds come from keyword, gazetteer
and context rules; ``EntityKind.OTHER`` when they cannot tell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from searchlib._gazetteer import COMMON_CAPS, DEMONYMS, GENERIC, KNOWN_ORGS, ORG_WORDS, PLACE_WORDS, PLACES, TITLES
from searchlib.models import Entity, EntityKind

__all__ = [
    "KNOWN_ALIASES",
    "EntityExtractor",
    "NoExtractor",
    "RuleExtractor",
    "acronym_definitions",
    "entities_for",
    "fold_aliases",
]


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


_TOKEN = re.compile(
    r"(?:[A-Z]\.){2,}"  # U.S., U.N.
    r"|[^\W\d_](?:[\w’'\-]*[^\W_])?(?:['’]s?)?"  # words, possessives, hyphenated names
    r"|\d[\d,.]*"
    r"|[^\w\s]",
    re.UNICODE,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?:;])[\"'”’)\]]*\s+|\n+")
_PARTICLES = frozenset(
    {
        "de",
        "van",
        "der",
        "von",
        "al",
        "bin",
        "da",
        "di",
        "du",
        "la",
        "le",
        "el",
        "ibn",
        "den",
        "ter",
        "del",
        "della",
        "dos",
        "das",
        "do",
        "op",
        "y",
    }
)
_CONNECTORS = frozenset({"of", "and", "for", "&"})
_JOINERS = _PARTICLES | _CONNECTORS
_PLACE_PREPS = frozenset({"in", "from", "to", "near", "across", "outside", "inside", "into", "toward", "towards", "at"})
_PLACE_FOLLOWERS = frozenset({"crossing", "border", "city", "province", "region", "district", "camp", "port", "valley"})
_DOTTED = {"U.S.": "US", "U.K.": "UK", "U.N.": "UN", "E.U.": "EU"}
_PLACE_ACRONYMS = frozenset({"US", "UK", "UAE", "USA", "DRC"})
_COMPASS = frozenset({"North", "South", "East", "West", "Northern", "Southern", "Eastern", "Western", "Central"})
_PERSON_FOLLOWERS = frozenset({"administration"})


def _is_cap(tok: str) -> bool:
    return tok[:1].isupper()


def _is_acronym(word: str) -> bool:
    letters = word.replace(".", "")
    return 2 <= len(letters) <= 7 and letters.isupper() and letters.isalpha()


def _strip_possessive(tok: str) -> tuple[str, bool]:
    """``Israel's`` -> (Israel, True): the name ends here. ``Dockworkers'`` -> (Dockworkers, False)."""
    for suffix in ("'s", "’s"):
        if tok.endswith(suffix) and len(tok) > len(suffix) + 1:
            return tok[: -len(suffix)], True
    if tok.endswith(("'", "’")) and len(tok) > 2:
        return tok[:-1], False
    return tok, False


_ARABIC_ARTICLE = re.compile(r"(?:al|el)-[A-Z]")
_LOWER_SUFFIX = re.compile(r"^(.+?)-([a-z][a-z\-]*)$")


def _strip_lower_suffix(word: str) -> tuple[str, bool]:
    """``US-led`` -> (US, True); ``Jan-Willem`` and ``al-Qaida`` are kept whole."""
    match = _LOWER_SUFFIX.match(word)
    if match and match.group(1)[:1].isupper():
        return match.group(1), True
    return word, False


def _org_ahead(toks: Sequence[str], i: int) -> bool:
    """Whether the capitalised run from ``toks[i]`` ends in an organisation word ("Signals Directorate")."""
    last = ""
    while i < len(toks) and (toks[i][:1].isupper() or toks[i] in ("of", "and", "&")):
        last = toks[i]
        i += 1
    return last in ORG_WORDS


def _continues(toks: Sequence[str], i: int) -> bool:
    """Whether a name goes on at ``toks[i]`` (after a particle like "van" or "der")."""
    while i < len(toks) and (toks[i] in _PARTICLES or toks[i] == "the"):
        i += 1
    return i < len(toks) and (_is_cap(toks[i]) or bool(_ARABIC_ARTICLE.match(toks[i])))


@attrs.frozen
class _Mention:
    words: tuple[str, ...]
    sentence_initial: bool
    titled: bool  # preceded by a title such as "Minister" or "Mr"
    prev: str  # the lower-cased word before the mention
    next: str  # the lower-cased word after the mention


def _runs(sentence: str) -> list[_Mention]:
    """Maximal runs of capitalised words (with name particles) in one sentence."""
    toks = _TOKEN.findall(sentence)
    mentions: list[_Mention] = []
    run: list[str] = []
    start = 0
    titled = False

    def close(end: int) -> None:
        nonlocal run, titled
        if run:
            prev = toks[start - 1].lower() if start > 0 else ""
            nxt = toks[end].lower() if end < len(toks) else ""
            mentions.append(_Mention(tuple(run), start == 0 or _all_common(toks[:start]), titled, prev, nxt))
        run, titled = [], False

    for i, tok in enumerate(toks):
        first = tok[0]
        lowered_name = first == "a" or first == "e"
        if first.isupper() or (lowered_name and _ARABIC_ARTICLE.match(tok)):
            word, possessive = _strip_possessive(tok)
            word, suffixed = _strip_lower_suffix(word)  # "US-led" -> "US", then the name ends
            next_word = toks[i + 1] if i + 1 < len(toks) else ""
            is_title = word in TITLES and next_word not in ORG_WORDS
            if is_title and not _org_ahead(toks, i + 1):
                close(i)
                titled = True
                continue
            if not run:
                start = i
            run.append(_DOTTED.get(word, word))
            if possessive or suffixed:
                close(i + 1)
        elif (
            run
            and ((first.islower() and tok in _JOINERS) or tok == "&" or (tok == "the" and run[-1] == "of"))
            and _continues(toks, i + 1)
        ):
            run.append(tok)
        elif run:
            close(i)
        else:
            titled = titled and tok in {",", "."}
    close(len(toks))
    return mentions


def _all_common(toks: Sequence[str]) -> bool:
    """True when every token before a run is a sentence opener (quote marks, 'The')."""
    return all(not t[0].isalnum() or t in COMMON_CAPS for t in toks)


def _split_connectors(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """'Egypt and Qatar' is two entities; 'Bank of England' is one."""
    if not any(w in _CONNECTORS for w in words):
        return [words]
    if words[-1] in ORG_WORDS or any(w in ORG_WORDS or w in PLACE_WORDS for w in words[:-1]):
        return [words]
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
    while w and (w[0] in COMMON_CAPS or w[0] == "the" or (w[0] in _PARTICLES and len(w) > 1)):
        w.pop(0)
    while w and (w[-1] in _PARTICLES or w[-1] in _CONNECTORS or w[-1] in COMMON_CAPS or w[-1] == "the"):
        w.pop()
    if w and w[-1] in DEMONYMS and all(x in DEMONYMS or x in _COMPASS for x in w):
        return ()  # "South African", "West Australian"
    if len(w) > 1 and w[0] in DEMONYMS and " ".join(w) not in PLACES and w[-1] not in ORG_WORDS:
        w.pop(0)  # "Belgian Petra De Sutter" -> Petra De Sutter; keeps "Saudi Arabia", "Saudi Press Agency"
    if not w:
        return ()
    if len(w) == 1:
        single = w[0]
        if len(single) < 2 or single in GENERIC or single in ORG_WORDS or single in PLACE_WORDS or single in DEMONYMS:
            return ()
        if single.endswith(("ians", "ians'", "eans", "ese")) or single.isdigit():
            return ()
    return tuple(w)


def _kind(words: tuple[str, ...], mention: _Mention) -> EntityKind:
    name = " ".join(words)
    last = words[-1]
    if len(words) == 1 and _is_acronym(last):
        return EntityKind.PLACE if last in _PLACE_ACRONYMS else EntityKind.ORG
    if name in PLACES:
        return EntityKind.PLACE
    if last in ORG_WORDS or (any(_is_acronym(w) for w in words[:-1]) and last in ORG_WORDS):
        return EntityKind.ORG
    if last in PLACE_WORDS or mention.next in _PLACE_FOLLOWERS:
        return EntityKind.PLACE
    if name in KNOWN_ORGS:
        return EntityKind.ORG
    if mention.titled or (len(words) == 1 and mention.next in _PERSON_FOLLOWERS):
        return EntityKind.PERSON
    if len(words) >= 2 and words[0] in _COMPASS | {"New"}:
        return EntityKind.PLACE  # "New Mexico", "Northern Ireland"
    if len(words) >= 2 and all(w[:1].isupper() or w in _PARTICLES for w in words):
        return EntityKind.PERSON
    if len(words) == 1 and mention.prev in _PLACE_PREPS:
        return EntityKind.PLACE
    return EntityKind.OTHER


@attrs.frozen
class RuleExtractor:
    """The default extractor: capitalisation, gazetteer and context rules tuned on news text."""

    def extract(self, text: str) -> Sequence[Entity]:
        found: dict[str, Entity] = {}
        persons: list[tuple[str, ...]] = []
        mid_sentence: set[str] = set()
        candidates: list[tuple[tuple[str, ...], _Mention]] = []
        for sentence in _SENTENCE_BREAK.split(text):
            for mention in _runs(sentence):
                for part in _split_connectors(mention.words):
                    words = _clean(part, mention.sentence_initial)
                    if words:
                        candidates.append((words, mention))
                        if not mention.sentence_initial or words != part:
                            mid_sentence.add(" ".join(words))
        for words, mention in candidates:
            kind = _kind(words, mention)
            if kind is EntityKind.PERSON and len(words) >= 2:
                persons.append(words)
        surnames = _surname_index(persons)
        for words, mention in candidates:
            name = " ".join(words)
            in_place_context = len(words) == 1 and (mention.prev in _PLACE_PREPS or mention.next in _PLACE_FOLLOWERS)
            full = None if in_place_context else surnames.get(tuple(w.casefold() for w in words))
            if full is not None:
                name, kind = " ".join(full), EntityKind.PERSON
            else:
                opener_only = mention.sentence_initial and name not in mid_sentence
                known = name in PLACES or name in KNOWN_ORGS or _is_acronym(name) or mention.next in _PLACE_FOLLOWERS
                if opener_only and len(words) == 1 and not known:
                    continue  # a capitalised word that only ever opens a sentence ("Officials")
                kind = _kind(words, mention)
            key = name.casefold()
            previous = found.get(key)
            if previous is None or (previous.kind is EntityKind.OTHER and kind is not EntityKind.OTHER):
                found[key] = Entity(name, kind)
        entities = tuple(found.values())
        return fold_aliases(entities, {**KNOWN_ALIASES, **acronym_definitions(text)})


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
        canonical = aliases.get(ent.key)
        if canonical is None or canonical.casefold() == ent.key:
            target = out.get(ent.key)
            out[ent.key] = ent if target is None else _merge(target, ent)
            continue
        folded = Entity(canonical, ent.kind, (ent.name, *ent.aliases))
        key = folded.key
        out[key] = folded if key not in out else _merge(out[key], folded)
    return tuple(out.values())


def _merge(into: Entity, other: Entity) -> Entity:
    kind = into.kind if into.kind is not EntityKind.OTHER else other.kind
    seen = {into.key}
    aliases: list[str] = []
    for name in (*into.aliases, *other.names):
        if name.casefold() not in seen:
            seen.add(name.casefold())
            aliases.append(name)
    return Entity(into.name, kind, tuple(aliases))


def _surname_index(persons: list[tuple[str, ...]]) -> dict[tuple[str, ...], tuple[str, ...] | None]:
    """Trailing words of each full name ('Gallant', 'De Sutter') -> that name, if unambiguous."""
    index: dict[tuple[str, ...], tuple[str, ...] | None] = {}
    for person in set(persons):
        folded = tuple(w.casefold() for w in person)
        for k in range(1, len(person)):
            key = folded[-k:]
            index[key] = person if index.get(key, person) == person else None
    return index


def entities_for(
    title: str, body: str, given: tuple[Entity, ...] | None, extractor: EntityExtractor, learned: dict[str, str]
) -> tuple[Entity, ...]:
    """An article's final entities: ``given`` as given; else extracted, with aliases folded.

    ``learned`` maps aliases seen so far (in this index) to canonical names; it is updated
    with the aliases this article defines, so a later "HRB" joins "Hanseatic Reserve Bank".
    """
    if given is not None:
        return given
    text = body if title in body else f"{title}\n\n{body}"
    entities = fold_aliases(extractor.extract(text), learned)
    for ent in entities:
        for alias in ent.aliases:
            learned.setdefault(alias.casefold(), ent.name)
    return entities
