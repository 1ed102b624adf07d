"""Candidate name spans of a text, found by one compiled regex pass (the extractor's hot path).

A *span* is a maximal run of capitalised words, with the connectors and name particles that
sit between them ("Bank of England", "Margit van der Sloot", "BBC Radio 4"), on one line. The
regex finds every span of the text in C (lone sentence openers such as "The" never match);
Python then walks only the words of each span (not every token of
the text) to cut titles ("Secretary of State [Rex Tillerson]"), possessives ("Israel's"),
"-led"/"-based" suffixes and dates ("Smith May 5") out of it, and records the context the
kind rules need: a place preposition before it, a cue word after it ("border"), whether it
opens its sentence, and whether a title preceded it. Title-case and ALL-CAPS headline lines are skipped whole.

The regexes (:func:`scan`) define the spans; the compiled extractor finds the very same spans
with a scanner written for C, ``_scan.pyx``, in one typed pass (no regex engine, no match
objects), and this module's per-span loop, compiled by Cython, reads its output.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence

from searchlib._gazetteer import COMMON_CAPS, DEPARTMENTS, INSTITUTIONS, MONTHS, ORG_WORDS, TITLES

PARTICLES = frozenset(
    [
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
    ]
)
CONNECTORS = frozenset({"of", "and", "for", "&"})
JOINERS = PARTICLES | CONNECTORS
DOTTED = {"U.S.": "US", "U.K.": "UK", "U.N.": "UN", "E.U.": "EU"}
OPENERS = COMMON_CAPS - TITLES - MONTHS
"""Capitalised words that never start a span alone ("The", "He", "But"); titles ("Mr") and months may."""


def _upper_class() -> str:
    """A regex character class body of the upper-case letters up to U+1FFF (Latin, Greek, Cyrillic...)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x2000):
        if chr(code).isupper():
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


_UPPER = _upper_class()
_JOINER = "|".join(sorted(map(re.escape, JOINERS), key=len, reverse=True))
_WORD_TAIL = r"(?:[\w’'\-]*[^\W_])?(?:['’]s?)?"
_CAP = rf"(?:[A-Z]\.(?:[A-Z]\.)+|[{_UPPER}]{_WORD_TAIL}|[ae]l-(?=[A-Z]){_WORD_TAIL})"


# The first word of a span starts with one character class, so the regex engine scans for it in
# a tight loop; the look-behinds after it check that it starts a word ("pro-Russian", "d'Ivoire").
def _skip_openers() -> str:
    """A look-ahead, placed after a span's first letter, that fails on a lone sentence opener.

    "The", "He", "But" not followed by another capitalised word (a third of all capitalised
    words in news) can never be a name; leaving them out of the regex's matches saves the
    Python work per span. Titles ("Mr") stay: the name after them is a person.
    """
    by_first: dict[str, list[str]] = {}
    for word in sorted(OPENERS):
        by_first.setdefault(word[0], []).append(re.escape(word[1:]))
    branches = "|".join(f"(?<={re.escape(first)})(?:{'|'.join(rests)})" for first, rests in sorted(by_first.items()))
    follows = rf"[^\S\n]+(?:[{_UPPER}]|[ae]l-|(?:{_JOINER})[^\S\n])"
    return rf"(?!(?:{branches})(?![\w’'\-]|{follows}))"


_PREP_HINT = r"(?:(?:(?<=(?i:in|om|to|ar|ss|de|rd|ds|at)[^\S\n].)|(?<=[^\S\n][^\S\n].))())?"
"""After a span's first letter: group 1 matches (empty) when the two letters before the space
before the span could end a place preposition ("in", "from", "towards", any case), or two
spaces precede it. Only then can ``_PREP_BEFORE`` match, so only then is it searched."""


def _first(letters: str) -> str:
    """A span's first word: a capital (or, with ``ae``, the "a"/"e" of "al-"/"el-") starting a word."""
    return (
        rf"[{letters}](?<![\w\-].)(?<!\w['’].){_skip_openers()}{_PREP_HINT}"
        rf"(?:(?<=[A-Z])\.(?:[A-Z]\.)+|(?<=[{_UPPER}]){_WORD_TAIL}|(?<=[ae])l-(?=[A-Z]){_WORD_TAIL})"
    )


