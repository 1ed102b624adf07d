"""The JSON API and the streamed exports.

Each endpoint mirrors one ``Index`` method and returns its attrs value serialised field by
field (:func:`searchlib.export.to_jsonable`): ``/api/search`` → ``Results``, ``/api/facets`` →
``Facets``, ``/api/timeline`` → ``Timeline``, ``/api/related`` → a list of ``RelatedEntity``,
``/api/articles/{id}`` → ``Article``, ``/api/similar/{id}`` → ``Results`` of ``more_like_this``,
``/api/duplicates`` → a list of ``DuplicateGroup``, ``/api/stats`` → ``IndexStats``,
``/api/suggest`` → the corrected query. Parameters are
the search page's (see :class:`~searchlib.web.params.SearchState`); queries are strict here (a
syntax error is a 400 with ``position`` and ``reason``) unless ``lenient=1``.
``/export.csv`` and ``/export.jsonl`` stream every match, not one page.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from searchlib import HighlightOptions, QuerySyntaxError, parse_query
from searchlib.export import ExportFormat, article_json, export_lines, to_jsonable
from searchlib.query import plain_words
from searchlib.web.app import gate
from searchlib.web.params import BadRequest, SearchState

__all__ = ["routes"]


def _state(request: Request) -> tuple[SearchState, bool]:
    qp = request.query_params
    params = {key: qp.getlist(key) for key in qp if key != "lenient"}
    lenient = qp.getlist("lenient")
    if len(lenient) > 1 or (lenient and lenient[0] not in ("0", "1")):
        raise BadRequest("parameter 'lenient' must be 0 or 1")
    return SearchState.from_params(params), lenient == ["1"]


def api_search(request: Request) -> Response:
    state, lenient = _state(request)
    with gate(request).index() as ix:
        results = ix.search(
            state.query(),
            **state.filters(),
            sort=state.sort,
            page=state.page,
            limit=state.size,
            highlight=HighlightOptions(),
            collapse_duplicates=state.collapse,
            lenient=lenient,
        )
    return JSONResponse(to_jsonable(results))


def api_facets(request: Request) -> Response:
    state, lenient = _state(request)
    with gate(request).index() as ix:
        facets = ix.facets(state.query(), **state.filters(), bucket=state.bucket, size=state.size, lenient=lenient)
    return JSONResponse(to_jsonable(facets))


def api_timeline(request: Request) -> Response:
    state, lenient = _state(request)
    with gate(request).index() as ix:
        timeline = ix.timeline(state.query(), **state.filters(), bucket=state.bucket, lenient=lenient)
    return JSONResponse(to_jsonable(timeline))


def api_related(request: Request) -> Response:
    state, lenient = _state(request)
    with gate(request).index() as ix:
        related = ix.related_entities(state.query(), **state.filters(), size=state.size, lenient=lenient)
    return JSONResponse(to_jsonable(related))


def api_suggest(request: Request) -> Response:
    state, lenient = _state(request)
    with gate(request).index() as ix:
        suggestion = ix.suggest(state.q, lenient=lenient)
    return JSONResponse({"query": state.q, "suggestion": suggestion})


def api_article(request: Request) -> Response:
    doc_id = request.path_params["doc_id"]
    with gate(request).index() as ix:
        article = ix.get(doc_id)
    if article is None:
        raise HTTPException(404, f"no article with id {doc_id!r}")
    return JSONResponse(article_json(article))


def api_similar(request: Request) -> Response:
    doc_id = request.path_params["doc_id"]
    state, _ = _state(request)
    with gate(request).index() as ix:
        if ix.get(doc_id) is None:
            raise HTTPException(404, f"no article with id {doc_id!r}")
        results = ix.more_like_this(doc_id, limit=state.size)
    return JSONResponse(to_jsonable(results))


def api_duplicates(request: Request) -> Response:
    state, lenient = _state(request)
    query = state.query()
    if lenient:
        query = _lenient(query)
    with gate(request).index() as ix:
        groups = ix.duplicates(query, **state.filters(), size=state.size)
    return JSONResponse(to_jsonable(list(groups)))


def api_stats(request: Request) -> Response:
    with gate(request).index() as ix:
        stats = ix.stats()
    return JSONResponse(to_jsonable(stats))


def _lenient(query: str) -> str:
    try:
        parse_query(query)
    except QuerySyntaxError:
        return plain_words(query)
    return query


def _export(request: Request, fmt: ExportFormat) -> Response:
    state, _ = _state(request)
    guard = gate(request)
    # the first batch is read here, before the response starts, so a bad request is still a 400;
    # each batch takes a place in the gate, so a slow download never holds one for long
    lines = export_lines(
        guard.unguarded,
        state.query(),
        fmt=fmt,
        **state.filters(),
        sort=state.sort,
        collapse_duplicates=state.collapse,
        lenient=True,
        guard=guard.guard,
    )
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
    name = f"searchlib-export.{fmt}"
    return StreamingResponse(lines, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


def export_csv(request: Request) -> Response:
    return _export(request, "csv")


def export_jsonl(request: Request) -> Response:
    return _export(request, "jsonl")


def routes() -> list[BaseRoute]:
    """The JSON API and export routes (GET and HEAD only)."""
    return [
        Route("/api/search", api_search),
        Route("/api/facets", api_facets),
        Route("/api/timeline", api_timeline),
        Route("/api/related", api_related),
        Route("/api/suggest", api_suggest),
        Route("/api/articles/{doc_id:path}", api_article),
        Route("/api/similar/{doc_id:path}", api_similar),
        Route("/api/duplicates", api_duplicates),
        Route("/api/stats", api_stats),
        Route("/export.csv", export_csv),
        Route("/export.jsonl", export_jsonl),
    ]
