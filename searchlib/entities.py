"""Named-entity extraction: a pluggable interface and a rule-based default that needs no model.

The default, :class:`RuleExtractor`, finds runs of capitalised words in news text and cleans
them the way a reader would: titles ("Defense Minister") and demonyms ("Belgian") are cut
off, possessives ("Israel's") are stripped, sentence-initial common words ("The", "He") are
dropped, acronyms (IDF, UNRWA, U.S.) are kept, and a surname alone ("Gallant") is resolved to
the full name the article used earlier ("Yoav Gallant"). Kinds come from keyword, gazetteer
(``_gazetteer.py``; generated lists of common given names and surnames, ``_names.py``, and of
large cities, ``_cities.py``) and context rules; ``EntityKind.OTHER`` when they cannot tell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from searchlib._cities import CITIES
from searchlib._gazetteer import (
    COMMON_CAPS,
    DEMONYMS,
    DEPARTMENTS,
    GENERIC,
    INSTITUTIONS,
    KNOWN_ORGS,
    MONTHS,
    NOT_NAMES,
    ORG_WORDS,
    PLACE_WORDS,
    PLACES,
    TITLES,
)
from searchlib._names import GIVEN_NAMES, SURNAMES
from searchlib.models import Entity, EntityKind

__all__ = [
    "KNOWN_ALIASES",
    "EntityExtractor",
    "NoExtractor",
    "RuleExtractor",
    "acronym_definitions",
    "article_text",
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
_SENTENCE_BREAK = re.compile(r"(?<=[.!?:;])[\"'”’)\]]*\s+")
_NO_BREAK_AFTER = re.compile(r"(?:\b[A-Z]\.[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|St)\.)$")


def _sentences(line: str) -> list[str]:
    """``line`` split after sentence punctuation, but not after "U.S." or "Mr." (a name may follow)."""
    pieces = _SENTENCE_BREAK.split(line)
    out = [pieces[0]]
    for piece in pieces[1:]:
        if _NO_BREAK_AFTER.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


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
PERSON = EntityKind.PERSON


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
_ADJECTIVE_SUFFIX = re.compile(
    r"(?:ed|ing|ism|ist|ists|style|like|wide|era|born|made|run|free|friendly|speaking|owned|based|backed|"
    r"led|listed|bound|specific|centric|only|type|sized|class|level|area|zone|region|market|rich)$"
)


def _strip_lower_suffix(word: str) -> tuple[str, bool]:
    """``US-led`` -> (US, True); ``Jan-Willem``, ``al-Qaida`` and ``Geun-hye`` are kept whole.

    Only a suffix that reads as an English adjective ("-led", "-based", "-speaking") is cut:
    a lower-case second half of a given name ("Park Geun-hye", "Lee Jae-in") is not.
    """
    match = _LOWER_SUFFIX.match(word)
    if match and match.group(1)[:1].isupper() and _ADJECTIVE_SUFFIX.search(match.group(2)):
        return match.group(1), True
    return word, False


def _headline(line: str) -> bool:
    """A title-case or ALL-CAPS line with no sentence end: a headline, whose spans are not names."""
    words = [w for w in re.findall(r"[^\W\d_][\w'’\-]*", line)]
    if len(words) < 2 or line.rstrip().endswith((".", "?", "!", '"', "”", ":", ";", ",")):
        return False
    letters = [c for c in line if c.isalpha()]
    if len(words) >= 2 and sum(c.isupper() for c in letters) >= 0.8 * len(letters):
        return any(len(w) >= 4 for w in words)
    long = [w for w in words if len(w) >= 4]
    capitalised = sum(w[0].isupper() for w in words)
    return len(long) >= 4 and all(w[0].isupper() for w in long) and capitalised >= 0.6 * len(words)


def _run_ahead(toks: Sequence[str], i: int) -> int:
    """How many capitalised words start at ``toks[i]``."""
    n = 0
    while i + n < len(toks) and toks[i + n][:1].isupper():
        n += 1
    return n


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

    skip_department = False
    for i, tok in enumerate(toks):
        first = tok[0]
        if skip_department:  # "Secretary of State [Rex Tillerson]": the department is part of the title
            if tok in DEPARTMENTS or tok in ("and", "the", "&", ","):
                continue
            skip_department = False
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
            if word in MONTHS and run and next_word[:1].isdigit():
                close(i)  # "... Smith May 5": a date, not a surname
            if not run:
                start = i
            run.append(_DOTTED.get(word, word))
            dotted_place = word in _DOTTED and next_word[:1].isupper()
            if (
                dotted_place
                and next_word not in INSTITUTIONS
                and not (_org_ahead(toks, i + 1) and _run_ahead(toks, i + 1) >= 2)
            ):
                close(i + 1)  # "a U.S. Insurance broker": the country, then a common noun
            elif possessive or suffixed:
                close(i + 1)
        elif run and first.isdigit() and run[-1] in ("Radio", "Channel", "Formula"):
            run.append(tok.rstrip(".,"))  # "BBC Radio 4", "Channel 4"
        elif (
            run
            and ((first.islower() and tok in _JOINERS) or tok == "&" or (tok == "the" and run[-1] == "of"))
            and _continues(toks, i + 1)
        ):
            run.append(tok)
        elif run:
            close(i)
        elif titled and tok in ("of", "for") and i + 1 < len(toks) and toks[i + 1] in DEPARTMENTS:
            skip_department = True
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
    if sentence_initial and len(w) >= 3 and w[1] == "of" and w[0].endswith("s") and w[0] not in ORG_WORDS | PLACE_WORDS:
        del w[:2]  # "Shares of Borealis Inc" opens a sentence with a plural common noun
    while w and (w[0] in COMMON_CAPS or w[0] == "the" or (w[0] in _PARTICLES and len(w) > 1)):
        w.pop(0)
    while w and (
        w[-1] in _PARTICLES
        or w[-1] in _CONNECTORS
        or (w[-1] in COMMON_CAPS and not (w[-1] in MONTHS and len(w) >= 2 and w[-2][:1].isupper()))
        or w[-1] == "the"
    ):
        w.pop()  # "Theresa May" keeps its surname; "in May" has no name left
    if len(w) >= 2 and all(x.isupper() for x in w) and any(len(x) >= 4 and x.isalpha() for x in w):
        return ()  # "READ MORE", "COMPLETES SALE": shouting, not acronyms
    if w and w[-1] in DEMONYMS and all(x in DEMONYMS or x in _COMPASS for x in w):
        return ()  # "South African", "West Australian"
    if len(w) > 1 and w[0] in DEMONYMS and " ".join(w) not in PLACES and w[-1] not in ORG_WORDS:
        w.pop(0)  # "Belgian Petra De Sutter" -> Petra De Sutter; keeps "Saudi Arabia", "Saudi Press Agency"
    if not w:
        return ()
    if len(w) == 1:
        single = w[0]
        if single in INSTITUTIONS:
            return (single,)
        if single in NOT_NAMES or re.fullmatch(r"[A-Z]{2,}s", single):
            return ()  # "PC", "MPs", "Christmas", "Tory" (an adjective)
        if len(single) < 2 or single in GENERIC or single in ORG_WORDS or single in PLACE_WORDS or single in DEMONYMS:
            return ()
        if single.isupper() and len(single) > 7:
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
    if name in KNOWN_ORGS or name in INSTITUTIONS or (len(words) >= 2 and words[0] in KNOWN_ORGS | INSTITUTIONS):
        return EntityKind.ORG  # "Senate Democrats", "Texaco Canada"
    if len(words) >= 2 and words[-1] in KNOWN_ORGS:
        return EntityKind.ORG  # "Liberal Democrats"
    if "of" in words and words[words.index("of") - 1] in ORG_WORDS:
        return EntityKind.ORG  # "Bank of England", "Court of Appeal"
    if mention.titled or (len(words) == 1 and mention.next in _PERSON_FOLLOWERS):
        return EntityKind.PERSON
    if len(words) >= 2 and words[0] in _COMPASS | {"New"}:
        return EntityKind.PLACE  # "New Mexico", "Northern Ireland"
    if name in CITIES and not (len(words) == 1 and (name in SURNAMES or name in GIVEN_NAMES)):
        return EntityKind.PLACE  # "Las Vegas", "Newcastle"; but "Jackson" alone is a name first
    if len(words) >= 2 and all(w[:1].isupper() or w in _PARTICLES for w in words):
        return EntityKind.PERSON
    if len(words) == 1 and mention.prev in _PLACE_PREPS:
        return EntityKind.PLACE
    if len(words) == 1 and (words[0] in SURNAMES or words[0] in GIVEN_NAMES):
        return EntityKind.PERSON  # "Johnson" alone: a person more often than a company
    if any(_is_acronym(w) for w in words) or len(words) == 1:
        return EntityKind.ORG  # an unknown single name in news is most often a company, club or band
    return EntityKind.OTHER


@attrs.frozen
class RuleExtractor:
    """The default extractor: capitalisation, gazetteer and context rules tuned on news text."""

    def extract(self, text: str) -> Sequence[Entity]:
        found: dict[str, Entity] = {}
        mid_sentence: set[str] = set()
        candidates: list[tuple[tuple[str, ...], _Mention]] = []
        sentences = (s for line in text.split("\n") if not _headline(line) for s in _sentences(line))
        for sentence in sentences:
            for mention in _runs(sentence):
                for part in _split_connectors(mention.words):
                    words = _clean(part, mention.sentence_initial)
                    if words:
                        candidates.append((words, mention))
                        if not mention.sentence_initial or words != part:
                            mid_sentence.add(" ".join(words))
        kinds = [_kind(words, mention) for words, mention in candidates]
        persons = [
            words for (words, _), kind in zip(candidates, kinds, strict=True) if kind is PERSON and len(words) > 1
        ]
        surnames = _surname_index(persons)
        for (words, mention), guessed in zip(candidates, kinds, strict=True):
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
                kind = guessed
            previous = found.get(name.casefold())
            if previous is None or (previous.kind is EntityKind.OTHER and kind is not EntityKind.OTHER):
                _add(found, Entity(name, kind))
            place = _trailing_place(words) if kind is EntityKind.ORG else None
            if place is not None:
                _add(found, Entity(place, EntityKind.PLACE))  # "Texaco Canada Inc" names Canada too
        entities = tuple(found.values())
        return fold_aliases(entities, {**KNOWN_ALIASES, **acronym_definitions(text)})


_CORPORATE = frozenset({"Inc", "Ltd", "Corp", "Co", "Plc", "PLC", "LLC", "Limited", "AG", "SA", "NV", "Group"})


def _trailing_place(words: tuple[str, ...]) -> str | None:
    """The country closing a company's name ("Texaco Canada Inc"), not "Bank of England"."""
    end = len(words) - 1 if words[-1] in _CORPORATE else len(words)
    if end >= 2 and words[end - 1] in PLACES and words[end - 2] not in _JOINERS:
        return words[end - 1]
    return None


def _add(found: dict[str, Entity], entity: Entity) -> None:
    previous = found.get(entity.key)
    if previous is None or (previous.kind is EntityKind.OTHER and entity.kind is not EntityKind.OTHER):
        found[entity.key] = entity


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
