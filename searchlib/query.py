"""Searchlib's query language: a small recursive-descent parser producing a typed AST.

The parser is ours, not Whoosh's, so that every malformed query gets a
:class:`~searchlib.errors.QuerySyntaxError` with a position and a reason (Whoosh silently
rewrites unknown fields and bad dates) and so that size limits bound time and memory.

Grammar (``OR`` binds tighter than ``AND``; juxtaposition means ``AND``)::

    query    := and_expr?
    and_expr := or_expr (["AND"] or_expr)*
    or_expr  := unary ("OR" unary)*
    unary    := ("NOT" | "-") unary | "+"? atom
    atom     := "(" and_expr ")" | FIELD ":" value | value
    value    := '"' words '"' | word | word"*" | "[" date "TO" date "]"   (ranges: date only)
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from collections.abc import Iterator

import attrs

from searchlib.errors import QuerySyntaxError

__all__ = [
    "FIELDS",
    "MAX_DEPTH",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "And",
    "DateRange",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Prefix",
    "Term",
    "parse",
    "parse_date_bound",
    "plain_words",
]

MAX_QUERY_CHARS = 10_000
"""Longest query string accepted."""
MAX_TERMS = 512
"""Most words, phrases and prefixes in one query."""
MAX_DEPTH = 32
"""Deepest nesting of brackets and ``NOT``."""

FIELDS: dict[str, str] = {
    "title": "title",
    "body": "body",
    "text": "body",
    "entity": "entity",
    "entities": "entity",
    "person": "person",
    "org": "org",
    "place": "place",
    "source": "source",
    "id": "id",
    "date": "date",
}
"""Field prefixes users may type, mapped to their canonical name."""

MIN_PREFIX_CHARS = 2


@attrs.frozen
class Term:
    """A word. ``field`` is None for the default fields (title, body, entities)."""

    text: str
    field: str | None = None


@attrs.frozen
class Phrase:
    """Words that must appear in this order (in ``field`` or the default fields)."""

    text: str
    field: str | None = None


@attrs.frozen
class Prefix:
    """Words starting with ``text`` (``rafa*``)."""

    text: str
    field: str | None = None


@attrs.frozen
class DateRange:
    """Articles dated from ``start`` to ``end`` inclusive; ``None`` is an open end."""

    start: dt.date | None
    end: dt.date | None


@attrs.frozen
class And:
    children: tuple[Node, ...]


@attrs.frozen
class Or:
    children: tuple[Node, ...]


@attrs.frozen
class Not:
    child: Node


@attrs.frozen
class MatchAll:
    """Every article (the empty query)."""


Node = Term | Phrase | Prefix | DateRange | And | Or | Not | MatchAll

# --- lexer -----------------------------------------------------------------------------

_WS = frozenset(" \t\r\n\f\v")
_STOP = frozenset(' \t\r\n\f\v()"')
_FIELD_NAME = re.compile(r"[A-Za-z_]+")
_QUOTES = {'"': '"', "“": "”", "”": "”", "„": "“"}


@attrs.frozen
class _Tok:
    kind: str  # WORD, PHRASE, FIELD, LPAREN, RPAREN, AND, OR, NOT, MINUS, PLUS, RANGE, EOF
    text: str
    pos: int


def _lex(query: str) -> Iterator[_Tok]:
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in _WS:
            i += 1
        elif ch == "(":
            yield _Tok("LPAREN", ch, i)
            i += 1
        elif ch == ")":
            yield _Tok("RPAREN", ch, i)
            i += 1
        elif ch in _QUOTES:
            close = query.find(_QUOTES[ch], i + 1)
            if close == -1:
                close = query.find('"', i + 1) if ch != '"' else -1
            if close == -1:
                raise QuerySyntaxError("unclosed quote", query=query, position=i)
            yield _Tok("PHRASE", query[i + 1 : close], i)
            i = close + 1
        elif ch in "-+" and i + 1 < n and query[i + 1] not in _WS and query[i + 1] != ")":
            yield _Tok("MINUS" if ch == "-" else "PLUS", ch, i)
            i += 1
        else:
            start = i
            field = _FIELD_NAME.match(query, i)
            if field and field.end() < n and query[field.end()] == ":":
                name = field.group().lower()
                if name not in FIELDS:
                    known = ", ".join(sorted(set(FIELDS)))
                    raise QuerySyntaxError(
                        f"unknown field {field.group()!r} (known fields: {known})", query=query, position=start
                    )
                yield _Tok("FIELD", FIELDS[name], start)
                i = field.end() + 1
                if i < n and query[i] == "[":
                    close = query.find("]", i)
                    if close == -1:
                        raise QuerySyntaxError("unclosed '['", query=query, position=i)
                    yield _Tok("RANGE", query[i + 1 : close], i)
                    i = close + 1
                continue
            while i < n and query[i] not in _STOP:
                i += 1
            word = query[start:i]
            if word in ("AND", "OR", "NOT"):
                yield _Tok(word, word, start)
            elif word in ("&&", "||"):
                yield _Tok("AND" if word == "&&" else "OR", word, start)
            else:
                yield _Tok("WORD", word, start)
    yield _Tok("EOF", "", n)


# --- dates ------------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def parse_date_bound(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day covered by ``2024``, ``2024-05`` or ``2024-05-06``.

    Raises ``ValueError`` with a reason for anything else.
    """
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
    year = int(match.group(1))
    if year < 1:
        raise ValueError(f"year {year} is out of range")
    if match.group(3):
        day = dt.date(year, int(match.group(2)), int(match.group(3)))
        return day, day
    if match.group(2):
        month = int(match.group(2))
        first = dt.date(year, month, 1)  # validates the month
        return first, dt.date(year, month, calendar.monthrange(year, month)[1])  # safe in 9999-12
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


