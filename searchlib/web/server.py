"""Running the web app: in the foreground (``searchlib serve``) or in a background thread.

uvicorn serves the app; ``serve`` opens the index or archive read-only for the server's lifetime
and closes it afterwards.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import uvicorn

from searchlib.archive import Searchable, open_any
from searchlib.web.app import LOOPBACK_HOSTS, create_app

__all__ = ["is_loopback", "running", "serve"]


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _hosts(host: str, allowed_hosts: Iterable[str]) -> list[str]:
    hosts = [*LOOPBACK_HOSTS, *allowed_hosts]
    if host not in ("0.0.0.0", "::"):  # wildcard binds: no name to match
        hosts.append(host)
    return hosts


def serve(
    path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    allowed_hosts: Iterable[str] = (),
    log_level: str = "info",
    executor: Any = "serial",
) -> None:
    """Serve the index or archive (a folder with ``archive.json``) at ``path`` until interrupted (Ctrl-C).

    The Host header must name ``host``, a loopback name or one of ``allowed_hosts``.
    ``executor``: where an archive's shard tasks run (as in ``Archive.open``; default: in
    the request threads; ``searchlib serve --scheduler ADDRESS`` passes a Dask executor).
    """
    with open_any(path, executor=executor) as ix:
        app = create_app(ix, allowed_hosts=_hosts(host, allowed_hosts))
        uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def running(ix: Searchable, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 20.0) -> Iterator[str]:
    """Serve ``ix`` from a background thread; yields the base URL (``http://127.0.0.1:PORT``)."""
    port = port or _free_port(host)
    config = uvicorn.Config(create_app(ix), host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="searchlib-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the web server did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
