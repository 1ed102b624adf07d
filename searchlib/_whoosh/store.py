"""Opening, creating, writing and reading Whoosh indexes, with errors translated at the boundary."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pickle
import shutil
import socket
import struct
import threading
import time
import traceback
import weakref
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import EmptyIndexError, Index
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.util.filelock import try_for

from searchlib._whoosh import schema as sch
from searchlib._whoosh.fastwrite import FastSegmentWriter
from searchlib.errors import (
    IncompatibleIndexError,
    IndexClosedError,
    IndexExistsError,
    IndexLockedError,
    IndexNotFoundError,
    IndexProblem,
    SearchlibError,
    StorageError,
)

if TYPE_CHECKING:
    from searchlib._whoosh.columnar import SegmentColumns
    from searchlib._whoosh.segwriter import BackendWriter

MARKER = "searchlib.json"
HOLDER = "WRITER.json"
T = TypeVar("T")


@contextlib.contextmanager
def translate_os_errors(operation: str, path: Path | None) -> Iterator[None]:
    """Turn an ``OSError`` raised by Whoosh or the OS into a ``StorageError`` naming what failed."""
    try:
        yield
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        where = exc.filename or path or "<memory>"
        hint = " (disk full)" if exc.errno == errno.ENOSPC else ""
        raise StorageError(f"{operation} failed on {where}: {reason}{hint}", path=path, operation=operation) from exc


_READ_FAILURES: tuple[type[BaseException], ...] = (
    TermNotFound,
    zlib.error,
    pickle.UnpicklingError,
    struct.error,
    EOFError,
    ValueError,
    KeyError,
    IndexError,
)
"""What Whoosh raises when the files under a reader are not what it expects (corruption)."""


def translate_read_errors(operation: str, path: Path | None) -> _ReadErrors:
    """Like :func:`translate_os_errors`, and a damaged index's raw errors become ``IndexProblem``.

    So does a ``NotImplementedError`` (a read the backend lacks), with where it was raised.
    A class, not a generator: every search enters it once, and two nested generator-based
    context managers cost ~3-7 us a read, a few percent of a rare word's whole search.
    """
    return _ReadErrors(operation, path)


class _ReadErrors:
    __slots__ = ("operation", "path")

    def __init__(self, operation: str, path: Path | None) -> None:
        self.operation = operation
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> Literal[False]:
        if exc is None:
            return False
        translated = _read_error(exc, self.operation, self.path)
        if translated is None:
            return False
        raise translated from exc


def _read_error(exc: BaseException, operation: str, path: Path | None) -> SearchlibError | None:
    """The searchlib error ``exc`` raised while reading becomes, or ``None`` to let it through."""
    if isinstance(exc, OSError):
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        where = exc.filename or path or "<memory>"
        hint = " (disk full)" if exc.errno == errno.ENOSPC else ""
        return StorageError(f"{operation} failed on {where}: {reason}{hint}", path=path, operation=operation)
    if isinstance(exc, SearchlibError) or not isinstance(exc, Exception):
        return None
    if isinstance(exc, NotImplementedError):
        # A read the backend lacks (Whoosh's EmptyReader has no columns, say): a bug, not damage.
        return IndexProblem(
            f"{operation} failed reading the index at {path or '<memory>'} (NotImplementedError in {_raised_in(exc)}): "
            "the storage backend does not implement a read searchlib asked of it; please report this bug",
            path=path,
        )
    # Whoosh also raises its own classes and bare Exception ("Block tag error").
    if not isinstance(exc, _READ_FAILURES) and type(exc) is not Exception and not _from_whoosh(exc):
        return None
    where = path or "<memory>"
    return IndexProblem(
        f"{operation} failed reading the index at {where} ({type(exc).__name__}: {exc}); "
        "`searchlib check` reports what is damaged",
        path=path,
    )


def _raised_in(exc: BaseException) -> str:
    """Where ``exc`` was raised: ``function (package/module.py:line)``."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "an unknown place"
    last = frames[-1]
    where = "/".join(Path(last.filename).parts[-2:])
    return f"{last.name} ({where}:{last.lineno})"


def _from_whoosh(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] == "whoosh"


