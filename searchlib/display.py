"""Text formatting of results, facets, articles and stats, shared by the CLI and the REPL.

Every string that came from an article, a query or a file name passes through
``neutralise_controls`` here, so what these functions return is safe to write to a terminal.
"""

from __future__ import annotations

import textwrap

from searchlib.ingest import IngestReport
from searchlib.models import Article, DuplicateGroup, Facets, Hit, IndexStats, RelatedEntity, Results, Snippet, Timeline
from searchlib.render import neutralise_controls as _safe
from searchlib.render import render_ansi, render_plain, render_sparkline

__all__ = [
    "format_article",
    "format_duplicates",
    "format_facets",
    "format_hit",
    "format_related",
    "format_report",
    "format_results",
    "format_stats",
    "format_timeline",
]

MAX_ENTITIES_SHOWN = 6
BAR_WIDTH = 30


def _render(snippet: Snippet, color: bool) -> str:
    return render_ansi(snippet) if color else render_plain(snippet)


def _dim(text: str, color: bool) -> str:
    return f"\x1b[2m{text}\x1b[0m" if color else text


def _bold(text: str, color: bool) -> str:
    return f"\x1b[1m{text}\x1b[0m" if color else text


def _wrap(text: str, width: int | None, indent: str) -> list[str]:
    """``text`` indented, wrapped at spaces to ``width`` columns (``None``: one line)."""
    if width is None:
        return [indent + text]
    return textwrap.wrap(text, width=max(width, 40), initial_indent=indent, subsequent_indent=indent) or [indent]


def format_hit(hit: Hit, *, color: bool = False, width: int | None = None) -> str:
    """Rank, score, date and title; then entities and the snippets, indented.

    The score is left out when it is 0 (hits sorted by date are not scored); ``width`` wraps
    the lines at spaces to that many columns.
    """
    article = hit.article
    title = _render(hit.title_snippet, color) if hit.title_snippet else _safe(article.title)
    score = f"[{hit.score:6.2f}] " if hit.score else ""
    head = f"{hit.rank:>3}. {score}{article.date.isoformat()}  {_bold(title, color)}"
    lines = _wrap(head, width, "")
    if width is not None and len(lines) > 1:
        lines[1:] = _wrap(" ".join(line.strip() for line in lines[1:]), width, "     ")
    meta = [f"id {_safe(article.id)}"]
    if article.source:
        meta.append(_safe(article.source))
    names = article.entity_names
    if names:
        shown = _safe(", ".join(names[:MAX_ENTITIES_SHOWN]))
        more = f" +{len(names) - MAX_ENTITIES_SHOWN}" if len(names) > MAX_ENTITIES_SHOWN else ""
        meta.append(f"entities: {shown}{more}")
    lines.extend(_dim(line, color) for line in _wrap(" | ".join(meta), width, "     "))
    for snippet in hit.snippets:
        lines.extend(_wrap(_render(snippet, color), width, "     "))
    if hit.copies:
        copies = f"+{len(hit.copies)} near-duplicate(s): {_safe(', '.join(hit.copies))}"
        lines.extend(_dim(line, color) for line in _wrap(copies, width, "     "))
    return "\n".join(lines)


def format_results(results: Results, *, color: bool = False, width: int | None = None) -> str:
    """Every hit of the page, then a line with the total and the page shown (``width``: wrap to it)."""
    if results.total == 0:
        return "No matches."
    blocks = [format_hit(hit, color=color, width=width) for hit in results.hits]
    first, last = results.offset + 1, results.offset + len(results.hits)
    footer = f"{results.total} match(es); showing {first}-{last}" if results.hits else f"{results.total} match(es)"
    if results.has_more:
        footer += " (more available)"
    blocks.append(footer)
    return "\n\n".join(blocks[:-1]) + ("\n\n" if len(blocks) > 1 else "") + blocks[-1]


def _bar(count: int, top: int) -> str:
    return "#" * max(1, round(BAR_WIDTH * count / top)) if top else ""


