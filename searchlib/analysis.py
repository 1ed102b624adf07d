"""Text analysis, one engine-neutral module used by indexing, query planning and highlighting.

Turning text into indexed terms, step by step (README "Analysis"):

1. **tokenise**: a word is ``\\w+(?:\\.?\\w+)*`` (letters, digits and underscores, with inner
   dots kept: "U.S", "3.5"), as Whoosh's default tokenizer, with combining accents kept
   inside words;
2. **fold**: lower-case, then accent folding: Latin letters lose their diacritics (Unicode
   NFKD, combining marks dropped: "Gdańsk" -> "gdansk", "Ærø" -> "aero"), a few letters
   with no decomposition are spelled out (``ß`` -> ``ss``, ``æ`` -> ``ae``, ``œ`` -> ``oe``,
   ``ø`` -> ``o``, ``ł`` -> ``l``, ``đ`` -> ``d``, ``þ`` -> ``th``, ``ı`` -> ``i``) and
   compatibility forms are unfolded ("ﬁ" -> "fi"). Other scripts keep their marks
   (Cyrillic "й" stays "й");
3. **stop words**: :data:`STOP_WORDS` and words shorter than :data:`MIN_LENGTH` (after
   folding) are dropped; a kept word's position counts the dropped ones before the first
   kept word only (Whoosh's StopFilter numbering, which phrase matching relies on);
4. **stem**: the Porter stemmer (Whoosh's, vendored in :mod:`searchlib._porter`).

Folding applies to the word, never to the text: offsets always point into the original, so
highlights mark the words as written. Everything is cached per distinct word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from searchlib._porter import stem as _porter_stem

__all__ = [
    "MIN_LENGTH",
    "STOP_WORDS",
    "WORD",
    "find_prefixes",
    "find_terms",
    "fold",
    "kept_terms",
    "positions",
    "spans",
    "stem",
    "term",
    "terms",
    "tokens",
    "words",
    "written_tokens",
]

_MARKS = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
_UNIT = rf"\w{_MARKS}*"
WORD = re.compile(rf"(?:{_UNIT})+(?:\.?(?:{_UNIT})+)*", re.UNICODE)
"""A token: Whoosh's RegexTokenizer default pattern ``\\w+(?:\\.?\\w+)*``, with combining marks
kept inside words (in decomposed text "Gdan\u0301sk" is one word, not "Gdan" and "sk")."""
_PLAIN_WORD = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)  # the same tokens in text without combining marks
_MARK = re.compile(_MARKS)


def _words_of(text: str) -> re.Pattern[str]:
    return WORD if _MARK.search(text) else _PLAIN_WORD


_ASCII_SPLIT = str.maketrans({chr(c): chr(c) if chr(c).isalnum() or chr(c) in "_." else " " for c in range(128)})
"""ASCII character -> itself if a word character or a dot, else a space."""


def _split(text: str) -> list[str]:
    """The tokens of ``text`` as written: ``_words_of(text).findall(text)``, faster for ASCII text.

    In ASCII text a token is a run of ``[A-Za-z0-9_]`` with single inner dots. One
    ``translate`` turns every other character into a space; a dot then belongs to a token
    only between two word characters: runs of dots and dots next to a space (or the text's
    ends) become spaces, and ``split`` does the rest -- C loops only, about 3x cheaper than
    the expression (tests/test_analysis.py checks both give the same tokens).
    """
    if not text.isascii():
        return _words_of(text).findall(text)
    spaced = text.translate(_ASCII_SPLIT)
    if "." in spaced:
        spaced = f" {spaced} ".replace("..", "  ").replace(" .", "  ").replace(". ", "  ")
    return spaced.split()


def written_tokens(text: str) -> list[str]:
    """The tokens of ``text`` as written, in order (before folding, stop words and stemming)."""
    return _split(text)


STOP_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "have", "if", "in", "is", "not", "of", "on"}
    | {"or", "tbd", "that", "the", "this", "to", "we", "when", "with", "yet", "you", "your"}
)
"""Words never indexed: Whoosh's English list less "us", "it", "may", "will" and "can" (news words)."""