_NUM = r"(?:(?:(?<=Radio)|(?<=Channel)|(?<=Formula))[^\S\n]+\d+(?:[.,]\d+)*)"
_SEP = rf"[^\S\n]+(?:(?:of[^\S\n]+the|{_JOINER})[^\S\n]+)*"
_TOKEN = r"(?:[A-Z]\.){2,}|[^\W\d_](?:[\w’'\-]*[^\W_])?(?:['’]s?)?|\d[\d,.]*|[^\w\s]"
_REST = rf"{_NUM}?(?:{_SEP}{_CAP}{_NUM}?)*(?=[^\S\n]*({_TOKEN})|)"
SPAN = re.compile(_first(f"{_UPPER}ae") + _REST)
"""A run of capitalised words on one line, with connectors, particles and a channel number
between them; group 1 is the preposition hint (``_PREP_HINT``), group 2 the token after it."""
SPAN_NO_ARTICLE = re.compile(_first(_UPPER) + _REST)
"""``SPAN`` for a text without "l-": it cannot start a span with "al-"/"el-", and the regex
engine's scan for a span's first letter skips every "a" and "e" (a quarter less time)."""
_PREP_BEFORE = re.compile(
    r"(?<![\w’'\-])[(\[\"'“‘]?(?i:in|from|to|near|across|outside|inside|into|toward|towards|at)[^\S\n]+$"
)
"""A place preposition ("in", "from", "towards") just before a span (searched up to the span's start)."""
_SENTENCE_START = re.compile(
    r"[.!?:;\n](?:(?<=\n)|(?<!\b[A-Z]\.[A-Z]\.)(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)"
    r"[\"'”’)\]]*\s+)"
)
"""Where a sentence begins: after ". " (but not after "U.S." or "Mr.": a name may follow) or a line break."""
_SENTENCE_OPENING = re.compile(_SENTENCE_START.pattern + r"\W*")
_NOT_WORD = re.compile(r"\W*")
_ALNUM = re.compile(r"[^\W_]")
_GAP = re.compile(r"[\s,.]*")
_TRICKY = re.compile(r"[\-.&\d]|['’]s?\s|\s[a-z]+\s+(?:of|and|for)\s")
"""A span with none of these (hyphens, dots, numbers, a possessive before its last word, a joiner
followed by "of", "and" or "for") is one mention as it is, less a possessive at its end."""
_HEADLINE_WORD = re.compile(r"[^\W\d_][\w'’\-]*")
_ARABIC_ARTICLE = re.compile(r"(?:al|el)-[A-Z]")
_LOWER_SUFFIX = re.compile(r"^(.+?)-([a-z][a-z\-]*)$")
_ADJECTIVE_SUFFIX = re.compile(
    r"(?:ed|ing|ism|ist|ists|style|like|wide|era|born|made|run|free|friendly|speaking|owned|based|backed|"
    r"led|listed|bound|specific|centric|only|type|sized|class|level|area|zone|region|market|rich)$"
)
_SPECIAL = TITLES | MONTHS
_SENTENCE_END = (".", "?", "!", '"', "”", ":", ";", ",")


PLACE_PREPS = frozenset({"in", "from", "to", "near", "across", "outside", "inside", "into", "toward", "towards", "at"})
PLACE_FOLLOWERS = frozenset({"crossing", "border", "city", "province", "region", "district", "camp", "port", "valley"})
PERSON_FOLLOWERS = frozenset({"administration"})
_FOLLOWERS = PLACE_FOLLOWERS | PERSON_FOLLOWERS
_FOLLOWER_OF: dict[str | None, str] = {form: w for w in _FOLLOWERS for form in (w, w.capitalize(), w.upper())}
"""A cue word after a span, as written ("border", "Border", "BORDER") -> lower case."""

Mention = tuple[tuple[str, ...], bool, bool, bool, str]
"""One run of name words and the context the kind rules read: (words, whether it opens its
sentence, whether a title such as "Minister" or "Mr" precedes it, whether a place preposition
such as "in" precedes it, the lower-cased word after it if that is a place or person cue such
as "border" or "administration", else ""). A plain tuple: equal mentions collapse in a dict."""


def headline(line: str) -> bool:
    """A title-case or ALL-CAPS line with no sentence end: a headline, whose spans are not names."""
    if not line or line.rstrip().endswith(_SENTENCE_END):
        return False
    words = _HEADLINE_WORD.findall(line)
    if len(words) < 2:
        return False
    if sum(map(str.isupper, line)) >= 0.8 * sum(map(str.isalpha, line)):
        return any(len(w) >= 4 for w in words)
    long = [w for w in words if len(w) >= 4]
    capitalised = sum(w[0].isupper() for w in words)
    return len(long) >= 4 and all(w[0].isupper() for w in long) and capitalised >= 0.6 * len(words)


def strip_possessive(tok: str) -> tuple[str, bool]:
    """``Israel's`` -> (Israel, True): the name ends here. ``Dockworkers'`` -> (Dockworkers, False)."""
    last = tok[-1]
    if last == "s" and len(tok) > 3 and tok[-2] in "'’":
        return tok[:-2], True
    if last in "'’" and len(tok) > 2:
        return tok[:-1], False
    return tok, False


