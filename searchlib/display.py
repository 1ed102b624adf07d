"""Text formatting of results, facets, articles and stats, shared by the CLI and the REPL."""

from __future__ import annotations

from searchlib.ingest import IngestReport
from searchlib.models import Article, DuplicateGroup, Facets, Hit, IndexStats, RelatedEntity, Results, Snippet, Timeline
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


def format_hit(hit: Hit, *, color: bool = False) -> str:
    """Rank, score, date and title; then entities and the snippets, indented."""
    article = hit.article
    title = _render(hit.title_snippet, color) if hit.title_snippet else article.title
    lines = [f"{hit.rank:>3}. [{hit.score:6.2f}] {article.date.isoformat()}  {_bold(title, color)}"]
    meta = [f"id {article.id}"]
    if article.source:
        meta.append(article.source)
    names = article.entity_names
    if names:
        shown = ", ".join(names[:MAX_ENTITIES_SHOWN])
        more = f" +{len(names) - MAX_ENTITIES_SHOWN}" if len(names) > MAX_ENTITIES_SHOWN else ""
        meta.append(f"entities: {shown}{more}")
    lines.append("     " + _dim(" | ".join(meta), color))
    lines.extend("     " + _render(snippet, color) for snippet in hit.snippets)
    if hit.copies:
        lines.append("     " + _dim(f"+{len(hit.copies)} near-duplicate(s): {', '.join(hit.copies)}", color))
    return "\n".join(lines)


def format_results(results: Results, *, color: bool = False) -> str:
    """Every hit of the page, then a line with the total and the page shown."""
    if results.total == 0:
        return "No matches."
    blocks = [format_hit(hit, color=color) for hit in results.hits]
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
            out.append(f"  {c.value:<{width}}  {c.count:>5}  {_bar(c.count, top)}")
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
    return "\n".join(lines)


def format_stats(stats: IndexStats) -> str:
    dates = f"{stats.first_date} to {stats.last_date}" if stats.first_date else "(empty)"
    return "\n".join(
        [
            f"index:     {stats.path or '<memory>'}",
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
    lines = [report.summary()]
    for problem in report.problems[:max_problems]:
        lines.append(f"  skipped {problem}")
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
    lines += [f"  {r.name:<{width}}  {r.count:>5}  {r.background:>7}  {r.score:10.2f}" for r in related]
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
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