MIN_LENGTH = 2
"""Folded words shorter than this are not indexed."""

_SPELLED = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "þ": "th", "ı": "i", "ŀ": "l"}
_CACHE_MAX = 500_000
_FOLDS: dict[str, str] = {}
_STEMS: dict[str, str] = {}


class _TermCache(dict[str, str]):
    """token as written -> its term, "" when it is not indexed; ``__getitem__`` analyses new tokens."""

    def __missing__(self, word: str) -> str:
        return term(word) or ""  # (term() stores it)


_TERMS = _TermCache()


def _latin(char: str) -> bool:
    code = ord(char)
    return code < 0x250 or 0x1E00 <= code < 0x1F00 or 0xFB00 <= code < 0xFB07 or 0xFF00 <= code < 0xFF5F


def _fold_uncached(lowered: str) -> str:
    out: list[str] = []
    latin_base = False  # whether the last base character was Latin (its marks are dropped)
    for char in unicodedata.normalize("NFKD", lowered):
        if unicodedata.combining(char):
            if not latin_base:
                out.append(char)
            continue
        latin_base = _latin(char)
        out.append(_SPELLED.get(char, char))
    folded = "".join(out)
    return unicodedata.normalize("NFC", folded) if not folded.isascii() else folded


def fold(word: str) -> str:
    """``word`` lower-cased and accent-folded ("Gdańsk" -> "gdansk", "Straße" -> "strasse")."""
    lowered = word.lower()
    if lowered.isascii():
        return lowered
    found = _FOLDS.get(lowered)
    if found is None:
        if len(_FOLDS) >= _CACHE_MAX:
            _FOLDS.clear()
        found = _FOLDS[lowered] = _fold_uncached(lowered)
    return found


def stem(word: str) -> str:
    """The Porter stem of a folded word (cached)."""
    found = _STEMS.get(word)
    if found is None:
        if len(_STEMS) >= _CACHE_MAX:
            _STEMS.clear()
        found = _STEMS[word] = _porter_stem(word)
    return found


def term(word: str) -> str | None:
    """The indexed term of one token as written, or None when it is a stop word or too short."""
    found = _TERMS.get(word)
    if found is None:
        folded = fold(word)
        found = "" if len(folded) < MIN_LENGTH or folded in STOP_WORDS else stem(folded)
        if len(_TERMS) >= _CACHE_MAX:
            _TERMS.clear()
        _TERMS[word] = found
    return found or None


def tokens(text: str) -> Iterator[tuple[str, int, int, int]]:
    """``(term, position, start, end)`` of every indexed token of ``text``, in order."""
    terms = _TERMS
    pos = raw = -1
    for match in _words_of(text).finditer(text):
        raw += 1
        word = match.group()
        found = terms.get(word)
        if found is None:
            found = term(word) or ""
        if not found:
            continue
        pos = raw if pos < 0 else pos + 1
        yield found, pos, match.start(), match.end()


def terms(text: str) -> list[str]:
    """The indexed terms of ``text`` in order (what a query word or phrase is looked up as)."""
    return [t for t, _, _, _ in tokens(text)]


def spans(text: str) -> Iterator[tuple[str, int, int]]:
    """``(term, start, end)`` of every indexed token of ``text``: offsets into the original text."""
    for found, _, start, end in tokens(text):
        yield found, start, end


def kept_terms(text: str) -> tuple[list[str], int]:
    """(the terms of ``text``'s indexed tokens in order, the position of the first).

    The i-th term is at position ``first + i`` (stop words before the first kept token count,
    later ones do not: see the module docstring). Built with C-level maps over the tokens, for
    the indexer's hot path; :func:`positions` is the same information grouped by term.
    """
    words = _split(text)
    found = list(map(_TERMS.__getitem__, words))  # new words are analysed by _TermCache.__missing__
    kept: list[str] = list(filter(None, found))
    return kept, found.index(kept[0]) if kept else 0


