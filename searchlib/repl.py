"""The interactive query loop. It uses only the public API and reads/writes the streams it is given."""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections.abc import Callable, Sequence
from typing import TextIO, TypedDict

import attrs

from searchlib.archive import Searchable
from searchlib.display import (
    format_article,
    format_duplicates,
    format_facets,
    format_related,
    format_results,
    format_stats,
    format_timeline,
)
from searchlib.errors import QuerySyntaxError, SearchlibError
from searchlib.models import DateBucket, Recency, Results, Sort
from searchlib.render import neutralise_controls

__all__ = ["HELP", "Session", "run_repl"]

HELP = """\
Type a query to search (e.g. {examples}).
Commands:
  :more                 next page of the last query        :prev   previous page
  :limit N              hits per page (now {limit})
  :date FROM [TO]       only articles in a date range, e.g. :date 2025-03 2025-05
  :entity NAME          only articles naming NAME (repeat to add; :entity off clears)
  :source NAME          only articles from NAME (:source off clears)
  :sort score|newest|oldest
  :filters              show the filters in force         :clear  remove all filters
  :facets [day|month|year]  entities, dates and sources over all matches of the last query
  :related [QUERY]      entities appearing most (and most unusually) with the query
  :timeline [day|month|year]  matches of the last query over time, with a sparkline
  :dups [QUERY]         groups of near-duplicate articles (copies of one another)
  :collapse on|off      show near-duplicates as one hit (now {collapse})
  :like N|ID            articles most like hit N (or the article with id ID)
  :recent DAYS [DATE]   favour recent articles: scores halve every DAYS before DATE (default: today)
  :recent off           plain relevance again
  :show N|ID            the whole article of hit N (or with id ID)
  :stats                facts about the index
  :help                 this text                          :quit   leave (or Ctrl-D)
Ctrl-C clears the line; Tab completes commands, fields and entity names (with prompt_toolkit)."""

FALLBACK_EXAMPLES = ("hostage talks", '"wage talks"', "entity:Hamas", "date:2025-05")


def example_queries(index: Searchable) -> tuple[str, ...]:
    """Example queries that find something in ``index``: a frequent title word, a phrase, its top entity, a month.

    Each is checked against the index; the README's examples stand in for any that find nothing.
    """
    newest = index.search("", sort=Sort.NEWEST, limit=50, highlight=None)
    counts: dict[str, int] = {}
    for hit in newest:
        for word in re.findall(r"[^\W\d_]{5,}", hit.article.title):
            if word.islower():
                counts[word] = counts.get(word, 0) + 1
    words = sorted(counts, key=lambda w: (-counts[w], w))
    candidates: list[str] = []
    if words:
        candidates.append(words[0])
    if len(words) > 1:
        candidates.append(f"{words[1]} OR {words[0]}")
    top = index.facets("", size=1)
    if top.entities:
        name = top.entities[0].value
        candidates.append(f"entity:{name}" if re.fullmatch(r"[\w.-]+", name) else f'entity:"{name}"')
    if newest.hits:
        candidates.append(f"date:{newest.hits[0].article.date:%Y-%m}")
    found = tuple(q for q in candidates if index.search(q, limit=0, highlight=None).total > 0)
    return found or FALLBACK_EXAMPLES


class _Filters(TypedDict):
    date_from: str | None
    date_to: str | None
    entities: Sequence[str]
    source: str | None


@attrs.frozen
class Session:
    """The REPL's state between lines: the last query, page, limit and filters."""

    query: str | None = None
    offset: int = 0
    limit: int = 5
    date_from: str | None = None
    date_to: str | None = None
    entities: tuple[str, ...] = ()
    source: str | None = None
    sort: Sort = Sort.SCORE
    collapse: bool = False
    recency: Recency | None = None
    last: Results | None = None

    def filters(self) -> _Filters:
        """The filters in force, as the typed keywords every search-like call takes."""
        return {"date_from": self.date_from, "date_to": self.date_to, "entities": self.entities, "source": self.source}

    def describe_filters(self) -> str:
        parts = []
        if self.date_from or self.date_to:
            parts.append(f"date {self.date_from or '*'} to {self.date_to or '*'}")
        parts.extend(f"entity {name!r}" for name in self.entities)
        if self.source:
            parts.append(f"source {self.source!r}")
        if self.sort is not Sort.SCORE:
            parts.append(f"sorted {self.sort.value}")
        if self.collapse:
            parts.append("near-duplicates collapsed")
        if self.recency is not None:
            parts.append(f"recency half-life {self.recency.half_life_days:g} days before {self.recency.reference}")
        return "; ".join(parts) if parts else "no filters"


