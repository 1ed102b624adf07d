"""Highlighting as data: find query matches in text and choose the best passages around them.

Matching uses the index's own analysis (:mod:`searchlib.analysis`: lower-casing, accent
folding, stop words, stemming), so a query for ``talks`` marks "talking" and "talked", and
``gdansk`` marks "Gdańsk", in the original text; phrases must match in order.
Rendering the result (plain, ANSI, HTML) is :mod:`searchlib.render`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from searchlib import analysis
from searchlib import query as q
from searchlib._typecheck import typed
from searchlib.models import Snippet, Span

__all__ = ["HighlightOptions", "Matcher", "best_snippets", "highlight"]

_TEXT_FIELDS = {None: ("title", "body"), "title": ("title",), "body": ("body",)}
_ENTITY_FIELDS = frozenset({"entity", "person", "org", "place"})
MAX_SPANS = 2000
"""Matches beyond this many in one text are not marked (bounds time on huge articles)."""


@attrs.frozen
class HighlightOptions:
    """How many passages to return per hit and roughly how long each is."""

    snippets: int = attrs.field(default=1, validator=attrs.validators.ge(0))
    chars: int = attrs.field(default=220, validator=attrs.validators.ge(20))


@attrs.frozen
class _Pattern:
    stems: tuple[str, ...] = ()  # a phrase of analyzed terms (one term for a word)
    prefix: str | None = None  # folded prefix of an unstemmed word


def _patterns(node: q.Node, field: str) -> list[_Pattern]:
    out: list[_Pattern] = []
    for leaf in q.positive_leaves(node):
        if leaf.field in _ENTITY_FIELDS:
            stems = tuple(analysis.terms(leaf.text))
        elif field in _TEXT_FIELDS.get(leaf.field, ()):
            if isinstance(leaf, q.Prefix):
                out.append(_Pattern(prefix=analysis.fold(leaf.text)))
                continue
            stems = tuple(analysis.terms(leaf.text))
        else:
            continue
        if stems:
            out.append(_Pattern(stems=stems))
    return out


@attrs.frozen
class Matcher:
    """The match rules of one query for one field; reusable across many texts."""

    patterns: tuple[_Pattern, ...]

    @classmethod
    def for_query(cls, node: q.Node, field: str = "body") -> Matcher:
        return cls(tuple(_patterns(node, field)))

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        """Sorted, non-overlapping ``(start, end, pattern index)`` of every match in ``text``."""
        if not self.patterns or not text:
            return []
        found: list[tuple[int, int, int]] = []
        words = [p for p in self.patterns if p.stems]
        singles = all(len(p.stems) == 1 for p in words)
        quick = analysis.find_terms(text, frozenset(p.stems[0] for p in words)) if words and singles else None
        if quick is not None:  # single words only: scan for candidates instead of tokenising it all
            index_of = {p.stems[0]: i for i, p in reversed(list(enumerate(words)))}
            found.extend((start, end, index_of[term]) for term, start, end in quick[: MAX_SPANS + 1])
        elif words:
            toks = list(analysis.spans(text))
            terms = [t for t, _, _ in toks]
            firsts: dict[str, list[int]] = {}
            for index, pattern in enumerate(words):
                firsts.setdefault(pattern.stems[0], []).append(index)
            for i, term in enumerate(terms):
                for index in firsts.get(term, ()):
                    stems = words[index].stems
                    if tuple(terms[i : i + len(stems)]) == stems:
                        found.append((toks[i][1], toks[i + len(stems) - 1][2], index))
                if len(found) > MAX_SPANS:
                    break
        prefixes = [p.prefix for p in self.patterns if p.prefix is not None]
        quick_prefixed = analysis.find_prefixes(text, prefixes) if prefixes else None
        if quick_prefixed is not None:
            found.extend((start, end, len(words) + index) for start, end, index in quick_prefixed)
        elif prefixes:
            offset = len(words)
            for word, start, end in analysis.words(text):
                for index, prefix in enumerate(prefixes):
                    if prefix is not None and word.startswith(prefix):
                        found.append((start, end, offset + index))
                        break
        return _merge(found)


def _merge(found: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    found.sort()
    merged: list[tuple[int, int, int]] = []
    for start, end, index in found:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, index))
    return merged[:MAX_SPANS]


_SENTENCE_START = re.compile(r"(?:^|[.!?][\"'”’)]*\s+|\n\s*)(?=\S)")


_SPACE = re.compile(r"\s")


def _window(text: str, spans: Sequence[tuple[int, int, int]], chars: int) -> tuple[int, int]:
    """The ``chars``-long window holding the most distinct patterns, then the most matches."""
    best = (-1, -1, 0)
    right = 0
    for left in range(len(spans)):
        right = max(right, left)
        while right + 1 < len(spans) and spans[right + 1][1] - spans[left][0] <= chars:
            right += 1
        group = spans[left : right + 1]
        score = (len({s[2] for s in group}), len(group), -left)
        if score > best:
            best = score
            start_at, end_at = spans[left][0], spans[right][1]
    slack = max(0, chars - (end_at - start_at))
    start = max(0, start_at - slack // 3)
    # prefer to start at a sentence boundary when one is near
    for match in _SENTENCE_START.finditer(text, max(0, start - 40), start_at + 1):
        if match.end() <= start_at:
            start = match.end()
            break
    else:
        if start > 0:
            space = max(text.rfind(c, 0, start) for c in " \n\t")
            if space != -1 and start - space < 30:
                start = space + 1
            else:  # a long word: start after it, at the latest at the first match
                found = _SPACE.search(text, start, start_at)
                start = found.end() if found else start_at
    end = min(len(text), max(start + chars, end_at))
    if end < len(text):  # end at a word boundary: back to the last space after the matches, else on to the next
        space = max(text.rfind(c, end_at, end + 1) for c in " \n\t")
        if space > end_at:
            end = space
        else:
            found = _SPACE.search(text, end)
            end = found.start() if found else len(text)
    return start, end


def _snippet(text: str, start: int, end: int, spans: Sequence[tuple[int, int, int]], field: str) -> Snippet:
    inside = tuple(Span(s - start, e - start) for s, e, _ in spans if s >= start and e <= end)
    return Snippet(
        text=text[start:end],
        spans=inside,
        field=field,
        offset=start,
        truncated_start=start > 0,
        truncated_end=end < len(text),
    )


def _lead(text: str, chars: int, field: str) -> Snippet:
    end = len(text)
    if len(text) > chars:
        space = max(text.rfind(c, 0, chars + 1) for c in " \n\t")
        found = _SPACE.search(text, chars)
        end = space if space > 0 else (found.start() if found else len(text))
    return Snippet(text=text[:end], field=field, truncated_end=end < len(text))


def select_snippets(
    text: str, matcher: Matcher, options: HighlightOptions, *, field: str = "body", lead: bool = True
) -> tuple[Snippet, ...]:
    """Up to ``options.snippets`` best passages, in text order; the lead if nothing matched."""
    if options.snippets == 0 or not text:
        return ()
    spans = matcher.spans(text)
    if not spans:
        return (_lead(text, options.chars, field),) if lead else ()
    chosen: list[tuple[int, int]] = []
    remaining = list(spans)
    while remaining and len(chosen) < options.snippets:
        start, end = _window(text, remaining, options.chars)
        chosen.append((start, end))
        remaining = [s for s in remaining if s[1] <= start or s[0] >= end]
    chosen.sort()
    merged: list[tuple[int, int]] = []
    for start, end in chosen:  # windows widened around their matches may overlap: join them
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(_snippet(text, start, end, spans, field) for start, end in merged)


def mark_all(text: str, matcher: Matcher, *, field: str = "body") -> Snippet:
    """All of ``text`` as one snippet with every match marked."""
    return _snippet(text, 0, len(text), matcher.spans(text), field)


@typed
def highlight(text: str, query: str) -> Snippet:
    """All of ``text`` with the spans of every match of ``query`` (parsed like a search)."""
    return mark_all(text, Matcher.for_query(q.parse(query), "body"))


@typed
def best_snippets(text: str, query: str, *, snippets: int = 3, chars: int = 220) -> tuple[Snippet, ...]:
    """The best ``snippets`` passages of about ``chars`` characters around matches of ``query``."""
    options = HighlightOptions(snippets=snippets, chars=chars)
    return select_snippets(text, Matcher.for_query(q.parse(query), "body"), options)