def strip_lower_suffix(word: str) -> tuple[str, bool]:
    """``US-led`` -> (US, True); ``Jan-Willem``, ``al-Qaida`` and ``Geun-hye`` are kept whole.

    Only a suffix that reads as an English adjective ("-led", "-based", "-speaking") is cut:
    a lower-case second half of a given name ("Park Geun-hye", "Lee Jae-in") is not.
    """
    match = _LOWER_SUFFIX.match(word)
    if match and match.group(1)[:1].isupper() and _ADJECTIVE_SUFFIX.search(match.group(2)):
        return match.group(1), True
    return word, False


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
    while i < len(toks) and (toks[i] in PARTICLES or toks[i] == "the"):
        i += 1
    return i < len(toks) and (toks[i][:1].isupper() or bool(_ARABIC_ARTICLE.match(toks[i])))


_FORMS: dict[str, tuple[str, ...] | None] = {}
_UNSEEN: tuple[str, ...] = ("<not memoised>",)


def _form(span: str) -> tuple[str, ...] | None:
    """The name a span is as it stands (``_walk`` cuts nothing from it), or None when it needs
    the walk (titles, months after a word, hyphens, dots, numbers, inner possessives). Memoised:
    a function of the span's text alone, and spans recur."""
    toks = span.split()
    words: tuple[str, ...] | None = None
    plain = _TRICKY.search(span) is None
    if plain and not _SPECIAL.isdisjoint(toks):  # a month may open a span as any word does: it closes one
        plain = toks[0] in MONTHS and _SPECIAL.isdisjoint(toks[1:])  # only after a name, before a day
    if plain:
        words = tuple(toks)
        if toks[-1][-1] in "s'’":
            last, _ = strip_possessive(toks[-1])
            words = None if last in _SPECIAL else (*toks[:-1], last)  # "the Prime Minister's": a title after all
    if len(_FORMS) >= 1 << 16:
        _FORMS.clear()
    _FORMS[span] = words
    return words


_WalkKey = tuple[str, str | None, bool, bool, bool, bool]
_WALKS: dict[_WalkKey, tuple[tuple[Mention, ...], tuple[bool, bool, bool]]] = {}


def _walked(key: _WalkKey) -> tuple[tuple[Mention, ...], tuple[bool, bool, bool]]:
    """``_walk`` of a span in its state (span, token after it, preposition before it, opener,
    titled, skip_department): its mentions and the state after it. Memoised: a pure function
    of the key, and spans that need the walk ("Mr Glazer", "President Bush") recur."""
    span, following, prep, opener, titled, skip_department = key
    toks = span.split()
    toks.append(following or "")
    found: list[Mention] = []
    state = _walk(toks, prep, opener, titled, skip_department, found)
    if len(_WALKS) >= 1 << 16:
        _WALKS.clear()
    walked = _WALKS[key] = (tuple(found), state)
    return walked


def clear_caches() -> None:
    """Forget the memoised span forms and walks."""
    _FORMS.clear()
    _WALKS.clear()


Scanned = tuple[int, int, str, str | None, bool, bool]
"""One candidate span as :func:`scan` finds it: (start, stop, its text, the token after it on its
line or None, whether a place preposition such as "in" precedes it, whether it opens a sentence)."""

_SCAN: Callable[[str], list[Scanned]] | None = None
"""The C scanner (``searchlib._scan.scan``: :func:`scan`'s output in one typed pass), used by the
compiled copy of this module only: ``setup.py`` appends a call of :func:`_use_c_scanner` to it."""


def _use_c_scanner() -> None:
    """Scan with ``searchlib._scan`` (built with this copy), giving it this module's word lists."""
    global _SCAN
    scanner = importlib.import_module("searchlib._scan")
    scanner.configure(OPENERS, JOINERS)
    _SCAN = scanner.scan


def scan(text: str) -> list[Scanned]:
    """Every candidate span of ``text`` (a ``SPAN`` match), with the context found by regex around it."""
    openers = {m.end() for m in _SENTENCE_OPENING.finditer(text)}  # where a sentence's first word starts
    openers.add(_NOT_WORD.match(text).end())  # type: ignore[union-attr]  # (it always matches)
    out: list[Scanned] = []
    for match in (SPAN if "l-" in text else SPAN_NO_ARTICLE).finditer(text):
        start, stop = match.span()
        span, hint, following = match.group(0, 1, 2)
        prep = hint is not None and _PREP_BEFORE.search(text, start - 12 if start > 12 else 0, start) is not None
        out.append((start, stop, span, following, prep, start in openers))
    return out