class _Repl:
    def __init__(self, index: Searchable, out: TextIO, color: bool, limit: int, width: int | None = None) -> None:
        self.index = index
        self.out = out
        self.color = color
        self.width = width
        self.state = Session(limit=limit)
        self.examples: tuple[str, ...] | None = None
        self.commands: dict[str, Callable[[list[str]], None]] = {
            "more": self.more,
            "next": self.more,
            "prev": self.prev,
            "limit": self.set_limit,
            "date": self.set_date,
            "entity": self.set_entity,
            "source": self.set_source,
            "sort": self.set_sort,
            "filters": lambda _a: self.say(self.state.describe_filters()),
            "clear": self.clear,
            "facets": self.facets,
            "show": self.show,
            "related": self.related,
            "dups": self.dups,
            "like": self.like,
            "recent": self.set_recent,
            "collapse": self.set_collapse,
            "timeline": self.timeline,
            "stats": lambda _a: self.say(format_stats(self.index.stats())),
            "help": self.help,
        }

    def say(self, text: str, *, formatted: bool = False) -> None:
        """Write ``text``; control characters are neutralised unless it is display output (already safe)."""
        self.out.write((text if formatted else neutralise_controls(text)) + "\n")

    def handle(self, line: str) -> bool:
        """Run one line; returns False when the user asked to quit."""
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            try:
                name, *args = shlex.split(line[1:])
            except ValueError as exc:
                self.say(f"error: {exc}")
                return True
            if name in ("quit", "q", "exit"):
                return False
            command = self.commands.get(name)
            if command is None:
                self.say(f"unknown command :{name} (type :help)")
                return True
            try:
                command(args)
            except (SearchlibError, ValueError) as exc:
                self.say(f"error: {exc}")
            return True
        self.state = attrs.evolve(self.state, query=line, offset=0)
        self.run()
        return True

    def run(self) -> None:
        s = self.state
        if s.query is None:
            self.say("no query yet: type one first")
            return
        try:
            results = self.index.search(
                s.query,
                **s.filters(),
                sort=s.sort,
                offset=s.offset,
                limit=s.limit,
                collapse_duplicates=s.collapse,
                recency=s.recency,
            )
        except QuerySyntaxError as exc:
            self.say(f"query error: {exc.reason} at position {exc.position}\n{exc.pointer()}")
            self.state = attrs.evolve(s, last=None)
            return
        self.state = attrs.evolve(s, last=results)
        self.say(format_results(results, color=self.color, width=self.width), formatted=True)
        if results.total == 0:
            suggestion = self.index.suggest(s.query)
            if suggestion:
                self.say(f"Did you mean: {suggestion}")

    def help(self, _args: list[str]) -> None:
        if self.examples is None:
            self.examples = example_queries(self.index)
        examples = ", ".join(self.examples)
        self.say(
            HELP.format(limit=self.state.limit, collapse="on" if self.state.collapse else "off", examples=examples)
        )

    def _failed(self) -> bool:
        """Whether the last query did not run (a query error): paging then says so and stays put."""
        if self.state.query is not None and self.state.last is None:
            self.say("the last query failed, so there is no page to move to: fix the query first")
            return True
        return False

    def more(self, _args: list[str]) -> None:
        if self._failed():
            return
        last = self.state.last
        if last is None or not last.has_more:
            self.say("no more hits")
            return
        self.state = attrs.evolve(self.state, offset=self.state.offset + self.state.limit)
        self.run()

    def prev(self, _args: list[str]) -> None:
        if self._failed():
            return
        if self.state.offset == 0:
            self.say("already at the first page")
            return
        self.state = attrs.evolve(self.state, offset=max(0, self.state.offset - self.state.limit))
        self.run()

    def set_limit(self, args: list[str]) -> None:
        if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= 100:
            raise ValueError("usage: :limit N (1 to 100)")
        self.state = attrs.evolve(self.state, limit=int(args[0]), offset=0)
        self.say(f"showing {args[0]} hits per page")

    def set_date(self, args: list[str]) -> None:
        if args == ["off"]:
            self.state = attrs.evolve(self.state, date_from=None, date_to=None)
        elif len(args) in (1, 2):
            start, end = args[0], args[-1]
            self.index.search("", date_from=start, date_to=end, limit=0, highlight=None)  # validates both
            self.state = attrs.evolve(self.state, date_from=start, date_to=end, offset=0)
        else:
            raise ValueError("usage: :date FROM [TO] (YYYY, YYYY-MM or YYYY-MM-DD) or :date off")
        self.rerun()

    def set_entity(self, args: list[str]) -> None:
        if not args:
            raise ValueError('usage: :entity NAME (quote names with spaces: :entity "Yoav Gallant") or :entity off')
        if args == ["off"]:
            self.state = attrs.evolve(self.state, entities=())
        else:
            self.state = attrs.evolve(self.state, entities=(*self.state.entities, " ".join(args)), offset=0)
        self.rerun()

    def set_source(self, args: list[str]) -> None:
        if not args:
            raise ValueError("usage: :source NAME or :source off")
        self.state = attrs.evolve(self.state, source=None if args == ["off"] else " ".join(args), offset=0)
        self.rerun()

    def set_sort(self, args: list[str]) -> None:
        if len(args) != 1 or args[0] not in {s.value for s in Sort}:
            raise ValueError("usage: :sort score|newest|oldest")
        self.state = attrs.evolve(self.state, sort=Sort(args[0]), offset=0)
        self.rerun()

    def clear(self, _args: list[str]) -> None:
        self.state = Session(query=self.state.query, limit=self.state.limit, collapse=self.state.collapse)
        self.rerun()

    def rerun(self) -> None:
        self.say(f"filters: {self.state.describe_filters()}")
        if self.state.query is not None:
            self.run()

    def facets(self, args: list[str]) -> None:
        bucket = DateBucket(args[0]) if args else DateBucket.MONTH
        s = self.state
        facets = self.index.facets(s.query or "", **s.filters(), bucket=bucket)
        self.say(format_facets(facets))

    def related(self, args: list[str]) -> None:
        s = self.state
        query = " ".join(args) if args else (s.query or "")
        found = self.index.related_entities(query, **s.filters())
        self.say(f"Related to {query or 'everything'!r} ({s.describe_filters()}):\n{format_related(found)}")

    def dups(self, args: list[str]) -> None:
        s = self.state
        query = " ".join(args) if args else (s.query or "")
        found = self.index.duplicates(query, **s.filters(), size=10)
        self.say(format_duplicates(found))

    def set_collapse(self, args: list[str]) -> None:
        if args not in (["on"], ["off"]):
            raise ValueError("usage: :collapse on|off")
        self.state = attrs.evolve(self.state, collapse=args == ["on"], offset=0)
        self.rerun()

    def timeline(self, args: list[str]) -> None:
        bucket = DateBucket(args[0]) if args else DateBucket.MONTH
        s = self.state
        found = self.index.timeline(s.query or "", **s.filters(), bucket=bucket)
        self.say(format_timeline(found))

    def _article_id(self, wanted: str) -> str:
        """A hit's rank on the current page, or an article id, as an id."""
        last = self.state.last
        if wanted.isdigit() and last is not None:
            for hit in last.hits:
                if hit.rank == int(wanted):
                    return hit.article.id
        return wanted

    def like(self, args: list[str]) -> None:
        if len(args) != 1:
            raise ValueError("usage: :like N (a hit's rank) or :like ID")
        results = self.index.more_like_this(self._article_id(args[0]), limit=self.state.limit)
        self.say(format_results(results, color=self.color, width=self.width), formatted=True)

    def set_recent(self, args: list[str]) -> None:
        if args == ["off"]:
            self.state = attrs.evolve(self.state, recency=None)
        elif 1 <= len(args) <= 2:
            reference = args[1] if len(args) == 2 else dt.date.today()
            self.state = attrs.evolve(self.state, recency=Recency(reference, half_life_days=float(args[0])), offset=0)
        else:
            raise ValueError("usage: :recent DAYS [YYYY-MM-DD] or :recent off")
        self.rerun()

    def show(self, args: list[str]) -> None:
        if len(args) != 1:
            raise ValueError("usage: :show N (a hit's rank) or :show ID")
        article = self.index.get(self._article_id(args[0]))
        if article is None:
            self.say(f"no hit {args[0]} on this page and no article with that id")
            return
        self.say(format_article(article))


