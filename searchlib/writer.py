"""Writers: add, update and delete articles inside one atomic, lock-holding transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from searchlib._typecheck import typed
from searchlib._whoosh import schema as sch
from searchlib._whoosh.parallel import WorkerPool
from searchlib._whoosh.segwriter import BackendWriter
from searchlib.aliases import learn_from_text
from searchlib.entities import article_text, entities_for
from searchlib.errors import DocumentNotFoundError, IndexClosedError
from searchlib.models import Article, Entity

if TYPE_CHECKING:
    from searchlib._whoosh.background import BackgroundMerges
    from searchlib.index import Index

__all__ = ["Writer"]


class Writer:
    """Adds, updates and deletes articles; nothing is visible until :meth:`commit`.

    Use as a context manager: the block commits when it ends normally and cancels (writes
    nothing) when it raises. The index's write lock is held from creation to commit/cancel.
    """

    def __init__(self, index: Index, raw: BackendWriter) -> None:
        self._index = index
        self._raw: BackendWriter | None = raw
        self._definitions: Counter[tuple[str, str]] = Counter()  # acronym definitions seen, for the alias table

    def _writer(self) -> BackendWriter:
        if self._raw is None:
            raise IndexClosedError("this writer was already committed or cancelled", path=self._index.path)
        return self._raw

    def _entities(self, article: Article) -> tuple[Entity, ...]:
        """Entities given in the input as given; else extracted from this article alone."""
        self._learn(article)
        return entities_for(article.title, article.body, article.entities, self._index.extractor)

    def _learn(self, article: Article) -> None:
        """Count the acronyms ``article`` defines ("Long Name (LN)") for the index's alias table."""
        if article.entities is None:
            self._definitions.update(learn_from_text(article_text(article.title, article.body)))

    @typed
    def add(self, article: Article) -> None:
        """Add ``article``, replacing any article with the same id (added earlier or in this writer)."""
        self._write(article, force=True)

    @typed
    def add_many(self, articles: Iterable[Article]) -> int:
        """Add each article in turn; returns how many were added."""
        count = 0
        for article in articles:
            self.add(article)
            count += 1
        return count

    @typed
    def update(self, article: Article) -> None:
        """Replace the article with ``article.id``; raises ``DocumentNotFoundError`` if there is none."""
        if not self._writer().contains(article.id):
            raise DocumentNotFoundError(article.id)
        self.add(article)

    @typed
    def delete(self, doc_id: str) -> bool:
        """Delete the article with ``doc_id``; returns whether there was one."""
        return self._writer().delete(doc_id)

    def _write(self, article: Article, *, force: bool) -> Literal["added", "updated", "unchanged"]:
        raw = self._writer()
        digest = sch.checksum(article)
        existing = raw.stored_checksum(article.id)
        if not force and existing == digest:
            return "unchanged"
        present = existing is not None or raw.contains(article.id)
        raw.upsert(article, self._entities(article), digest)
        return "updated" if present else "added"

    def _route(
        self, article: Article, pool: WorkerPool, sent: dict[str, bool]
    ) -> Literal["added", "updated", "unchanged"]:
        """Parallel ingest: skip an unchanged article or hand it to a worker.

        ``sent`` maps each id handed out since the last commit to whether a committed copy
        exists (only those need deleting at the commit).
        """
        raw = self._writer()
        existing = raw.stored_checksum(article.id)
        digest = sch.checksum(article)
        if existing == digest:
            return "unchanged"
        status: Literal["added", "updated"] = "updated" if existing is not None or article.id in sent else "added"
        sent[article.id] = sent.get(article.id, False) or existing is not None
        self._learn(article)
        pool.send(article, digest)
        return status

    def _commit_with(
        self, segments: list[object], sent: dict[str, bool], merges: BackgroundMerges | None, *, last: bool
    ) -> None:
        """Commit with the workers' ``segments``; ``merges``: the ingest's background merges (or None)."""
        raw = self._writer()
        self._raw = None
        self._index._learn_aliases(self._definitions)  # under the write lock, before the data
        replaced = {doc_id for doc_id, committed in sent.items() if committed}
        raw.commit_with(list(segments), replaced, merges=merges, last=last)

    def _commit_merging(self, merges: BackgroundMerges | None, *, last: bool) -> None:
        """:meth:`commit`, with an ingest's background merges (see :mod:`searchlib._whoosh.background`)."""
        raw = self._writer()
        self._raw = None
        self._index._learn_aliases(self._definitions)  # under the write lock, before the data
        raw.commit(merges=merges, last=last)

    @typed
    def commit(self, *, optimize: bool = False) -> None:
        """Make every change visible atomically; ``optimize`` merges all segments into one."""
        raw = self._writer()
        self._raw = None  # committed or, if the commit fails, aborted: either way finished
        self._index._learn_aliases(self._definitions)  # under the write lock, before the data
        raw.commit(optimize=optimize)

    def cancel(self) -> None:
        """Discard every change and release the lock."""
        if self._raw is not None:
            raw, self._raw = self._raw, None
            raw.cancel()

    @property
    def closed(self) -> bool:
        return self._raw is None

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._raw is None:
            return
        if exc_type is None:
            self.commit()
        else:
            self.cancel()
