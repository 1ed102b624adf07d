"""Upgrading an index of an older format: rebuild it from its stored articles, then swap it in.

Format 8 changed analysis (accent folding, :mod:`searchlib.analysis`), so the terms of a
format-7 index are not the terms queries now look up. Every format-7 index stores what
is needed to rebuild it without loss: each article's text, its final entities (given or
extracted: they are kept, not re-extracted), its checksum, its near-duplicate sketch and
group (kept as they are). The rebuild goes to a sibling folder; the old index is never
modified, and stays readable by the searchlib that built it, until the swap.

The steps, each a point a crash can stop at (``_step`` names them for fault injection)::

    locked     the old index's write lock is held (no writer can change it meanwhile)
    checked    free disk space for a second copy was checked
    built      the new index is complete in ``.NAME.upgrading`` (files and folder fsynced)
    ready      renamed to ``.NAME.upgraded`` (complete: only a complete build has this name)
    aside      the old index renamed to ``.NAME.pre-upgrade``: the upgrade is committed
    swapped    ``.NAME.upgraded`` renamed to ``NAME``
    cleaned    ``.NAME.pre-upgrade`` removed

:func:`recover` finishes (or undoes) an upgrade that stopped between steps: while the old
index is still at ``NAME`` it wins (a writer of the old searchlib may have changed it since)
and any build is removed; when ``NAME`` is missing the complete build moves in. ``Index.open``
and :func:`upgrade` run it first, so a crash at any step leaves the old or the new index
whole at ``NAME``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoosh.index import EmptyIndexError

from searchlib._whoosh import schema as sch
from searchlib._whoosh import sidecar, store
from searchlib._whoosh.parallel import WorkerPool
from searchlib._whoosh.reanalyse import StoredRow, stored_rows
from searchlib._whoosh.segwriter import BackendWriter
from searchlib._whoosh.store import MARKER, Backend, DurableStorage, fsync_dir, translate_os_errors
from searchlib.entities import NoExtractor
from searchlib.errors import IncompatibleIndexError, IndexLockedError, IndexNotFoundError, StorageError

__all__ = ["UPGRADABLE", "recover", "rewrite_sidecars", "upgrade"]

UPGRADABLE = sch.UPGRADABLE_FORMATS

BATCH = 10_000
"""Articles per commit while rebuilding (bounds the writer's memory)."""

SPACE_FACTOR = 1.25
"""Free space needed, as a multiple of the old index's size (the new one holds columnar arrays too)."""

AUTO_PARALLEL_BYTES = 20 * 1024 * 1024
"""``workers=None`` rebuilds an index larger than this with one worker per core (up to 4)."""

ALIASES = "aliases.json"


def _siblings(path: Path) -> tuple[Path, Path, Path]:
    """(partial build, complete build, old index set aside) next to ``path``."""
    return (
        path.with_name(f".{path.name}.upgrading"),
        path.with_name(f".{path.name}.upgraded"),
        path.with_name(f".{path.name}.pre-upgrade"),
    )


def _step(name: str) -> None:
    """A named point of the upgrade; tests replace this to inject faults."""


def read_format(path: Path) -> int:
    """The format version in the marker of the index at ``path``."""
    marker = path / MARKER
    if not path.is_dir() or not marker.exists():
        raise IndexNotFoundError(f"no searchlib index at {path}", path=path)
    try:
        return int(json.loads(marker.read_text("utf-8"))["format"])
    except (ValueError, KeyError, TypeError) as exc:
        raise IncompatibleIndexError(f"{marker} is unreadable: {exc}", path=path) from exc


def recover(path: Path) -> None:
    """Finish or undo an upgrade of ``path`` that stopped part-way (see the module docstring).

    Does nothing while an upgrade is running: the upgrading process holds the old index's
    write lock (which moves with the folder when it is set aside) until the swap is done.
    """
    try:
        path = path.resolve()  # (the folder a symbolic link or "." names)
        if not path.name:
            return  # the root folder: no siblings
        partial, ready, aside = _siblings(path)
        if not (partial.exists() or ready.exists() or aside.exists()):
            return
    except (OSError, RuntimeError):  # (a symbolic link loop, an unreadable parent)
        return  # nothing to recover that can be reached: opening reports the path's problem
    with translate_os_errors("recover an interrupted upgrade", path):
        held = path if path.is_dir() else aside if aside.is_dir() else None
        lock = DurableStorage(str(held)).lock("MAIN_WRITELOCK") if held is not None else None
        if lock is not None and not lock.acquire(blocking=False):
            return  # an upgrade (or a writer of the old index) is at work
        try:
            if not path.exists():
                if ready.exists():  # committed: the new index moves in
                    os.replace(ready, path)
                elif aside.exists():  # (cannot happen in order, but never lose the old index)
                    os.replace(aside, path)
                fsync_dir(str(path.parent))
            for leftover in (partial, ready, aside):
                if leftover.exists():
                    shutil.rmtree(leftover)
            fsync_dir(str(path.parent))
        finally:
            if lock is not None:
                with contextlib.suppress(Exception):
                    lock.release()


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _check_space(path: Path, size: int) -> None:
    needed = int(size * SPACE_FACTOR) + (1 << 20)
    free = shutil.disk_usage(path.parent).free
    if free < needed:
        raise StorageError(
            f"not enough free disk space to upgrade {path}: the rebuilt copy needs about "
            f"{needed / 1e6:,.1f} MB next to it and {path.parent} has {free / 1e6:,.1f} MB free",
            path=path,
            operation="upgrade",
        )


def _stored(reader: Any) -> Iterator[StoredRow]:
    """(article with its entities, checksum, sketch, group, extracted) of every live document."""
    return stored_rows(reader, reader.all_doc_ids())


def _fsync_tree(folder: Path) -> None:
    for file in folder.iterdir():
        if file.is_file():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(str(folder))


def _build(old: Path, new: Path, workers: int) -> int:
    """Write every live article of the index at ``old`` into a new index at ``new``; returns the count.

    With ``workers`` > 1, worker processes analyse and write segments (as parallel ingest's
    do) while this process reads the old index and commits.
    """
    count = 0
    try:
        source = DurableStorage(str(old)).open_index()
    except EmptyIndexError as exc:
        raise IndexNotFoundError(f"{old} has no committed index data", path=old) from exc
    target = Backend.create(new)
    pool = WorkerPool(new, NoExtractor(), workers) if workers > 1 else None
    try:
        with source.reader() as reader:
            writer = target.writer(timeout=0.0)
            try:
                for row in _stored(reader):
                    if pool is not None:
                        pool.send_restored(row)
                    else:
                        article, digest, sketch, group, extracted = row
                        entities = article.entities or ()
                        writer.restore(article, entities, digest, sketch=sketch, group=group, extracted=extracted)
                    count += 1
                    if count % BATCH == 0:
                        _commit(writer, pool)
                        writer = target.writer(timeout=0.0)
                _commit(writer, pool, optimize=count <= BATCH)
            except BaseException:
                if not writer.closed:
                    writer.cancel()
                raise
    finally:
        if pool is not None:
            pool.close()
        target.close()
        source.close()
    if (old / ALIASES).exists():
        shutil.copy2(old / ALIASES, new / ALIASES)
    _fsync_tree(new)
    return count


def _commit(writer: BackendWriter, pool: WorkerPool | None, *, optimize: bool = False) -> None:
    if pool is None:
        writer.commit(optimize=optimize)
    else:
        writer.commit_with(pool.finish(), set())


def rewrite_sidecars(path: Path, segment_ids: set[str]) -> int:
    """Rewrite the sidecars of ``segment_ids`` older than the current version; returns how many.

    Same arrays, current layout (version 5 looks terms up in the mapped bytes: see
    :class:`.terms.TermDict`), so an index built by older code gets fast first queries
    without a rebuild. Each file is replaced by a rename: open readers keep what they mapped.
    The caller holds the write lock (no writer merges the segments away meanwhile).
    """
    outdated = sidecar.outdated(path, segment_ids)
    if not outdated:
        return 0
    ix = DurableStorage(str(path)).open_index()
    try:
        with ix.reader() as reader:
            leaves = {
                leaf._segment.segment_id(): leaf for leaf, _ in reader.leaf_readers() if hasattr(leaf, "_segment")
            }
            done = sum(
                sidecar.rewrite(path, sid, leaves[sid], durable=store.FSYNC) for sid in outdated if sid in leaves
            )
    finally:
        ix.close()
    if done:
        fsync_dir(str(path))
    return done


def _live_segments(storage: DurableStorage) -> set[str]:
    try:
        ix = storage.open_index()
    except EmptyIndexError:
        return set()
    try:
        return {segment.segment_id() for segment in ix._segments()}
    finally:
        ix.close()


def _upgrade_sidecars(path: Path) -> int:
    """:func:`rewrite_sidecars` for every live segment of the current-format index at ``path``."""
    with translate_os_errors("upgrade index", path):
        storage = DurableStorage(str(path))
        if not sidecar.outdated(path, _live_segments(storage)):
            return 0
        lock = storage.lock("MAIN_WRITELOCK")
        if not lock.acquire(blocking=False):
            raise IndexLockedError(
                f"the index at {path} is locked for writing; upgrade its sidecars when no writer is open",
                path=path,
                holder=None,
            )
        try:
            return rewrite_sidecars(path, _live_segments(storage))  # (the commit current under the lock)
        finally:
            with contextlib.suppress(Exception):
                lock.release()


def upgrade(path: Path, *, workers: int | None = 1) -> tuple[int, int, int]:
    """Bring the index at ``path`` to the current format; returns (old format, articles, sidecars).

    An older format is rebuilt (``articles`` counts the articles rebuilt) with ``workers``
    processes (None: one per core, up to 4, for an index over ``AUTO_PARALLEL_BYTES``). An
    index already current is not rebuilt (``articles`` is -1); its segments' sidecars written
    by older code are rewritten in the current version (``sidecars`` counts them).
    Raises IndexLockedError while a writer holds the index, StorageError when the disk lacks
    room for a second copy, IncompatibleIndexError for a format that cannot be upgraded (a
    newer one, or one without stored entities).
    """
    path = path.resolve()  # a symbolic link keeps naming the upgraded folder; "." has a name
    recover(path)
    version = read_format(path)
    if version == sch.FORMAT_VERSION:
        return version, -1, _upgrade_sidecars(path)
    if version not in UPGRADABLE:
        newer = version > sch.FORMAT_VERSION
        raise IncompatibleIndexError(
            f"{path} has index format {version}, which this searchlib (format {sch.FORMAT_VERSION}) "
            + ("cannot read: use a newer searchlib" if newer else "cannot upgrade: re-index the articles"),
            path=path,
        )
    partial, ready, aside = _siblings(path)
    with translate_os_errors("upgrade index", path):
        lock = DurableStorage(str(path)).lock("MAIN_WRITELOCK")
        if not lock.acquire(blocking=False):
            raise IndexLockedError(
                f"the index at {path} is locked for writing; upgrade it when no writer is open", path=path, holder=None
            )
        try:
            _step("locked")
            size = _size(path)  # (once: it decides both the workers and the space needed)
            if workers is None:
                workers = min(os.cpu_count() or 1, 4) if size > AUTO_PARALLEL_BYTES else 1
            _check_space(path, size)
            _step("checked")
            try:
                count = _build(path, partial, workers)
                _step("built")
            except Exception:
                with contextlib.suppress(OSError):
                    shutil.rmtree(partial)
                raise
            os.replace(partial, ready)
            fsync_dir(str(path.parent))
            _step("ready")
            os.replace(path, aside)
            fsync_dir(str(path.parent))
            _step("aside")
            os.replace(ready, path)
            fsync_dir(str(path.parent))
            _step("swapped")
        finally:
            with contextlib.suppress(Exception):
                lock.release()
        shutil.rmtree(aside, ignore_errors=True)  # (a concurrent recover may have removed it already)
        fsync_dir(str(path.parent))
        _step("cleaned")
    return version, count, 0
