"""Writing to an archive: routing each article to its shard, moving it when its date changes."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from searchlib.archive.manifest import Manifest, read_manifest, write_manifest
from searchlib.archive.routing import shard_for
from searchlib.errors import ArchiveError, DocumentNotFoundError, IndexLockedError
from searchlib.models import Article
from searchlib.writer import Writer

if TYPE_CHECKING:
    from searchlib.archive.archive import Archive

__all__ = ["ArchiveWriter", "locate_hash"]


def locate_hash(m: Manifest, doc_id: str) -> str:
    """The shard an id lives in under hash sharding."""
    return shard_for(m, Article(date="2000-01-01", body="x", id=doc_id))


class ArchiveWriter:
    """Adds, updates and deletes articles across shards; each shard commits when the block ends.

    Holds the archive's write lock (``archive.lock``, an OS file lock) until commit or cancel.
    An update that changes an article's shard (its date moved to another period) is made in
    steps a reader never observes half-done: the manifest first names the old shard as the
    article's only home, the new copy is committed, the manifest names the new shard, the old
    copy is deleted, the manifest forgets the move. A shard whose commit fails is reported in
    an :class:`ArchiveError` after every other shard committed; the manifest stays consistent.
    """

    def __init__(self, archive: Archive, *, timeout: float) -> None:
        self._archive = archive
        self._lock_fd: int | None = _lock(archive.root, timeout)
        self._writers: dict[str, Writer] = {}
        self._placed: dict[str, str] = {}  # id -> shard it was written to in this writer
        self._moves: dict[str, str] = {}  # id -> shard holding its committed copy (to delete later)
        self._manifest = read_manifest(archive.root)
        self._new: set[str] = set()
        self._finish_moves(self._manifest)

    def _finish_moves(self, m: Manifest) -> None:
        """Complete moves a failed or interrupted writer left in the manifest."""
        if not m.moving:
            return
        for doc_id, home in m.moving.items():
            for name in m.shards:
                if name != home:
                    self._archive._shard(name).delete(doc_id)
        self._manifest = attrs.evolve(m, moving={}, generation=m.generation + 1)
        write_manifest(self._archive.root, self._manifest)

    def _writer(self, shard: str) -> Writer:
        if self._lock_fd is None:
            raise ArchiveError("this archive writer was already committed or cancelled", path=self._archive.root)
        w = self._writers.get(shard)
        if w is None:
            new = shard not in self._manifest.shards
            if new:
                self._new.add(shard)
            w = self._writers[shard] = self._archive._shard(shard, create=new).writer()
        return w

    def _locate(self, doc_id: str) -> str | None:
        """The shard holding the committed copy of ``doc_id`` (before this writer)."""
        m = self._manifest
        if m.scheme == "hash":
            name = locate_hash(m, doc_id)
            return name if self._archive._shard(name).get(doc_id) is not None else None
        for name in m.shards:
            if self._archive._shard(name).get(doc_id) is not None:
                return name
        return None

    def _write(self, article: Article, *, force: bool) -> str:
        target = shard_for(self._manifest, article)
        placed = self._placed.get(article.id)
        if placed is None:
            home = self._moves.get(article.id) or self._locate(article.id)
        else:
            home = None
            if placed != target:
                self._writer(placed).delete(article.id)
        status = self._writer(target)._write(article, force=force)
        if home is not None and home != target:
            self._moves[article.id] = home
            status = "updated"
        elif placed is not None:
            status = "updated"
        self._placed[article.id] = target
        return status

    def add(self, article: Article) -> None:
        """Add ``article`` to its shard, replacing (and moving, if need be) any copy with its id."""
        self._write(article, force=True)

    def update(self, article: Article) -> None:
        """Replace the article with ``article.id``; ``DocumentNotFoundError`` if there is none."""
        if article.id not in self._placed and self._locate(article.id) is None:
            raise DocumentNotFoundError(article.id)
        self.add(article)

    def delete(self, doc_id: str) -> bool:
        """Delete the article with ``doc_id``; returns whether there was one."""
        found = False
        placed = self._placed.pop(doc_id, None)
        if placed is not None:
            found = self._writer(placed).delete(doc_id) or True
        home = self._moves.pop(doc_id, None) or self._locate(doc_id)
        if home is not None:
            found = self._writer(home).delete(doc_id) or found
        return found

    def commit(self) -> None:
        """Commit every shard (moves as described in the class docstring); then release the lock."""
        if self._lock_fd is None:
            raise ArchiveError("this archive writer was already committed or cancelled", path=self._archive.root)
        root = self._archive.root
        try:
            m = self._manifest
            if self._new or self._moves:
                m = attrs.evolve(
                    m, shards=(*m.shards, *self._new), moving=dict(self._moves), generation=m.generation + 1
                )
                write_manifest(root, m)
            learned = any(w._definitions for w in self._writers.values())  # the shards' alias files change
            failed: dict[str, BaseException] = {}
            for name, w in self._writers.items():
                try:
                    w.commit()
                except Exception as exc:
                    failed[name] = exc
            moved = {
                doc_id: self._placed[doc_id]
                for doc_id, src in self._moves.items()
                if self._placed.get(doc_id) not in failed
            }
            if moved:
                m = attrs.evolve(m, moving=moved, generation=m.generation + 1)
                write_manifest(root, m)
                for src in sorted({self._moves[d] for d in moved}):
                    with self._archive._shard(src).writer() as w:
                        for doc_id in moved:
                            if self._moves[doc_id] == src:
                                w.delete(doc_id)
            if m.moving or learned:
                bumped = m.aliases_changed() if learned else attrs.evolve(m, generation=m.generation + 1)
                m = attrs.evolve(bumped, moving={})
                write_manifest(root, m)
            self._manifest = m
            if failed:
                names = ", ".join(sorted(failed))
                first = next(iter(failed.values()))
                raise ArchiveError(
                    f"shard(s) {names} failed to commit ({type(first).__name__}: {first}); "
                    "the other shards are committed and the manifest is consistent",
                    path=root,
                    shard=next(iter(sorted(failed))) if len(failed) == 1 else None,
                ) from first
        finally:
            self._release()

    def cancel(self) -> None:
        """Discard every change and release the lock."""
        if self._lock_fd is None:
            return
        for w in self._writers.values():
            w.cancel()
        self._release()

    def _release(self) -> None:
        for w in self._writers.values():
            if not w.closed:
                w.cancel()
        self._writers.clear()
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @property
    def closed(self) -> bool:
        return self._lock_fd is None

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_rest: object) -> None:
        if self._lock_fd is None:
            return
        if exc_type is None:
            self.commit()
        else:
            self.cancel()


def _lock(root: Path, timeout: float) -> int:
    fd = os.open(root / "archive.lock", os.O_CREAT | os.O_RDWR, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise IndexLockedError(f"another writer holds the archive {root}", path=root) from None
            time.sleep(0.05)