# --- parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.toks = list(_lex(query))
        self.i = 0
        self.terms = 0
        self.depth = 0
        self.group_field: str | None = None  # inside title:( ... ), the field every word gets

    def error(self, reason: str, pos: int | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(reason, query=self.query, position=self.peek.pos if pos is None else pos)

    @property
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.peek.kind == "EOF":
            return MatchAll()
        node = self.and_expr()
        if self.peek.kind == "RPAREN":
            raise self.error("unexpected ')' without a matching '('")
        if self.peek.kind != "EOF":  # pragma: no cover - and_expr consumes all else
            raise self.error(f"unexpected {self.peek.text!r}")
        return node

    def starts_operand(self) -> bool:
        return self.peek.kind in ("WORD", "PHRASE", "FIELD", "LPAREN", "NOT", "MINUS", "PLUS")

    def and_expr(self) -> Node:
        children = [self.or_expr()]
        while True:
            if self.peek.kind == "AND":
                tok = self.take()
                if not self.starts_operand():
                    raise self.error(f"expected a term after {tok.text}", tok.pos)
            elif not self.starts_operand():
                break
            children.append(self.or_expr())
        return children[0] if len(children) == 1 else And(tuple(children))

    def or_expr(self) -> Node:
        children = [self.unary()]
        while self.peek.kind == "OR":
            tok = self.take()
            if not self.starts_operand():
                raise self.error(f"expected a term after {tok.text}", tok.pos)
            children.append(self.unary())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def unary(self) -> Node:
        tok = self.peek
        if tok.kind in ("NOT", "MINUS"):
            self.take()
            if not self.starts_operand():
                raise self.error(f"expected a term after {tok.text}", tok.pos)
            with self.nested(tok):
                return Not(self.unary())
        if tok.kind == "PLUS":
            self.take()
        return self.atom(None)

    def nested(self, tok: _Tok) -> _Depth:
        return _Depth(self, tok)

    def atom(self, field: str | None) -> Node:
        tok = self.take()
        if tok.kind == "LPAREN":
            with self.nested(tok):
                if self.peek.kind == "RPAREN":
                    raise self.error("empty brackets")
                node = self.and_expr() if field is None else self.field_group(field)
            if self.peek.kind != "RPAREN":
                raise self.error("unclosed '('", tok.pos)
            self.take()
            return node
        field = field or self.group_field
        if tok.kind == "FIELD":
            if field is not None:
                raise self.error("a field cannot be nested inside another field", tok.pos)
            if self.peek.kind == "RANGE":
                return self.date_range(tok.text, self.take())
            if self.peek.pos != tok.pos + len(_field_source(self.query, tok)) or self.peek.kind not in (
                "WORD",
                "PHRASE",
                "LPAREN",
            ):
                raise self.error(f"expected a value right after '{tok.text}:'", tok.pos)
            return self.atom(tok.text)
        if tok.kind == "PHRASE":
            return self.leaf(Phrase(tok.text, field), tok)
        if tok.kind == "WORD":
            return self.word(tok, field)
        if tok.kind == "RPAREN":
            raise self.error("unexpected ')' without a matching '('", tok.pos)
        if tok.kind == "EOF":
            raise self.error("unexpected end of query", tok.pos)
        raise self.error(f"{tok.text} needs a term on its left", tok.pos)

    def field_group(self, field: str) -> Node:
        """``title:(a OR b)``: parse the group with ``field`` applied to every word in it."""
        self.group_field = field
        try:
            return self.and_expr()
        finally:
            self.group_field = None

    def word(self, tok: _Tok, field: str | None) -> Node:
        text = tok.text
        if field == "date":
            return self.date_value(text, tok.pos)
        star = text.find("*")
        if star == -1:  # "?" is punctuation like "!" (who is putin?), not a wildcard
            return self.leaf(Term(text, field), tok)
        if star != len(text) - 1:
            raise self.error("wildcards are only supported at the end of a word (rafa*)", tok.pos + max(star, 0))
        stem = text[:-1]
        if len(stem.strip("-_.,;!")) < MIN_PREFIX_CHARS:
            raise self.error(f"a prefix needs at least {MIN_PREFIX_CHARS} characters before '*'", tok.pos)
        return self.leaf(Prefix(stem, field), tok)

    def leaf(self, node: Node, tok: _Tok) -> Node:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.error(f"query has more than {MAX_TERMS} terms", tok.pos)
        if isinstance(node, Phrase) and not node.text.strip():
            raise self.error("empty phrase", tok.pos)
        if isinstance(node, (Phrase, Term)) and node.field == "date":
            return self.date_value(node.text, tok.pos)
        return node

    def date_value(self, text: str, pos: int) -> Node:
        try:
            start, end = parse_date_bound(text)
        except ValueError as exc:
            raise self.error(str(exc), pos) from None
        return DateRange(start, end)

    def date_range(self, field: str, tok: _Tok) -> Node:
        if field != "date":
            raise self.error(f"ranges are only supported on date:, not {field}:", tok.pos)
        parts = tok.text.split()
        if len(parts) != 3 or parts[1].upper() != "TO":
            raise self.error("a date range looks like [2024-05-01 TO 2024-05-31] (use * for an open end)", tok.pos)
        bounds: list[dt.date | None] = []
        for index, part in enumerate((parts[0], parts[2])):
            if part == "*":
                bounds.append(None)
                continue
            try:
                first, last = parse_date_bound(part)
            except ValueError as exc:
                raise self.error(str(exc), tok.pos + 1 + tok.text.find(part)) from None
            bounds.append(first if index == 0 else last)
        start, end = bounds
        if start is not None and end is not None and start > end:
            raise self.error(f"date range starts after it ends ({start} > {end})", tok.pos)
        return DateRange(start, end)


class _Depth:
    def __init__(self, parser: _Parser, tok: _Tok) -> None:
        self.parser, self.tok = parser, tok

    def __enter__(self) -> None:
        self.parser.depth += 1
        if self.parser.depth > MAX_DEPTH:
            raise self.parser.error(f"query is nested more than {MAX_DEPTH} levels deep", self.tok.pos)

    def __exit__(self, *exc: object) -> None:
        self.parser.depth -= 1


def _field_source(query: str, tok: _Tok) -> str:
    """The ``name:`` text of a FIELD token as typed (aliases differ in length)."""
    end = query.index(":", tok.pos)
    return query[tok.pos : end + 1]


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse(query: str) -> Node:
    """Parse ``query`` into an AST, or raise :class:`QuerySyntaxError` with a position."""
    if not isinstance(query, str):
        raise TypeError(f"query must be str, not {type(query).__name__}")
    if len(query) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"query is longer than {MAX_QUERY_CHARS} characters", query=query, position=MAX_QUERY_CHARS
        )
    if "\x00" in query:
        raise QuerySyntaxError("query contains a NUL character", query=query, position=query.index("\x00"))
    if not query.isascii() and (lone := _SURROGATE.search(query)):
        code = f"U+{ord(lone.group()):04X}"
        raise QuerySyntaxError(
            f"query contains a lone surrogate ({code}), not a character", query=query, position=lone.start()
        )
    return _parsed(query)