def run_repl(
    index: Searchable,
    *,
    stdin: TextIO,
    stdout: TextIO,
    color: bool = False,
    limit: int = 5,
    prompt: str = "searchlib> ",
    interactive: bool = False,
    reader: Callable[[str], str] | None = None,
    width: int | None = None,
) -> None:
    """Read queries and commands from ``stdin`` until ``:quit`` or end of input.

    With ``interactive=True`` lines come from ``reader(prompt)`` (default ``input()``; the CLI
    passes :func:`searchlib.lineedit.line_reader`: history, completion); Ctrl-C there clears
    the line instead of leaving. Otherwise lines are read from ``stdin`` and the prompt is
    written to ``stdout``. ``width`` wraps hits to that many columns.
    """
    read = reader or input
    repl = _Repl(index, stdout, color, limit, width)
    stats = index.stats()
    repl.say(f"searchlib: {stats.documents} articles in {stats.path or '<memory>'}. Type :help for commands.")
    while True:
        if interactive:
            try:
                line = read(prompt)
            except EOFError:
                repl.say("")
                break
            except KeyboardInterrupt:  # Ctrl-C: drop the line, keep the session
                continue
        else:
            stdout.write(prompt)
            stdout.flush()
            line = stdin.readline()
            if not line:
                repl.say("")
                break
        if not repl.handle(line):
            break