def format_facets(facets: Facets) -> str:
    """Three small tables: top entities, counts per date bucket (with bars), sources."""
    out: list[str] = []
    sections = (
        ("Top entities", facets.entities),
        (f"By {facets.date_bucket.value}", facets.dates),
        ("Sources", facets.sources),
    )
    for heading, counts in sections:
        out.append(f"{heading}:")
        if not counts:
            out.append("  (none)")
            continue
        width = max(len(c.value) for c in counts)
        top = max(c.count for c in counts)
        for c in counts:
            out.append(f"  {_safe(c.value):<{width}}  {c.count:>5}  {_bar(c.count, top)}")
    return "\n".join(out)


def format_article(article: Article) -> str:
    """The whole article with its stored fields."""
    lines = [article.title, "=" * min(len(article.title), 79), f"date: {article.date.isoformat()}", f"id: {article.id}"]
    if article.source:
        lines.append(f"source: {article.source}")
    if article.url:
        lines.append(f"url: {article.url}")
    if article.entities:
        lines.append("entities: " + ", ".join(f"{e.name} ({e.kind.value})" for e in article.entities))
    lines += ["", article.body]
    return _safe("\n".join(lines))


def format_stats(stats: IndexStats) -> str:
    dates = f"{stats.first_date} to {stats.last_date}" if stats.first_date else "(empty)"
    return "\n".join(
        [
            f"index:     {_safe(stats.path or '<memory>')}",
            f"articles:  {stats.documents}",
            f"dates:     {dates}",
            f"entities:  {stats.entities} distinct",
            f"aliases:   {stats.aliases} (learned acronyms, merges, renames), {stats.blocked} blocked",
            f"segments:  {stats.segments}",
            f"size:      {stats.size_bytes / 1_048_576:.2f} MiB",
            f"commit:    generation {stats.generation}",
        ]
    )


def format_report(report: IngestReport, *, max_problems: int = 20) -> str:
    lines = [_safe(report.summary())]
    for problem in report.problems[:max_problems]:
        lines.append(_safe(f"  skipped {problem}"))
    if report.skipped > max_problems:
        lines.append(f"  ... and {report.skipped - max_problems} more")
    return "\n".join(lines)


def format_timeline(timeline: Timeline) -> str:
    """A sparkline over the whole span, then one bar per bucket."""
    if not timeline.points:
        return "No matches."
    counts = [p.count for p in timeline.points]
    first, last = timeline.points[0].value, timeline.points[-1].value
    lines = [f"{first} {render_sparkline(counts)} {last}   ({timeline.total} articles, by {timeline.bucket.value})"]
    top = max(counts)
    width = max(len(p.value) for p in timeline.points)
    lines += [f"  {p.value:<{width}}  {p.count:>5}  {_bar(p.count, top) if p.count else ''}" for p in timeline.points]
    return "\n".join(lines)


def format_related(related: tuple[RelatedEntity, ...]) -> str:
    """Entity, matches naming it, articles naming it overall, and significance."""
    if not related:
        return "No related entities."
    width = max(len(r.name) for r in related)
    lines = [f"  {'entity':<{width}}  {'with':>5}  {'overall':>7}  significance"]
    lines += [f"  {_safe(r.name):<{width}}  {r.count:>5}  {r.background:>7}  {r.score:10.2f}" for r in related]
    return "\n".join(lines)


def format_duplicates(groups: tuple[DuplicateGroup, ...]) -> str:
    """Each group of copies: date, id, source and title of every member, oldest first."""
    if not groups:
        return "No near-duplicates."
    blocks = []
    for number, group in enumerate(groups, start=1):
        lines = [f"{number}. {len(group.articles)} copies of: {group.original.title}"]
        for a in group.articles:
            lines.append(f"     {a.date.isoformat()}  {a.id}  {a.source or '-'}  {a.title[:70]}")
        blocks.append(_safe("\n".join(lines)))
    return "\n\n".join(blocks)