def mentions(text: str) -> list[Mention]:
    """Every run of name words in ``text``, in order, headline lines left out."""
    if "\n" in text:
        lines = text.split("\n")
        kept = [line for line in lines if not headline(line)]
        if len(kept) < len(lines):
            text = "\n".join(kept)
    out: list[Mention] = []
    opener = False  # everything so far in this sentence is a sentence opener ("The", quotes)
    titled = skip_department = False
    end = 0
    forms, walks, append = _FORMS, _WALKS, out.append
    for start, stop, span, following, prep, new_sentence in scan(text) if _SCAN is None else _SCAN(text):
        if new_sentence:
            opener = True
            titled = skip_department = False
        else:
            if opener:
                opener = _ALNUM.search(text, end, start) is None
            if (titled or skip_department) and _GAP.fullmatch(text, end, start) is None:
                titled = skip_department = False
            elif skip_department and "." in text[end:start]:
                skip_department = False
        end = stop
        words = forms.get(span, _UNSEEN)
        if words is _UNSEEN:
            words = _form(span)
        if words is None or titled or skip_department:
            key = (span, following, prep, opener, titled, skip_department)
            walked = walks.get(key)
            if walked is None:
                walked = _walked(key)
            out += walked[0]
            opener, titled, skip_department = walked[1]
            continue
        # the common case: the whole span is one name ("Bank of England", "Israel's" -> Israel)
        append((words, opener, False, prep, _FOLLOWER_OF.get(following, "")))
        if opener:
            opener = COMMON_CAPS.issuperset(span.split())
    return out


def _walk(
    toks: list[str], prep: bool, opener: bool, titled: bool, skip_department: bool, out: list[Mention]
) -> tuple[bool, bool, bool]:
    """Cut the words of one span (``toks[:-1]``; the last item is the token after it) into mentions.

    Returns the state carried to a span that follows after only commas or full stops: whether the
    sentence so far holds only openers, whether a title is pending, and whether the words of a
    department ("Secretary of [State]") are being skipped.
    """
    n = len(toks) - 1
    run: list[str] = []
    start = 0
    run_titled = False

    def close(stop: int) -> None:
        nonlocal run, run_titled
        if run:
            before = prep if start == 0 else toks[start - 1].lower() in PLACE_PREPS
            follower = toks[stop].lower() if stop <= n else ""
            follower = follower if follower in _FOLLOWERS else ""
            initial = opener and all(t in COMMON_CAPS or not t[0].isalnum() for t in toks[:start])
            out.append((tuple(run), initial, run_titled, before, follower))
        run = []
        run_titled = False

    run_titled = titled
    i = 0
    while i < n:
        tok = toks[i]
        first = tok[0]
        if skip_department:
            if tok in DEPARTMENTS or tok in ("and", "the", "&"):
                i += 1
                continue
            skip_department = False
        if first.isupper() or ((first == "a" or first == "e") and _ARABIC_ARTICLE.match(tok)):
            word, possessive = strip_possessive(tok)
            if "-" in word:
                word, suffixed = strip_lower_suffix(word)  # "US-led" -> "US", then the name ends
            else:
                suffixed = False
            next_word = toks[i + 1]
            if word in TITLES and next_word not in ORG_WORDS and not _org_ahead(toks, i + 1):
                close(i)
                run_titled = True
                i += 1
                continue
            if word in MONTHS and run and next_word[:1].isdigit():
                close(i)  # "... Smith May 5": a date, not a surname
            if not run:
                start = i
            dotted = DOTTED.get(word)
            run.append(dotted or word)
            if (
                dotted is not None
                and next_word[:1].isupper()
                and next_word not in INSTITUTIONS
                and not (_org_ahead(toks, i + 1) and _run_ahead(toks, i + 1) >= 2)
            ):
                close(i + 1)  # "a U.S. Insurance broker": the country, then a common noun
            elif possessive or suffixed:
                close(i + 1)
        elif run and first.isdigit():
            run.append(tok)  # "BBC Radio 4", "Channel 4"
        elif run and _continues(toks, i + 1):
            run.append(tok)  # "of", "and", "van", "the" between capitalised words
        elif run:
            close(i)
        elif run_titled and (tok == "of" or tok == "for") and toks[i + 1] in DEPARTMENTS:
            skip_department = True
        else:
            run_titled = False
        i += 1
    pending = run_titled and not run
    close(n)
    opener = opener and all(t in COMMON_CAPS or not t[0].isalnum() for t in toks[:n])
    return opener, pending, skip_department
