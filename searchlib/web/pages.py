"""The HTML pages: search, article, entity, syntax help; server-rendered, no JavaScript.

Every page reads its state from the URL (:class:`~searchlib.web.params.SearchState`) and
calls only searchlib's public API, through the app's :class:`~searchlib.web.app.IndexGate`.
Templates autoescape everything; the only markup passed through unescaped is
``render_html``'s (which escapes the text it wraps) and the SVG this package draws.
"""

from __future__ import annotations

import re
import time
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

import attrs
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from searchlib import (
    Article,
    DateBucket,
    Entity,
    HighlightOptions,
    IndexStats,
    QuerySyntaxError,
    Sort,
    highlight,
    parse_query,
    render_html,
)
from searchlib.archive import Searchable
from searchlib.query import plain_words
from searchlib.render import neutralise_controls
from searchlib.web.app import gate
from searchlib.web.params import KINDS, MAX_PAGE, SearchState
from searchlib.web.svg import timeline_svg

__all__ = ["error_page", "routes"]


def _visible(value: Any) -> Any:
    """Every ``{{ }}`` output: control characters shown as symbols (Markup is already safe)."""
    return neutralise_controls(value) if isinstance(value, str) and not isinstance(value, Markup) else value


_env = Environment(
    loader=PackageLoader("searchlib.web", "templates"), autoescape=select_autoescape(default=True), finalize=_visible
)
_env.filters["mark"] = lambda snippet: Markup(render_html(snippet))
_env.filters["tuple"] = tuple
SNIPPETS = HighlightOptions(snippets=1, chars=260)
MAX_TIMELINE_BARS = 400
"""A day timeline wider than this is drawn per month (and a month one per year) instead."""


def _params(request: Request) -> dict[str, list[str]]:
    qp = request.query_params
    return {key: qp.getlist(key) for key in qp}


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("title", request.app.state.title)
    html = _env.get_template(template).render(site=request.app.state.title, **context)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, reason: str) -> Response:
    """An HTML error page with the reason, and a way back to search."""
    return _page(request, "error.html", status=status, status_code=status, reason=reason, title=f"{status} error")


def effective_query(state: SearchState) -> tuple[str, str | None]:
    """(query to run, notice): a query that does not parse runs as its plain words, with the error as a notice.

    Kind filters (``person=...``) are appended as ``person:"Name"`` clauses.
    """
    text, notice = state.q, None
    try:
        parse_query(text)
    except QuerySyntaxError as exc:
        text = plain_words(text)
        notice = (
            f"Your query has a syntax error ({exc.reason} at position {exc.position + 1}), "
            f"so its plain words were searched instead: {text or '(none)'}"
        )
    return attrs.evolve(state, q=text).query(), notice


STATS_SECONDS = 60.0
"""How long the footer's index facts are reused before they are read again."""


