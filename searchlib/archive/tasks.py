"""The work one shard does for an archive query, run wherever the executor puts it.

Every task is a top-level function of plain, picklable arguments, so a local process pool
and a Dask worker run the same code. Each process keeps the shard indexes it opened
(``_OPEN``): a worker that served a shard once answers its next query without reopening it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from searchlib._whoosh import search as ws
from searchlib._whoosh import shard as wsh
from searchlib.index import Index, Ranking

__all__ = ["forget", "run_task"]

_OPEN: dict[tuple[str, float, float], Index] = {}
_LOCK = threading.Lock()


def _index(path: str, ranking: Ranking) -> Index:
    key = (path, ranking.k1, ranking.b)
    with _LOCK:
        index = _OPEN.get(key)
        if index is None:
            index = _OPEN[key] = Index.open(path, ranking=ranking)
        return index


def forget(root: Path) -> None:
    """Close this process's cached shards under ``root`` (when an archive closes)."""
    prefix = str(root)
    with _LOCK:
        for key in [k for k in _OPEN if k[0].startswith(prefix)]:
            _OPEN.pop(key).close()


def run_task(path: str, ranking: Ranking, kind: str, args: dict[str, Any]) -> Any:
    """Run task ``kind`` on the shard index at ``path`` (see :mod:`searchlib.archive.archive`)."""
    index = _index(path, ranking)
    backend = index._backend
    weights = index.ranking._weights()
    if kind == "stats":
        return backend.run("archive stats", lambda s: wsh.collect_stats(s, args["node"], weights))
    if kind == "rank":
        return backend.run("archive search", lambda s: wsh.rank(s, weights=weights, **args))
    if kind == "fetch":
        return backend.run("archive fetch", lambda s: ws.get_articles(s, args["ids"]))
    if kind == "dates":
        return backend.run(
            "archive timeline",
            lambda s: wsh.date_counts(s, args["node"], args["filters"], weights, args["bucket"], args["hidden"]),
        )
    if kind == "related":
        return backend.run(
            "archive related", lambda s: wsh.related_counts(s, args["node"], args["filters"], weights, args["hidden"])
        )
    if kind == "background":
        return backend.run("archive background", lambda s: wsh.background(s, args["keys"]))
    if kind == "info":
        st = index.stats()
        keys = backend.run("archive entities", wsh.entity_keys)
        return st, keys
    raise ValueError(f"unknown shard task {kind!r}")