PARSE_CACHE = 1024
"""Query strings whose ASTs are kept (the nodes are immutable: every caller may share them)."""


@functools.lru_cache(maxsize=PARSE_CACHE)  # thread-safe; a query that raises is not kept
def _parsed(query: str) -> Node:
    """The AST of a checked ``query``, parsed once per distinct string (a REPL, a web page or a
    benchmark repeats queries; parsing one is ~10 us of a rare word's ~100 us engine time)."""
    return _Parser(query).parse()


def positive_leaves(node: Node) -> Iterator[Term | Phrase | Prefix]:
    """The words, phrases and prefixes a match can contain (those not under ``NOT``)."""
    if isinstance(node, (Term, Phrase, Prefix)):
        yield node
    elif isinstance(node, (And, Or)):
        for child in node.children:
            yield from positive_leaves(child)


_WORD = re.compile(r"\w+(?:['’]\w+)*")
_OPERATORS = frozenset({"AND", "OR", "NOT", "TO"})


def plain_words(query: str) -> str:
    """The words of ``query`` with every operator, quote, bracket and field stripped.

    What a lenient search runs when ``query`` does not parse: each word required, as if typed
    alone (operator words are lower-cased so they stay words). At most ``MAX_TERMS`` words.
    """
    words = _WORD.findall(query[:MAX_QUERY_CHARS].replace("\x00", " "))
    return " ".join(w.lower() if w in _OPERATORS else w for w in words[:MAX_TERMS])
