"""The web application: ``create_app(index)`` returns a read-only Starlette (ASGI) app.

Safety, by default:

- **Host check** (DNS rebinding): a request whose ``Host`` header is not one of
  ``allowed_hosts`` (by default the loopback names) gets a 400, so a hostile page that
  resolves its own domain to 127.0.0.1 cannot read the archive through a visitor's browser.
- **No CORS** headers, so other origins' scripts cannot read responses; a strict
  Content-Security-Policy (no scripts at all, styles from this server only), ``nosniff``,
  ``no-referrer`` and ``frame-ancestors 'none'``.
- **Read-only**: only GET and HEAD routes exist; anything else is a 405.
- **Limits**: query length, page size and depth, repeated parameters (see ``params``), and
  concurrent work: at most ``max_pending`` requests may work on the index at once (more get
  a 503 "busy" at once rather than queueing without bound).
- **Errors**: a bad parameter or query gets a 400 with the reason; an unknown article a 404.

Threads: Starlette runs the synchronous endpoints in a thread pool, and they share one
``Index``, which is safe to share between threads (README: Guarantees); each search sees one
whole commit, so pages pick up new commits as they land.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from searchlib import QuerySyntaxError
from searchlib.archive import Searchable
from searchlib.web.params import BadRequest

__all__ = ["LOOPBACK_HOSTS", "Busy", "IndexGate", "create_app", "gate"]

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Host names accepted by default (with any port)."""

SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class Busy(Exception):
    """Too much work is already waiting for the index (sent as a 503)."""


class IndexGate:
    """Every request's work on the shared ``Index`` goes through here, to bound it.

    ``with gate.guard():`` reserves one of ``max_pending`` places, or raises :class:`Busy` at
    once; ``with gate.index() as ix:`` does the same and hands out the index. A streamed
    export takes a place per batch, so a slow download never holds one for long.
    """

    def __init__(self, ix: Searchable, *, max_pending: int = 8) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._ix = ix
        self._pending = threading.BoundedSemaphore(max_pending)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Reserve a place for one request's work, or raise :class:`Busy` at once."""
        if not self._pending.acquire(blocking=False):
            raise Busy("the server is busy with other searches; try again shortly")
        try:
            yield
        finally:
            self._pending.release()

    @contextlib.contextmanager
    def index(self) -> Iterator[Searchable]:
        """The index, inside :meth:`guard`."""
        with self.guard():
            yield self._ix

    @property
    def unguarded(self) -> Searchable:
        """The index itself: only for code that takes :meth:`guard` around each call (streamed exports)."""
        return self._ix


def gate(request: Request) -> IndexGate:
    """The app's :class:`IndexGate` (every endpoint reaches the index through it)."""
    found: IndexGate = request.app.state.gate
    return found


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8080
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """ASGI middleware: reject unexpected Host headers; add the security headers to every response."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(_hostname(h) for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if "*" not in self.allowed and _hostname(host) not in self.allowed:
            reason = f"Host header {host!r} is not served here (allowed: {', '.join(sorted(self.allowed))})"
            await PlainTextResponse(f"400 Bad Request: {reason}\n", status_code=400)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str, **extra: Any) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message, "status": status, **extra}, status_code=status)
    from searchlib.web.pages import error_page

    return error_page(request, status, message)


def create_app(
    ix: Searchable,
    *,
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    max_pending: int = 8,
    title: str | None = None,
) -> Starlette:
    """A read-only web UI and JSON API over ``ix`` (which the caller opens and closes).

    ``allowed_hosts`` are the host names the ``Host`` header may carry (``"*"`` allows any:
    only behind a proxy that checks it). See the module docstring for the other limits.
    """
    from searchlib.web import api, pages

    gate = IndexGate(ix, max_pending=max_pending)

    async def bad_request(request: Request, exc: Exception) -> Response:
        return _error(request, 400, str(exc))

    async def bad_query(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, QuerySyntaxError)
        return _error(request, 400, f"query error: {exc.reason}", position=exc.position, reason=exc.reason)

    async def busy(request: Request, exc: Exception) -> Response:
        return _error(request, 503, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(request, exc.status_code, str(exc.detail))

    async def unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover - a bug if reached
        log.exception("unexpected error serving %s", request.url.path)
        return _error(request, 500, "internal error")

    app = Starlette(
        routes=[*pages.routes(), *api.routes()],
        exception_handlers={
            BadRequest: bad_request,
            QuerySyntaxError: bad_query,
            ValueError: bad_request,
            Busy: busy,
            HTTPException: http_error,
            Exception: unexpected,
        },
    )
    app.state.gate = gate
    app.state.title = title or (f"searchlib: {ix.path.name}" if ix.path else "searchlib")
    app.add_middleware(Guard, allowed_hosts=allowed_hosts)
    return app