def positions(text: str) -> dict[str, list[int]]:
    """Term -> its positions in ``text``: the postings one field value contributes."""
    poses: dict[str, list[int]] = {}
    cache = _TERMS
    pos = raw = -1
    for word in _split(text):
        raw += 1
        found = cache.get(word)
        if found is None:
            found = term(word) or ""
        if not found:
            continue
        pos = raw if pos < 0 else pos + 1
        seen = poses.get(found)
        if seen is None:
            poses[found] = [pos]
        else:
            seen.append(pos)
    return poses


def words(text: str) -> Iterator[tuple[str, int, int]]:
    """Every token's folded (unstemmed) form with its offsets (for prefix matching)."""
    for match in _words_of(text).finditer(text):
        yield fold(match.group()), match.start(), match.end()


class _CharFolds(dict[int, str]):
    """``str.translate`` table: code point -> its fold if that is one character, else ""."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = "" if unicodedata.combining(char) else _fold_uncached(char)
        found = self[code] = folded if len(folded) == 1 else ""  # "" makes the text shorter: no scan
        return found


_CHAR_FOLDS = _CharFolds()
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _fold_match(match: re.Match[str]) -> str:
    return _CHAR_FOLDS[ord(match.group())]


def _folded_text(text: str) -> str | None:
    """``text`` folded character by character, or None when that changes its length.

    (A combining mark folds to nothing, "ß" to two letters: offsets would shift, so the
    callers fall back to tokenising. Any character not folding to exactly one counts as
    nothing, so an expansion cannot hide a deletion.)
    """
    lowered = text.lower()
    if len(lowered) != len(text):
        return None  # lower-casing "İ" adds a character
    if lowered.isascii():
        return lowered
    folded = _NON_ASCII.sub(_fold_match, lowered)
    return folded if len(folded) == len(text) else None


def _scan(heads: set[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(h) for h in sorted(heads, key=len, reverse=True)) + ")")


def find_terms(text: str, wanted: frozenset[str]) -> list[tuple[str, int, int]] | None:
    """``(term, start, end)`` of the tokens of ``text`` whose term is in ``wanted``, found fast.

    A Porter stem keeps all but possibly the last letter of its word, so a scan of the folded
    text for those prefixes finds every candidate; only candidates are tokenised. Returns
    None when that is not safe (a stem too short to be selective, folding that changes the
    text's length): use :func:`spans` then. Equals ``[s for s in spans(text) if s[0] in wanted]``.
    """
    heads = {t[:-1] if len(t) > 3 else t[:2] for t in wanted}
    if not heads or any(len(h) < 2 for h in heads):
        return None
    folded = _folded_text(text)
    if folded is None:
        return None
    found: list[tuple[str, int, int]] = []
    for hit in _scan(heads).finditer(folded):
        start = hit.start()
        if start >= 2 and text[start - 1] == "." and text[start - 2].isalnum():
            continue  # inside a dotted token such as "u.s"
        match = WORD.match(text, start)
        if match is None:
            continue
        got = term(match.group())
        if got is not None and got in wanted:
            found.append((got, start, match.end()))
    return found


def find_prefixes(text: str, prefixes: list[str]) -> list[tuple[int, int, int]] | None:
    """``(start, end, prefix index)`` of tokens whose folded form starts with a (folded) prefix.

    None when folding changes the text's length (use :func:`words` then).
    """
    folded = _folded_text(text)
    if folded is None or not prefixes:
        return None
    found: list[tuple[int, int, int]] = []
    for hit in _scan(set(prefixes)).finditer(folded):
        start = hit.start()
        if start >= 2 and text[start - 1] == "." and text[start - 2].isalnum():
            continue
        match = WORD.match(folded, start)
        if match is None:
            continue
        word = match.group()
        index = next((i for i, prefix in enumerate(prefixes) if word.startswith(prefix)), None)
        if index is not None:  # the scan can match inside a longer token ("co-" in "co")
            found.append((start, match.end(), index))
    return found
