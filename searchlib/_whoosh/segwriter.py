"""Writing one Whoosh segment with searchlib's semantics: upserts, near-duplicate groups, the commit.

:class:`BackendWriter` wraps a :class:`.fastwrite.FastSegmentWriter` taken from a
:class:`.store.Backend` (which owns the locks and the searchers): one copy per article id,
near-duplicate grouping against the committed index and the writer's own pending articles,
every new segment's columnar sidecar written before the commit that lists it, and the
commit, cancel and parallel-ingest hand-over (``finish_segment`` / ``commit_with``).
Split from :mod:`.store` along the read/write seam: opening and reading stay there.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from whoosh import writing
from whoosh.index import TOC, clean_files
from whoosh.reading import SegmentReader

from searchlib import dedup
from searchlib._whoosh import background, merging, sidecar, sidecar_merge, store
from searchlib._whoosh import schema as sch
from searchlib._whoosh.columnar import SegmentColumns, concat
from searchlib._whoosh.fastwrite import FastSegmentWriter
from searchlib._whoosh.search import column_reader
from searchlib._whoosh.store import HOLDER, translate_os_errors, translate_read_errors
from searchlib._whoosh.termsets import TermIndex
from searchlib._whoosh.textcolumns import StreamingColumnsBuilder
from searchlib.models import Article, Entity

if TYPE_CHECKING:
    from searchlib._whoosh.background import BackgroundMerges
    from searchlib._whoosh.store import Backend

MAX_COPY_CANDIDATES = 50
"""Documents compared per candidate key when looking for near-duplicates (bounds boilerplate)."""
DROP_PAGES_EVERY = 500
"""Look-ups into the committed index after which a writer unmaps the sidecar pages they read
(:func:`.sidecar.drop_pages`): each read of a memory map maps ~340 KB around it here, so a
writer's random look-ups would otherwise keep most of a large index's dictionaries resident
(1M build: the two workers held 326 MB of such pages at the tree's peak with 2,000, 166 with 500)."""


def _keep_all(writer: writing.SegmentWriter, segments: list[Any]) -> list[Any]:
    """No merge inside Whoosh's writer: :meth:`BackendWriter._merged` merges by copying afterwards."""
    return list(segments)


class BackendWriter:
    """A Whoosh SegmentWriter with upsert semantics: one copy per id, the latest wins."""

    def __init__(self, backend: Backend, raw: writing.SegmentWriter, lock: Any) -> None:
        self.backend = backend
        self.raw = raw
        self._lock = lock  # ours, not Whoosh's: Whoosh's commit would release it too early
        self._local_lock: threading.Lock | None = None  # the in-process lock, released after the file lock
        self._new: dict[str, int] = {}  # id -> docnum inside the new segment
        self._pending_sketches: dict[str, list[tuple[str, str, bytes]]] = {}  # key -> (id, group, packed)
        self._sketches: Any = None
        self._groups: Any = None
        self._reader = raw.reader()
        self._term_indexes: dict[str, TermIndex] = {}
        self._lookups = 0
        self._segments: list[tuple[Any, SegmentColumns, int]] | None = None
        self.closed = False
        folder = backend.path
        if isinstance(raw, FastSegmentWriter):
            # the new segment's arrays come from the postings as they are written (the text
            # fields' only postings), and merged segments' from their own sidecars (see
            # _finalize_segment); an in-memory index keeps them in memory_columns
            known = backend.memory_columns if folder is None else {}
            raw.columns = StreamingColumnsBuilder()
            raw.columns_of = lambda reader: sidecar.segment_columns(reader, folder, known)

    def _delete_committed(self, doc_id: str) -> int:
        """Delete the committed copies of ``doc_id``; returns how many there were.

        Whoosh's ``delete_by_term`` opens a new reader of every segment for each call (and
        since index format 10 Whoosh has no postings to find the id in): the committed
        segments' sidecars say which documents hold it (:meth:`_term_docnums`), and this
        writer's own reader sees the deletions made through it.
        """
        docnums = list(self._term_docnums("id", doc_id))
        for docnum in docnums:
            self.raw.delete_document(docnum)
        return len(docnums)

    def _committed(self) -> list[tuple[Any, SegmentColumns, int]]:
        """``(segment reader, its columnar arrays, document offset)`` of every committed segment, once per writer."""
        found = self._segments
        if found is None:
            folder = self.backend.path
            known = self.backend.memory_columns if folder is None else {}
            leaves = [(leaf, offset) for leaf, offset in self._reader.leaf_readers() if hasattr(leaf, "_segment")]
            found = self._segments = [
                (leaf, sidecar.segment_columns(leaf, folder, known, facets=False), offset) for leaf, offset in leaves
            ]
        return found

    def _term_index(self, fieldname: str) -> TermIndex:
        """Which committed segments hold a term of ``fieldname`` (their sidecars' postings)."""
        found = self._term_indexes.get(fieldname)
        if found is None:
            segments = [
                ((leaf._segment.segment_id(), cols.doc_count, fieldname), cols.fields[fieldname], offset)
                for leaf, cols, offset in self._committed()
            ]
            found = self._term_indexes[fieldname] = TermIndex(fieldname, segments, self.backend.term_hashes)
        return found

    def _term_docnums(self, fieldname: str, text: str) -> Iterator[int]:
        """The live committed documents holding a term of a keyword field, in order (as Whoosh's postings were)."""
        self._lookups += 1
        if self._lookups % DROP_PAGES_EVERY == 0:
            self._drop_pages()
        is_deleted = self._reader.is_deleted
        return (d for d in self._term_index(fieldname).docnums(text) if not is_deleted(d))

    def _drop_pages(self) -> None:
        """Unmap the committed segments' sidecar pages this writer has read (they stay in the page cache)."""
        for _leaf, cols, _offset in self._segments or ():
            sidecar.drop_pages(cols)

    def _existing_docnum(self, doc_id: str) -> int | None:
        """The live committed document with ``doc_id``, if any."""
        return next(self._term_docnums("id", doc_id), None)

    def stored_checksum(self, doc_id: str) -> str | None:
        """The checksum of the committed or pending article with ``doc_id``, if any."""
        if doc_id in self._new:
            return None  # replaced in this writer: always rewrite
        with translate_read_errors("read index", self.backend.path):
            docnum = self._existing_docnum(doc_id)
            if docnum is None:
                return None
            meta: dict[str, Any] = self._reader.stored_fields(docnum)["meta"]
            return str(meta["checksum"])

    def contains(self, doc_id: str) -> bool:
        with translate_read_errors("read index", self.backend.path):
            return doc_id in self._new or self._existing_docnum(doc_id) is not None

    def _copy_group(self, doc_id: str, sketch: tuple[int, ...]) -> str:
        """The near-duplicate group of a new article: its best match's group, or its own id."""
        best_group, best = doc_id, dedup.THRESHOLD
        reader = self._reader
        for key in dedup.candidate_keys(sketch):
            for other_id, group, packed in self._pending_sketches.get(key, ()):
                if other_id != doc_id and (sim := dedup.similarity(sketch, dedup.unpack(packed))) >= best:
                    best_group, best = group, sim + 1e-9
            for docnum in itertools.islice(self._term_docnums("dupkey", key), MAX_COPY_CANDIDATES):
                other = dedup.unpack(self._sketch_column()[docnum])
                # (live documents only; its own stored id, a decompressed pickle, read only for a match)
                if (sim := dedup.similarity(sketch, other)) >= best and reader.stored_fields(docnum)["id"] != doc_id:
                    best_group, best = str(self._group_column()[docnum]), sim + 1e-9
        return best_group

    def _sketch_column(self) -> Any:
        if self._sketches is None:
            self._sketches = column_reader(self._reader, "sketch")
        return self._sketches

    def _group_column(self) -> Any:
        if self._groups is None:
            self._groups = column_reader(self._reader, "group")
        return self._groups

    def upsert(self, article: Article, entities: tuple[Entity, ...], digest: str) -> None:
        """Add ``article`` with its final ``entities``, replacing any copy with the same id."""
        sketch = dedup.sketch(article.body)
        with translate_read_errors("add document", self.backend.path):
            group = self._copy_group(article.id, sketch)
        extracted = article.entities is None
        doc = sch.to_document(article, entities, digest, sketch=sketch, group=group, extracted=extracted)
        packed = doc["sketch"]  # 4 bytes a hash; a tuple of ints would take ~10x the memory per pending article
        for key in dedup.candidate_keys(sketch):
            self._pending_sketches.setdefault(key, []).append((article.id, group, packed))
        doc_id = doc["id"]
        with translate_read_errors("add document", self.backend.path):
            self._forget_pending(doc_id)
            if self._lock is not None:  # a worker's deletions are never committed: its parent deletes replaced ids
                self._delete_committed(doc_id)
            self._new[doc_id] = self.raw.docnum - self.raw.docbase
            self.raw.add_document(**doc)

    def restore(
        self,
        article: Article,
        entities: tuple[Entity, ...],
        digest: str,
        *,
        sketch: tuple[int, ...],
        group: str,
        extracted: bool,
    ) -> None:
        """Add an article read from another index as it was stored there (for upgrades).

        Its entities, checksum, sketch and near-duplicate group are kept as given: nothing
        is re-extracted or re-grouped. The ids must be new to this writer's index.
        """
        doc = sch.to_document(article, entities, digest, sketch=sketch, group=group, extracted=extracted)
        with translate_read_errors("add document", self.backend.path):
            self._new[article.id] = self.raw.docnum - self.raw.docbase
            self.raw.add_document(**doc)

    def delete(self, doc_id: str) -> bool:
        with translate_read_errors("delete document", self.backend.path):
            pending = self._forget_pending(doc_id)
            return bool(self._delete_committed(doc_id)) or pending

    def _forget_pending(self, doc_id: str) -> bool:
        local = self._new.pop(doc_id, None)
        if local is None:
            return False
        self.raw.newsegment.delete_document(local)
        return True

    def _write_toc(
        self, extra: list[Any], *, optimize: bool, merges: BackgroundMerges | None = None, last: bool = True
    ) -> None:
        """Close this writer's segment, add ``extra`` (workers' segments), merge by the policy, write the TOC.

        With ``merges`` (an ingest's), a finished background merge is published and the
        policy's next merge started in the background, unless this is the ``last`` commit.
        """
        raw = self.raw
        final = raw._merge_segments(_keep_all, None, None)
        if raw._added:
            final.append(self._finalize_segment())
        else:
            raw._close_segment()
        final.extend(extra)
        final = self._merged(final, optimize=optimize, merges=merges, last=last)
        toc = TOC(raw.schema, final, raw.generation)
        toc.write(raw.storage, raw.indexname)
        # the files of segments no table of contents lists are removed, but running merges'
        clean_files(raw.storage, raw.indexname, raw.generation, final + background.protected(self.backend.path))
        raw._finish()
        self._forget_merged(final)

    def commit(self, *, optimize: bool = False, merges: BackgroundMerges | None = None, last: bool = True) -> None:
        """Write the new segment and the table of contents; on failure, abort and release the lock."""
        self.closed = True
        try:
            with translate_os_errors("commit", self.backend.path):
                self._reader.close()
                self.raw._check_state()
                self._write_toc([], optimize=optimize, merges=merges, last=last)
        except BaseException:
            self._abort()
            raise
        self._unlock()

    def written_ids(self) -> dict[str, int]:
        """Id -> document number in this writer's new segment (what a worker's flushed segment holds)."""
        return dict(self._new)

    def pending_sketches(self) -> dict[str, list[tuple[str, str, bytes]]]:
        """This writer's uncommitted articles' near-duplicate sketches, by candidate key."""
        return self._pending_sketches

    def group_with(self, pending: dict[str, list[tuple[str, str, bytes]]]) -> None:
        """Group new near-duplicates with the articles of ``pending`` (:meth:`pending_sketches` of a
        worker's segment written before this one but not committed yet: no committed posting finds them)."""
        self._pending_sketches = pending

    def finish_segment(self) -> Any:
        """Write this writer's segment without committing it (a parallel-ingest worker's last step).

        Returns the Whoosh segment (picklable), or None when nothing was added.
        """
        self.closed = True
        try:
            with translate_os_errors("write segment", self.backend.path):
                self._reader.close()
                self._forget_lookups()
                if not self.raw._added:
                    self.raw.cancel()
                    return None
                segment = self._finalize_segment()
                self.raw._tempstorage.destroy()
                self.raw.is_closed = True
                return segment
        except BaseException:
            self._abort()
            raise

    def _forget_lookups(self) -> None:
        """Let go of the committed index's look-up structures before the segment is written (its peak).

        Their hash keys are freed, and the pages of the segments' sidecars that the id and
        near-duplicate look-ups touched are handed back (:func:`.sidecar.drop_pages`):
        random reads of a memory map leave ~100 MB of a million-article index's files resident
        in a worker, counted in its RSS until the map goes.
        """
        self._term_indexes.clear()
        self._drop_pages()
        self._segments = None

    def _finalize_segment(self) -> Any:
        """Write the new segment's files, then its columnar sidecar, before any commit lists it.

        Every new segment -- a commit's, one that merged others, a parallel-ingest worker's --
        gets its arrays here, so no search derives them (see :mod:`.columnar`). The sidecar is
        fsynced like the segment's own files; a crash before the commit leaves both as orphans
        of a segment no table of contents lists, which the next commit's cleanup removes.
        The arrays are collected while the writer writes its postings, and a merged segment's
        are the concatenation of its sources' (``FastSegmentWriter.segment_columns``): the
        written segment's stored articles are analysed again (``sidecar.build``) only when
        they were not collected. An in-memory index keeps the arrays in ``memory_columns``.
        """
        raw = self.raw
        segment = raw._finalize_segment()
        folder = self.backend.path
        cols = raw.segment_columns() if isinstance(raw, FastSegmentWriter) else None
        if cols is None or cols.doc_count != segment.doc_count_all():
            reader = SegmentReader(raw.storage, raw.schema, segment)
            try:
                cols = sidecar.build(reader)
            finally:
                reader.close()
        if folder is not None:
            sidecar.save(folder, segment.segment_id(), cols, durable=store.FSYNC)
        else:
            self.backend.memory_columns[segment.segment_id()] = cols
        return segment

    def _merged(
        self, segments: list[Any], *, optimize: bool, merges: BackgroundMerges | None = None, last: bool = True
    ) -> list[Any]:
        """The segments to commit once the merge policy's merges are written (each with its sidecar).

        ``optimize`` merges every segment into one (also a lone segment with deletions, to drop
        them); otherwise :func:`.merging.plan_merges` picks the groups. A segment whose every
        document is deleted is dropped either way. A merged segment takes
        the place of its first source, so documents keep their order. Every file is written
        (and fsynced) before the caller's table of contents lists it: the commit stays atomic.
        With ``merges``, a finished background merge is published first (the ``last`` commit
        waits for a running one), and the policy's merges are started in the background
        instead of written here (the ``last`` commit waits for them; :mod:`.background`).
        """
        raw = self.raw
        storage = raw.storage
        if merges is not None:
            segments = merges.publish(segments, storage, wait=last or optimize)
        segments = [seg for seg in segments if seg.doc_count() > 0]  # every document deleted: nothing to keep
        if optimize:
            whole = len(segments) > 1 or any(seg.has_deletions() for seg in segments)
            groups = [list(range(len(segments)))] if whole else []
        elif merges is not None and merges.running:
            return segments  # one merge at a time: the policy is asked again once it is published
        else:
            sizes = [merging.SegmentSize(seg.doc_count(), merging.segment_bytes(storage, seg)) for seg in segments]
            groups = merging.plan_merges(sizes)
        if not groups:
            return segments
        if merges is not None and not optimize:
            merges.start(segments, groups, raw.indexname)
            if not last:
                return segments
            # the last commit waits for its merges; run in the child all the same, the memory
            # they touch goes back to the system when it exits
            segments = merges.publish(segments, storage, wait=True)
            return [seg for seg in segments if seg.doc_count() > 0]
        folder = self.backend.path
        known = self.backend.memory_columns if folder is None else {}

        def columns_of(segment: Any) -> Any:
            reader = SegmentReader(storage, raw.schema, segment)
            try:
                return sidecar.segment_columns(reader, folder, known)
            finally:
                reader.close()

        result: list[Any] = list(segments)
        for group in groups:
            merged, parts = merging.merge_segments(
                storage, raw.schema, [segments[i] for i in group], raw.indexname, columns_of
            )
            if folder is not None:
                sidecar_merge.save_merged(folder, merged.segment_id(), parts, durable=store.FSYNC)
            else:
                known[merged.segment_id()] = concat(parts)
            del parts
            result[group[0]] = merged
            for i in group[1:]:
                result[i] = None
        return [seg for seg in result if seg is not None]

    def _forget_merged(self, final: list[Any]) -> None:
        """An in-memory index drops the arrays of segments its last commit merged away."""
        if self.backend.path is None:
            keep = {seg.segment_id() for seg in final}
            known = self.backend.memory_columns
            for segment_id in [k for k in list(known) if k not in keep]:
                known.pop(segment_id, None)

    def commit_with(
        self,
        segments: list[Any],
        replaced_ids: set[str],
        *,
        merges: BackgroundMerges | None = None,
        last: bool = True,
    ) -> None:
        """Commit this writer's changes plus segments written by workers, atomically.

        ``replaced_ids`` are the ids the workers wrote that have committed copies: those are
        deleted in the same commit, so every id keeps exactly one copy. (Looking up every new
        id in every segment would make each commit slower as segments accumulate, while the
        workers wait.) ``merges`` and ``last``: as for :meth:`commit`.
        """
        self.closed = True
        try:
            with translate_os_errors("commit", self.backend.path):
                for doc_id in replaced_ids:
                    self._delete_committed(doc_id)
                self._reader.close()
                self._write_toc([seg for seg in segments if seg is not None], optimize=False, merges=merges, last=last)
        except BaseException:
            self._abort()
            raise
        self._unlock()

    def cancel(self) -> None:
        """Discard everything written by this writer and release the lock, whatever fails."""
        self.closed = True
        self._abort()

    def _abort(self) -> None:
        # Whoosh's cancel() can itself fail after a disk fault (ENOSPC); clean up what it
        # could not and release the lock regardless, so the next writer works.
        with contextlib.suppress(Exception):
            self._reader.close()
        if not self.raw.is_closed:
            try:
                self.raw.cancel()
            except Exception:
                with contextlib.suppress(Exception):
                    self.raw._tempstorage.destroy()
                self.raw.is_closed = True
        self._unlock()

    def _unlock(self) -> None:
        """Remove the holder file, then release the lock (in that order: no race with the next holder)."""
        if self._lock is None:  # a parallel-ingest worker: the parent holds the lock
            return
        self._release_holder()
        if self._lock is not None:
            with contextlib.suppress(Exception):
                self._lock.release()
        local, self._local_lock = self._local_lock, None
        if local is not None:
            local.release()

    def _release_holder(self) -> None:
        path = self.backend.path
        if path is not None:
            with contextlib.suppress(OSError):
                (path / HOLDER).unlink()