def _holder_info(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        info = json.loads((path / HOLDER).read_text("utf-8"))
        return f"pid {info['pid']} on {info['host']} since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return None


FSYNC = True
"""Sync commits to disk. Only the benchmarks turn this off, to measure what durability costs."""


def fsync_dir(path: str) -> None:
    """Persist a directory's entries (new and renamed files) on POSIX systems."""
    if not FSYNC:
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DurableStorage(FileStorage):  # type: ignore[misc]
    """A FileStorage that fsyncs every file it writes and its directory before a commit lands.

    Whoosh commits by writing segment files, then a new table of contents under a temporary
    name that it renames into place. Syncing each file on close and the directory around the
    rename means an acknowledged commit survives a power loss, not only a crash.
    """

    def create_file(self, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any) -> Any:
        chained = kwargs.pop("onclose", None)

        def sync_then_close(sfile: Any) -> None:
            if chained is not None:
                chained(sfile)
            sfile.file.flush()
            if FSYNC:
                os.fsync(sfile.file.fileno())

        return super().create_file(name, excl=excl, mode=mode, onclose=sync_then_close, **kwargs)

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        fsync_dir(self.folder)
        super().rename_file(oldname, newname, safe=safe)
        fsync_dir(self.folder)


class _RamStorage(RamStorage):  # type: ignore[misc]
    """RamStorage whose temporary files stay in memory too.

    Whoosh puts an in-memory index's temporary files in ``<tmpdir>/<name>.tmp``: a folder
    shared by every in-memory writer (two writers delete each other's files), and one that its
    per-document writer never removes (every segment written left an empty folder behind).
    """

    def temp_storage(self, name: str | None = None) -> RamStorage:
        return RamStorage()


SETTLED_NS = 5_000_000_000
"""How old (ns) the index folder's modification time must be for a listing of it to be reused
(longer than any file system's timestamp granularity: FAT's is 2 s)."""
READ_ATTEMPTS = 5
"""Reads retried from the next commit when a concurrent commit removed files under them."""
IDLE_SEARCHERS = 8
"""Searchers kept open between queries per index; threads beyond this open (and close) their own."""


class _ProcessLocks:
    """One in-process write lock per index, in front of the file lock.

    Whoosh's file lock tells processes apart; threads of one process (or two ``Index``
    objects opened on one path) must queue here first, with the same timeout, so they are
    serialised the same way. Keyed by the resolved path; an in-memory index has its own.
    """

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.locks: dict[object, threading.Lock] = {}

    def get(self, key: object) -> threading.Lock:
        with self.guard:
            return self.locks.setdefault(key, threading.Lock())


_WRITE_LOCKS = _ProcessLocks()
_BACKENDS: weakref.WeakSet[Backend] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked child starts with fresh locks and no searchers inherited from the parent.

    Locks held by parent threads would never be released in the child, and inherited file
    handles share their offsets with the parent, so the child opens its own.
    """
    global _WRITE_LOCKS
    _WRITE_LOCKS = _ProcessLocks()
    for backend in list(_BACKENDS):
        backend._forget_searchers()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Backend:
    """One Whoosh index, on disk or in memory, and a pool of searchers that follow commits.

    Whoosh searchers are not thread-safe (they share file positions and cached posting
    readers), so each read checks a searcher out of the pool, uses it alone, and puts it
    back; a checked-out searcher is brought to the latest commit first, so one read sees
    one whole commit. Writers queue on an in-process lock, then on the file lock.
    """

    def __init__(self, ix: Index, path: Path | None) -> None:
        self._ix: Index | None = ix
        self.path = path
        self._pool_lock = threading.Lock()
        self._idle: list[Searcher] = []
        self._write_key = str(path.resolve()) if path is not None else None
        self._own_write_lock = threading.Lock()  # in memory: no path to share it through
        self._listing: tuple[int, int] | None = None  # (folder mtime, latest generation) when settled
        self.memory_columns: dict[str, SegmentColumns] = {}
        """In memory: each committed segment's arrays, by segment id (on disk they are sidecars)."""
        self.term_hashes: dict[tuple[str, int, str], Any] = {}
        """Writers' per-segment term hashes (:mod:`.termsets`), by segment id, size and field."""
        _BACKENDS.add(self)

    def _forget_searchers(self) -> None:
        """Drop pooled searchers without closing them (after a fork: they belong to the parent)."""
        self._pool_lock = threading.Lock()
        self._own_write_lock = threading.Lock()
        self._idle = []

    # --- lifecycle ----------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path | None, *, overwrite: bool = False) -> Backend:
        schema = sch.build_schema()
        if path is None:
            return cls(_RamStorage().create_index(schema), None)
        with translate_os_errors("create index", path):
            if (path / MARKER).exists() or whoosh_index.exists_in(str(path)):
                if not overwrite:
                    raise IndexExistsError(
                        f"an index already exists at {path} (pass overwrite=True to replace it)", path=path
                    )
                shutil.rmtree(path)
            elif path.is_dir() and any(path.iterdir()):
                # Not an index: never write index files among (or delete) someone's files.
                raise IndexProblem(
                    f"{path} is a folder that is not empty and not an index; refusing to create an index "
                    "there (give an empty or new folder; did you swap the index and the articles?)",
                    path=path,
                )
            path.mkdir(parents=True, exist_ok=True)
            ix = DurableStorage(str(path)).create_index(schema)
            marker = {"format": sch.FORMAT_VERSION, "schema": sch.schema_signature(schema)}
            tmp = path / (MARKER + ".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(json.dumps(marker, indent=2) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path / MARKER)
            fsync_dir(str(path))
        return cls(ix, path)

    @classmethod
    def open(cls, path: Path) -> Backend:
        if not path.is_dir():
            raise IndexNotFoundError(f"no index at {path}: the directory does not exist", path=path)
        with translate_os_errors("open index", path):
            marker_path = path / MARKER
            if not marker_path.exists():
                if whoosh_index.exists_in(str(path)):
                    raise IncompatibleIndexError(
                        f"{path} holds a Whoosh index that searchlib did not build; rebuild it with searchlib",
                        path=path,
                    )
                raise IndexNotFoundError(f"no searchlib index at {path}", path=path)
            try:
                marker = json.loads(marker_path.read_text("utf-8"))
                version = marker["format"]
            except (ValueError, KeyError, TypeError) as exc:
                raise IncompatibleIndexError(f"{marker_path} is unreadable: {exc}", path=path) from exc
            if version != sch.FORMAT_VERSION:
                if version in sch.UPGRADABLE_FORMATS:
                    advice = f"upgrade it (it keeps its articles and entities) with: searchlib upgrade {path}"
                elif isinstance(version, int) and version > sch.FORMAT_VERSION:
                    advice = "open it with a newer searchlib"
                else:
                    advice = "rebuild the index from the articles"
                raise IncompatibleIndexError(
                    f"{path} was built with index format {version}; this searchlib reads format "
                    f"{sch.FORMAT_VERSION}: {advice}",
                    path=path,
                )
            try:
                ix = DurableStorage(str(path)).open_index()
            except EmptyIndexError as exc:
                raise IndexNotFoundError(f"{path} has no committed index data", path=path) from exc
            if sch.schema_signature(ix.schema) != sch.schema_signature(sch.build_schema()):
                raise IncompatibleIndexError(
                    f"{path} has a different schema than this searchlib expects; rebuild the index", path=path
                )
        return cls(ix, path)

    @property
    def ix(self) -> Index:
        if self._ix is None:
            raise IndexClosedError("the index is closed", path=self.path)
        return self._ix

    def close(self) -> None:
        with self._pool_lock:
            idle, self._idle = self._idle, []
            ix, self._ix = self._ix, None
        for searcher in idle:
            searcher.close()
        if ix is not None:
            ix.close()

    # --- reading ------------------------------------------------------------------------

    def _checkout(self) -> Searcher:
        """A searcher at the latest commit for this thread alone (from the pool, or a new one)."""
        with self._pool_lock:
            ix = self.ix
            searcher = self._idle.pop() if self._idle else None
        if searcher is None:
            return ix.searcher()  # for stored fields and columns: Whoosh scores nothing
        try:
            if searcher.reader().generation() == self._latest_generation():
                return searcher
            return searcher.refresh()  # closes what it replaces
        except Exception:
            # Reusing the old readers is only a saving: when it fails (a commit from another
            # process merged files away meanwhile, and Whoosh's reuse closed a reader twice:
            # "ReaderClosed: Reader already closed"), a searcher opened afresh reads the same commit.
            with contextlib.suppress(Exception):
                searcher.close()
            return ix.searcher()
        except BaseException:
            with contextlib.suppress(Exception):
                searcher.close()
            raise

    def _checkin(self, searcher: Searcher) -> None:
        with self._pool_lock:
            if self._ix is not None and len(self._idle) < IDLE_SEARCHERS:
                self._idle.append(searcher)
                return
        searcher.close()

    def run(self, operation: str, fn: Callable[[Searcher], T]) -> T:
        """Call ``fn`` with a searcher at one commit that no other thread uses meanwhile.

        OS errors become ``StorageError``; anything else Whoosh raises while reading (a
        file changed under it, a corrupt segment) becomes ``IndexProblem``.
        """
        with translate_read_errors(operation, self.path):
            for attempt in range(1, READ_ATTEMPTS + 1):
                searcher = self._checkout()
                keep = True
                try:
                    return fn(searcher)
                except Exception as exc:
                    # Whoosh opens some files (stored fields, columns) on first use; a commit
                    # that merged segments meanwhile may have deleted them, which surfaces as
                    # anything from OSError to "TypeError: 'NoneType' object is not
                    # subscriptable" (a column it could not open). Only when a commit landed
                    # meanwhile is the read run again, on the new commit.
                    if isinstance(exc, SearchlibError) or attempt == READ_ATTEMPTS or self._current(searcher):
                        raise
                    keep = False
                finally:
                    if keep:
                        self._checkin(searcher)
                    else:
                        with contextlib.suppress(Exception):
                            searcher.close()
            raise AssertionError("unreachable")  # pragma: no cover

    def _current(self, searcher: Searcher) -> bool:
        try:
            return bool(searcher.up_to_date())
        except Exception:
            return False

    def size_bytes(self) -> int:
        if self.path is None:
            storage = self.ix.storage
            return sum(storage.file_length(name) for name in storage.list())
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def generation(self) -> int:
        return int(self.ix.latest_generation())

    def _latest_generation(self) -> int:
        """The latest commit, remembered from the last listing of the folder while it is unchanged.

        Whoosh finds the latest commit by listing the index folder (a quarter of a simple
        query's time). A commit renames its table of contents into the folder, which changes
        the folder's modification time; a listing is reused while that time is the one seen
        just before the listing, and only when it was then already ``SETTLED_NS`` old -- so a
        second change within the file system's timestamp granularity cannot go unnoticed.
        """
        if self.path is None:
            return int(self.ix.latest_generation())
        try:
            before = os.stat(self.path).st_mtime_ns
        except OSError:
            return int(self.ix.latest_generation())
        seen = self._listing
        if seen is not None and seen[0] == before:
            return seen[1]
        generation = int(self.ix.latest_generation())
        if before < time.time_ns() - SETTLED_NS:
            self._listing = (before, generation)
        return generation

    def generation_of(self, searcher: Searcher) -> int:
        """The commit ``searcher`` reads (the latest one for an index with no segments)."""
        generation = searcher.reader().generation()
        return int(generation) if isinstance(generation, int) and generation >= 0 else self.generation()

    # --- writing ------------------------------------------------------------------------

    def segment_writer(self) -> BackendWriter:
        """A writer for one new segment, without the lock, for a worker of a parallel ingest.

        The lock-holding parent adds the segment to the index at its commit. Its temporary
        files go to a folder of its own (Whoosh would share ``MAIN.tmp`` with the parent).
        """
        storage = self.ix.storage
        private = self.path / f"MAIN.w{os.getpid()}.tmp" if self.path is not None else None
        with translate_os_errors("open worker writer", self.path):
            if private is not None:
                storage.temp_storage = lambda name=None: FileStorage(str(private)).create()
            try:
                raw = FastSegmentWriter(self.ix, _lk=False, compound=False)
            finally:
                if private is not None:
                    del storage.temp_storage
            from searchlib._whoosh.segwriter import BackendWriter  # it imports this module

            return BackendWriter(self, raw, None)

    def writer(self, *, timeout: float) -> BackendWriter:
        """A writer holding this process's lock for the index, then the file lock (``timeout`` for both)."""
        deadline = time.monotonic() + max(timeout, 0.0)
        local = _WRITE_LOCKS.get(self._write_key) if self._write_key is not None else self._own_write_lock
        if not (local.acquire(timeout=timeout) if timeout > 0 else local.acquire(blocking=False)):
            raise self._locked_error(timeout)
        try:
            writer = self._file_locked_writer(max(deadline - time.monotonic(), 0.0), timeout)
        except BaseException:
            local.release()
            raise
        writer._local_lock = local
        return writer

    def _locked_error(self, timeout: float) -> IndexLockedError:
        holder = _holder_info(self.path)
        who = f"held by {holder}" if holder else "held by another writer"
        waited = f" after waiting {timeout:g} s" if timeout > 0 else ""
        return IndexLockedError(
            f"the index at {self.path or '<memory>'} is locked for writing ({who}){waited}; "
            "pass a timeout to wait for it",
            path=self.path,
            holder=holder,
        )

    def _file_locked_writer(self, remaining: float, timeout: float) -> BackendWriter:
        with translate_os_errors("open writer", self.path):
            # Take the lock ourselves so that a failure while Whoosh sets up the new segment
            # (a disk fault) cannot leave it held: Whoosh would keep it until the process dies.
            lock = self.ix.lock("WRITELOCK")
            if not try_for(lock.acquire, timeout=remaining, delay=0.05):
                raise self._locked_error(timeout)
            try:
                raw = FastSegmentWriter(self.ix, _lk=False, compound=False)
            except BaseException:
                lock.release()
                raise
            from searchlib._whoosh.segwriter import BackendWriter  # it imports this module

            try:
                writer = BackendWriter(self, raw, lock)
            except BaseException:
                with contextlib.suppress(Exception):
                    raw.cancel()
                lock.release()
                raise
        if self.path is not None:
            with contextlib.suppress(OSError):
                info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S")}
                (self.path / HOLDER).write_text(json.dumps(info), "utf-8")
        return writer
