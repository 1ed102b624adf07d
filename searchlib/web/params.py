"""A search's whole state, read from and written back to URL query parameters.

Every page of the web UI is a function of its URL: the query, filters, sort, page, page size,
collapse toggle and timeline bucket all live in the query string, so a search can be
bookmarked and shared. Invalid values raise :class:`BadRequest` with a reason the server
sends back as a 400.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import attrs

from searchlib import DateBucket, Sort

__all__ = [
    "KINDS",
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "MAX_PARAM_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_VALUES",
    "BadRequest",
    "SearchState",
]

MAX_QUERY_CHARS = 1000
"""Longest query the web server accepts (the library takes 10,000; a URL should not)."""
MAX_PARAM_CHARS = 200
"""Longest entity, source or date parameter."""
MAX_VALUES = 10
"""Most values of one repeatable parameter (``entity``, ``person``...)."""
MAX_PAGE_SIZE = 100
"""Most hits on one page."""
MAX_PAGE = 1000
"""Deepest page (deeper paging is what export is for)."""
KINDS = ("person", "org", "place")
"""Entity kinds that can be filtered by, each its own parameter and query field."""


class BadRequest(ValueError):
    """A request parameter is invalid; the message is the reason sent to the client."""


def _one(params: Mapping[str, Sequence[str]], name: str, limit: int = MAX_PARAM_CHARS) -> str:
    values = params.get(name, ())
    if len(values) > 1:
        raise BadRequest(f"parameter {name!r} given {len(values)} times")
    value = values[0].strip() if values else ""
    if len(value) > limit:
        raise BadRequest(f"parameter {name!r} is longer than {limit} characters")
    if "\x00" in value:
        raise BadRequest(f"parameter {name!r} contains a NUL character")
    return value


def _many(params: Mapping[str, Sequence[str]], name: str) -> tuple[str, ...]:
    values = [v.strip() for v in params.get(name, ()) if v.strip()]
    if len(values) > MAX_VALUES:
        raise BadRequest(f"parameter {name!r} given more than {MAX_VALUES} times")
    for value in values:
        if len(value) > MAX_PARAM_CHARS:
            raise BadRequest(f"parameter {name!r} is longer than {MAX_PARAM_CHARS} characters")
        if "\x00" in value:
            raise BadRequest(f"parameter {name!r} contains a NUL character")
    return tuple(dict.fromkeys(values))


def _int(params: Mapping[str, Sequence[str]], name: str, default: int, low: int, high: int) -> int:
    text = _one(params, name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"parameter {name!r} must be a whole number, not {text!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"parameter {name!r} must be between {low} and {high}, not {value}")
    return value


def _date(params: Mapping[str, Sequence[str]], name: str) -> str:
    text = _one(params, name)
    if not text:
        return ""
    parts = text.split("-")
    try:
        if len(parts) == 1 and len(text) == 4:
            dt.date(int(text), 1, 1)
        elif len(parts) == 2:
            dt.date(int(parts[0]), int(parts[1]), 1)
        else:
            dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"parameter {name!r} must be a date YYYY, YYYY-MM or YYYY-MM-DD, not {text!r}") from None
    return text


def _choice(params: Mapping[str, Sequence[str]], name: str, choices: Sequence[str], default: str) -> str:
    text = _one(params, name) or default
    if text not in choices:
        raise BadRequest(f"parameter {name!r} must be one of {', '.join(choices)}, not {text!r}")
    return text


@attrs.frozen
class SearchState:
    """What to search and how to show it; ``SearchState.from_params(request.query_params)``."""

    q: str = ""
    date_from: str = ""
    date_to: str = ""
    entities: tuple[str, ...] = ()
    kinds: tuple[tuple[str, str], ...] = ()
    """(kind, name) pairs: the article must name ``name`` as this kind (``person:"name"``)."""
    source: str = ""
    sort: Sort = Sort.SCORE
    page: int = 1
    size: int = 10
    collapse: bool = False
    bucket: DateBucket = DateBucket.MONTH

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> SearchState:
        """Read and validate the URL parameters; raise :class:`BadRequest` naming the bad one."""
        known = {"q", "from", "to", "entity", "source", "sort", "page", "size", "collapse", "bucket", *KINDS}
        unknown = sorted(set(params) - known)
        if unknown:
            raise BadRequest(f"unknown parameter {unknown[0]!r}")
        kinds: list[tuple[str, str]] = []
        for kind in KINDS:
            for name in _many(params, kind):
                if '"' in name:
                    raise BadRequest(f"parameter {kind!r}: a name with a double quote cannot be filtered by kind")
                kinds.append((kind, name))
        state = cls(
            q=_one(params, "q", MAX_QUERY_CHARS),
            date_from=_date(params, "from"),
            date_to=_date(params, "to"),
            entities=_many(params, "entity"),
            kinds=tuple(kinds),
            source=_one(params, "source"),
            sort=Sort(_choice(params, "sort", [s.value for s in Sort], Sort.SCORE.value)),
            page=_int(params, "page", 1, 1, MAX_PAGE),
            size=_int(params, "size", 10, 1, MAX_PAGE_SIZE),
            collapse=_choice(params, "collapse", ["0", "1", "on", "off"], "0") in ("1", "on"),
            bucket=DateBucket(_choice(params, "bucket", [b.value for b in DateBucket], DateBucket.MONTH.value)),
        )
        n = min(len(state.date_from), len(state.date_to))
        if n and state.date_from[:n] > state.date_to[:n]:
            raise BadRequest(f"'from' ({state.date_from}) is after 'to' ({state.date_to})")
        return state

    def params(self) -> list[tuple[str, str]]:
        """The URL parameters that differ from the defaults, in a stable order."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        if self.date_from:
            out.append(("from", self.date_from))
        if self.date_to:
            out.append(("to", self.date_to))
        out += [("entity", e) for e in self.entities]
        out += list(self.kinds)
        if self.source:
            out.append(("source", self.source))
        if self.sort != Sort.SCORE:
            out.append(("sort", self.sort.value))
        if self.page != 1:
            out.append(("page", str(self.page)))
        if self.size != 10:
            out.append(("size", str(self.size)))
        if self.collapse:
            out.append(("collapse", "1"))
        if self.bucket != DateBucket.MONTH:
            out.append(("bucket", self.bucket.value))
        return out

    def url(self, path: str = "/", **changes: Any) -> str:
        """``path`` with this state's parameters, after ``attrs.evolve(self, **changes)``.

        Any change other than ``page`` goes back to page 1.
        """
        if changes and "page" not in changes:
            changes["page"] = 1
        state = attrs.evolve(self, **changes) if changes else self
        query = urlencode(state.params())
        return f"{path}?{query}" if query else path

    def filters(self) -> dict[str, Any]:
        """The filter keywords every ``Index`` query method takes (dates, entities, source)."""
        return {
            "date_from": self.date_from or None,
            "date_to": self.date_to or None,
            "entities": self.entities,
            "source": self.source or None,
        }

    def query(self) -> str:
        """``q`` with the kind filters appended as clauses: ``(q) person:"Name"``."""
        clauses = self.typed_clauses()
        if clauses:
            return f"({self.q}) {clauses}" if self.q else clauses
        return self.q

    def typed_clauses(self) -> str:
        """The kind filters as query clauses: ``person:"Name" org:"Other"``."""
        return " ".join(f'{kind}:"{name}"' for kind, name in self.kinds)

    def has_filters(self) -> bool:
        """Whether any filter (dates, entities, kinds, source) is set."""
        return bool(self.date_from or self.date_to or self.entities or self.kinds or self.source)
