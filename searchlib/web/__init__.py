"""``searchlib serve``: the archive in a browser, and a JSON API (needs the ``web`` extra).

``create_app(index)`` builds the Starlette app; :func:`serve` runs it with uvicorn;
:func:`running` runs it in a background thread (tests, screenshots). See README: Web.
"""

from searchlib.web.app import LOOPBACK_HOSTS, create_app
from searchlib.web.server import running, serve

__all__ = ["LOOPBACK_HOSTS", "create_app", "running", "serve"]