def _stats(request: Request, ix: Searchable) -> IndexStats:
    cached: tuple[float, IndexStats] | None = getattr(request.app.state, "stats", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > STATS_SECONDS:
        cached = (now, ix.stats())
        request.app.state.stats = cached
    return cached[1]


def _coarser(bucket: DateBucket) -> DateBucket:
    return DateBucket.MONTH if bucket == DateBucket.DAY else DateBucket.YEAR


def _bucket_range(value: str) -> dict[str, str]:
    return {"date_from": value, "date_to": value}


def _canonical(request: Request, state: SearchState) -> Response | None:
    """A redirect to the state's canonical URL when the request's differs (empty or default form fields)."""
    given = sorted(parse_qsl(request.url.query, keep_blank_values=True))
    if given != sorted(state.params()):
        return RedirectResponse(state.url(request.url.path), status_code=303)
    return None


def search_page(request: Request) -> Response:
    state = SearchState.from_params(_params(request))
    redirect = _canonical(request, state)
    if redirect is not None:
        return redirect
    query, notice = effective_query(state)
    with gate(request).index() as ix:
        results = ix.search(
            query,
            **state.filters(),
            sort=state.sort,
            page=state.page,
            limit=state.size,
            highlight=SNIPPETS,
            facets=True,
            facet_bucket=state.bucket,
            facet_size=12,
            collapse_duplicates=state.collapse,
            lenient=True,
        )
        bucket = state.bucket
        timeline = ix.timeline(query, **state.filters(), bucket=bucket, lenient=True)
        while len(timeline.points) > MAX_TIMELINE_BARS and bucket != DateBucket.YEAR:
            bucket = _coarser(bucket)
            timeline = ix.timeline(query, **state.filters(), bucket=bucket, lenient=True)
        suggestion = ix.suggest(state.q, lenient=True) if results.total == 0 and state.q else None
        stats = _stats(request, ix)
    chart = Markup(timeline_svg(timeline, link=lambda value: state.url(**_bucket_range(value))))
    pages = max(1, min(MAX_PAGE, -(-results.total // state.size)))
    return _page(
        request,
        "search.html",
        title=f"{state.q} – {request.app.state.title}" if state.q else request.app.state.title,
        state=state,
        results=results,
        notice=notice,
        suggestion=suggestion,
        chart=chart,
        chart_bucket=bucket,
        pages=pages,
        page_window=range(max(1, state.page - 3), min(pages, state.page + 3) + 1),
        kinds=KINDS,
        sorts=[s.value for s in Sort],
        buckets=[b.value for b in DateBucket],
        stats=stats,
    )


def _paragraphs(body: str, query: str) -> list[Markup]:
    out = []
    for para in re.split(r"\n\s*\n", body):
        para = para.strip()
        if para:
            out.append(
                Markup(render_html(highlight(para, query))) if query else Markup.escape(neutralise_controls(para))
            )
    return out


def article_page(request: Request) -> Response:
    doc_id = request.path_params["doc_id"]
    state = SearchState.from_params(_params(request))
    query, _notice = effective_query(attrs.evolve(state, kinds=()))
    with gate(request).index() as ix:
        article = ix.get(doc_id)
        if article is None:
            raise HTTPException(404, f"no article with id {doc_id!r}")
        similar = ix.more_like_this(doc_id, limit=6, highlight=None)
        try:
            groups = ix.duplicates(f'id:"{doc_id}"')
        except QuerySyntaxError:  # an id the query language cannot spell: no duplicate lookup
            groups = ()
    copies = [a for g in groups for a in g.articles if a.id != doc_id]
    return _page(
        request,
        "article.html",
        title=article.title,
        article=article,
        paragraphs=_paragraphs(article.body, query),
        title_html=Markup(render_html(highlight(article.title, query))) if query else article.title,
        entities=article.entities or (),
        similar=similar,
        copies=copies,
        state=state,
        back=state.url() if state.q or state.has_filters() else "/",
    )


def _entity_of(name: str, articles: list[Article]) -> Entity | None:
    key = name.casefold()
    for article in articles:
        for entity in article.entities or ():
            if key in (n.casefold() for n in entity.names):
                return entity
    return None


def entity_page(request: Request) -> Response:
    name = request.path_params["name"]
    state = SearchState.from_params(_params(request))
    if len(name) > 200 or "\x00" in name or not name.strip():
        raise HTTPException(400, "entity names are 1 to 200 characters")
    with gate(request).index() as ix:
        results = ix.search("", entities=[name], sort=Sort.NEWEST, page=state.page, limit=state.size, highlight=None)
        if results.total == 0:
            raise HTTPException(404, f"no article names the entity {name!r}")
        entity = _entity_of(name, [h.article for h in results])
        if entity is not None and entity.name.casefold() != name.casefold():
            # an alias or an old name: show the entity it is filed under now
            name = entity.name
            results = ix.search(
                "", entities=[name], sort=Sort.NEWEST, page=state.page, limit=state.size, highlight=None
            )
        timeline = ix.timeline("", entities=[name], bucket=state.bucket)
        if len(timeline.points) > MAX_TIMELINE_BARS:
            timeline = ix.timeline("", entities=[name], bucket=DateBucket.YEAR)
        related = ix.related_entities("", entities=[name], size=15)
    in_search = SearchState(entities=(entity.name if entity else name,))
    chart = Markup(timeline_svg(timeline, link=lambda value: in_search.url(**_bucket_range(value)), label="Articles"))
    pages = max(1, min(MAX_PAGE, -(-results.total // state.size)))
    return _page(
        request,
        "entity.html",
        title=entity.name if entity else name,
        name=name,
        asked=request.path_params["name"],
        entity=entity,
        results=results,
        related=related,
        chart=chart,
        search_url=in_search.url(),
        state=state,
        pages=pages,
    )


def syntax_page(request: Request) -> Response:
    return _page(request, "syntax.html", title="Query syntax")


def stylesheet(request: Request) -> Response:
    css = resources.files("searchlib.web").joinpath("static/style.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"cache-control": "max-age=3600"})


def routes() -> list[BaseRoute]:
    """The HTML routes (GET and HEAD only)."""
    return [
        Route("/", search_page),
        Route("/article/{doc_id:path}", article_page),
        Route("/entity/{name:path}", entity_page),
        Route("/syntax", syntax_page),
        Route("/style.css", stylesheet),
    ]
