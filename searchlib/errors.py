"""The exceptions searchlib raises: one base class, a small tree, context on every error.

Backend (Whoosh, OS) exceptions are translated at the boundary into these, carrying the
path, line or query position that a user needs to fix the problem::

    SearchlibError
    ├── IngestError              a record could not be read (strict mode); .path, .line
    ├── QuerySyntaxError         a query string is malformed; .query, .position, .reason
    ├── IndexProblem             base for problems with an index on disk; .path
    │   ├── IndexNotFoundError       no index at the path
    │   ├── IndexExistsError         create() found an index already there
    │   ├── IncompatibleIndexError   built by another schema / format version
    │   ├── IndexLockedError         another writer holds the lock; .holder
    │   ├── IndexClosedError         the Index or Writer was used after close
    │   ├── StorageError             an OS error (disk full, I/O, permissions); .operation
    │   └── ArchiveError             a shard of an archive failed (a worker died, a build failed); .shard
    └── DocumentNotFoundError    update() of an id that is not in the index; .id
"""

from __future__ import annotations

from pathlib import Path

from searchlib._controls import display_width, neutralise_controls

__all__ = [
    "ArchiveError",
    "DocumentNotFoundError",
    "IncompatibleIndexError",
    "IndexClosedError",
    "IndexExistsError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexProblem",
    "IngestError",
    "QuerySyntaxError",
    "SearchlibError",
    "StorageError",
]


class SearchlibError(Exception):
    """Base class of every exception searchlib raises on purpose.

    Errors pickle with their context (keyword-only fields included), so one raised in a
    worker process or on a Dask worker reaches the caller whole (see ``searchlib.Archive``).
    """

    def __reduce__(self) -> tuple[object, ...]:
        return _rebuild, (type(self), self.args, dict(self.__dict__))


def _rebuild(cls: type[SearchlibError], args: tuple[object, ...], state: dict[str, object]) -> SearchlibError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class IngestError(SearchlibError):
    """A record in an input file could not be read (raised in strict mode).

    ``path`` and ``line`` locate the record (``line`` is 1-based, ``None`` when unknown).
    """

    def __init__(self, reason: str, *, path: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        where = path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {reason}")


class QuerySyntaxError(SearchlibError):
    """A query string is malformed. ``position`` is the 0-based character offset."""

    def __init__(self, reason: str, *, query: str, position: int) -> None:
        self.reason = reason
        self.query = query
        self.position = position
        super().__init__(f"{reason} at position {position}")

    def pointer(self, *, width: int = 100) -> str:
        """Two lines: the query and a caret under the offending position.

        Control characters are shown as symbols (never echoed raw), lone surrogates as ``�``,
        and the caret is aligned for wide and combining characters; a long query is shown
        as the ``width`` characters around the position.
        """
        query, position = self.query, min(self.position, len(self.query))
        start = max(0, min(position - width // 2, len(query) - width))
        shown = query[start : start + width]
        prefix = "…" if start > 0 else ""
        suffix = "…" if start + len(shown) < len(query) else ""
        shown = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in shown)
        shown = neutralise_controls(shown.replace("\n", " ").replace("\t", " "))
        column = len(prefix) + display_width(shown[: position - start])
        return f"{prefix}{shown}{suffix}\n{' ' * column}^"


class IndexProblem(SearchlibError):
    """Base class for problems with an index; ``path`` is its directory (None in memory)."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = None if path is None else Path(path)
        super().__init__(message)


class IndexNotFoundError(IndexProblem):
    """There is no searchlib index at the path."""


class IndexExistsError(IndexProblem):
    """``Index.create`` found an index already at the path (pass ``overwrite=True``)."""


class IncompatibleIndexError(IndexProblem):
    """The index was built with another schema or format version; rebuild it."""


class IndexLockedError(IndexProblem):
    """Another writer holds the index's write lock. ``holder`` describes it when known."""

    def __init__(self, message: str, *, path: Path | str | None = None, holder: str | None = None) -> None:
        self.holder = holder
        super().__init__(message, path=path)


class IndexClosedError(IndexProblem):
    """The Index or Writer was used after it was closed."""


class StorageError(IndexProblem):
    """An operating-system error while reading or writing the index (disk full, I/O, permissions)."""

    def __init__(self, message: str, *, path: Path | str | None = None, operation: str) -> None:
        self.operation = operation
        super().__init__(message, path=path)


class ArchiveError(IndexProblem):
    """A shard of an archive could not answer or be written; ``shard`` names it (None: several).

    Never a partial answer: a query that loses a shard raises this instead of returning the
    others' hits.
    """

    def __init__(self, message: str, *, path: Path | str | None = None, shard: str | None = None) -> None:
        self.shard = shard
        super().__init__(message, path=path)


class DocumentNotFoundError(SearchlibError):
    """``Writer.update`` was given an article whose id is not in the index."""

    def __init__(self, doc_id: str) -> None:
        self.id = doc_id
        super().__init__(f"no article with id {doc_id!r} in the index")
