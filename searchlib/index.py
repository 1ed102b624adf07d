"""The Index facade: create, open, write, ingest, search, facet and inspect a searchlib index."""

from __future__ import annotations

import functools
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs

from searchlib import plan as pl
from searchlib import query as q
from searchlib._typecheck import typed
from searchlib._whoosh import schema as sch
from searchlib._whoosh import upgrade as wu
from searchlib._whoosh.background import BackgroundMerges
from searchlib._whoosh.engine import ColumnarEngine, ColumnarSnapshot
from searchlib._whoosh.parallel import WorkerPool
from searchlib._whoosh.store import Backend
from searchlib.aliases import AliasFile, AliasTable, EntityCuration, fold_entity_facets, shown_related, widen_query
from searchlib.engine import PrefixTooBroadError, Ranked
from searchlib.entities import EntityExtractor, RuleExtractor
from searchlib.errors import DocumentNotFoundError, QuerySyntaxError
from searchlib.highlight import HighlightOptions, Matcher
from searchlib.ingest import (
    MAX_ARTICLE_CHARS,
    IngestProblem,
    IngestProgress,
    IngestReport,
    check_max_chars,
    keep_problem,
    read_articles,
)
from searchlib.models import (
    Article,
    DateBucket,
    DuplicateGroup,
    Facets,
    IndexStats,
    Recency,
    RelatedEntity,
    Results,
    Sort,
    Timeline,
)
from searchlib.querying import (
    MAX_LIMIT,
    MLT_TERMS,
    DateLike,
    Ranking,
    _corrected,
    _Filters,
    _filters,
    _key_words,
    _parse,
    _spelling_words,
    make_hit,
    page_offset,
    timeline_of,
)
from searchlib.upgrade import UpgradeReport, upgrade_path
from searchlib.writer import Writer

__all__ = ["DEFAULT_ROOT", "Index", "Ranking", "Writer"]

DEFAULT_ROOT = Path("indexes")
"""Where the CLI keeps indexes when given a bare name."""

REEXTRACT_BATCH = 1000
"""Articles read per searcher while re-extracting entities."""

T = TypeVar("T")


class Index(EntityCuration):
    """A searchlib index on disk or in memory. Open with :meth:`open`, :meth:`create` or :meth:`in_memory`."""

    def __init__(self, backend: Backend, *, extractor: EntityExtractor | None, ranking: Ranking | None) -> None:
        self._backend = backend
        self._engine = ColumnarEngine(backend)
        self.extractor: EntityExtractor = extractor if extractor is not None else RuleExtractor()
        self.ranking: Ranking = ranking if ranking is not None else Ranking()
        self._alias_file = AliasFile(backend.path)

    # --- opening ------------------------------------------------------------------------

    @classmethod
    @typed
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        extractor: EntityExtractor | None = None,
        ranking: Ranking | None = None,
    ) -> Index:
        """Create a new, empty index in directory ``path`` (``overwrite`` replaces an existing one)."""
        return cls(Backend.create(Path(path), overwrite=overwrite), extractor=extractor, ranking=ranking)

    @classmethod
    @typed
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        extractor: EntityExtractor | None = None,
        ranking: Ranking | None = None,
    ) -> Index:
        """Open the index at ``path``; with ``create=True`` make one if none exists there.

        An index of an older format raises ``IncompatibleIndexError`` naming ``searchlib
        upgrade`` (see :meth:`upgrade`); an upgrade a crash interrupted is finished first.
        """
        p = Path(path)
        wu.recover(p)
        if create and not (p / "searchlib.json").exists():
            return cls.create(p, extractor=extractor, ranking=ranking)
        return cls(Backend.open(p), extractor=extractor, ranking=ranking)

    @staticmethod
    @typed
    def upgrade(path: str | os.PathLike[str], *, workers: int | None = 1) -> UpgradeReport:
        """Rebuild the index (or every shard of the archive) at ``path`` in the current format.

        Its stored articles are re-analysed; their entities and near-duplicate groups are kept
        (nothing is re-extracted). The new index is built next to the old one, after checking
        there is disk space for it, and swapped in by renaming: the old index stays readable
        until then, and a crash at any point leaves the old or the new one whole. An index
        already in the current format is not rebuilt; only its columnar sidecars written by
        older code are rewritten in the current version (``UpgradeReport.sidecars``).
        ``workers`` > 1 analyses and writes in that many processes (as ``ingest(workers=)``);
        ``None`` uses one per core (up to 4) for an index over 20 MB.
        """
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1 (or None: chosen by the index's size)")
        return upgrade_path(Path(path), workers=workers)

    @classmethod
    @typed
    def in_memory(cls, *, extractor: EntityExtractor | None = None, ranking: Ranking | None = None) -> Index:
        """A new index that lives in memory only (for tests and throw-away work)."""
        return cls(Backend.create(None), extractor=extractor, ranking=ranking)

    @property
    def path(self) -> Path | None:
        """The index directory, or ``None`` in memory."""
        return self._backend.path

    def close(self) -> None:
        """Release files and the cached searcher. Closing twice is harmless."""
        self._backend.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self._engine.count()

    def __repr__(self) -> str:
        return f"Index({str(self.path) if self.path else '<memory>'!r})"

    # --- writing ------------------------------------------------------------------------

    @typed
    def writer(self, *, timeout: float = 0.0) -> Writer:
        """A writer holding the write lock; waits up to ``timeout`` seconds for another writer."""
        return Writer(self, self._backend.writer(timeout=timeout))

    @typed
    def add(self, *articles: Article, timeout: float = 0.0) -> None:
        """Add (or replace by id) ``articles`` in one commit (``timeout``: as for :meth:`writer`)."""
        with self.writer(timeout=timeout) as w:
            w.add_many(articles)

    @typed
    def delete(self, *ids: str, timeout: float = 0.0) -> int:
        """Delete the articles with ``ids`` in one commit; returns how many existed."""
        with self.writer(timeout=timeout) as w:
            return sum(w.delete(i) for i in ids)

    @typed
    def ingest(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        strict: bool = False,
        progress: Callable[[IngestProgress], None] | None = None,
        commit_every: int | None = 10_000,
        timeout: float = 0.0,
        workers: int = 1,
        max_article_chars: int | None = MAX_ARTICLE_CHARS,
    ) -> IngestReport:
        """Read articles from files, directories or globs and index them.

        Articles whose id and content are already in the index are skipped (``unchanged``),
        so re-ingesting the same files is cheap and never duplicates. Bad records are
        skipped and listed in the report; with ``strict=True`` the first one raises
        :class:`IngestError` and the uncommitted batch is discarded. Changes are committed
        every ``commit_every`` articles (``None``: once at the end). With ``workers`` > 1,
        that many processes extract entities and build index segments in parallel while this
        one reads the input (see README: parallel ingest); in-memory indexes use this process.
        An article longer than ``max_article_chars`` characters is skipped and reported
        (``None``: no limit).
        """
        check_max_chars(max_article_chars)
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        started = time.perf_counter()
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        problems: list[IngestProblem] = []
        skipped = read = 0
        last: list[IngestProgress] = []

        def track(event: IngestProgress) -> None:
            last[:] = [event]
            if progress is not None:
                progress(event)

        writer = self.writer(timeout=timeout)
        pool = WorkerPool(self.path, self.extractor, workers) if workers > 1 and self.path is not None else None
        merges = BackgroundMerges(self.path) if self.path is not None else None  # merges run beside the ingest
        sent: dict[str, bool] = {}  # ids given to the workers since the last commit -> committed copy exists

        def commit(*, last: bool = False) -> None:
            if pool is None:
                writer._commit_merging(merges, last=last)
            else:
                writer._commit_with(pool.finish(), sent, merges, last=last)
                sent.clear()

        pending = 0
        try:
            for record in read_articles(paths, progress=track, max_article_chars=max_article_chars):
                if isinstance(record, IngestProblem):
                    keep_problem(record, problems, strict=strict)
                    skipped += 1
                    continue
                read += 1
                if pool is None:
                    counts[writer._write(record, force=False)] += 1
                else:
                    counts[writer._route(record, pool, sent)] += 1
                pending += 1
                if commit_every is not None and pending >= commit_every:
                    commit()
                    writer, pending = self.writer(timeout=timeout), 0
            commit(last=True)
        except BaseException:
            writer.cancel()
            raise
        finally:
            if merges is not None:
                merges.close()  # abandons a merge an error left unpublished
            if pool is not None:
                pool.close()
        return IngestReport(
            files=last[0].files_total if last else 0,
            read=read,
            added=counts["added"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            skipped=skipped,
            problems=tuple(problems),
            seconds=time.perf_counter() - started,
            merge_failures=tuple(merges.failures) if merges is not None else (),
        )

    @typed
    def reextract(
        self, extractor: EntityExtractor | None = None, *, commit_every: int | None = 10_000, timeout: float = 0.0
    ) -> int:
        """Re-tag every article whose entities were extracted, from its stored text.

        With ``extractor``, it becomes this index's extractor first (for later adds too).
        Entities given in the input are kept. No source file is read. Returns how many
        articles were re-tagged.
        """
        if extractor is not None:
            self.extractor = extractor
        ids = self._engine.read("re-extract", lambda snap: snap.extracted_ids())
        writer, pending, done = self.writer(timeout=timeout), 0, 0
        self._set_aliases(self.aliases.forget_learned())  # recounted from the stored text below
        try:
            for start in range(0, len(ids), REEXTRACT_BATCH):
                batch = ids[start : start + REEXTRACT_BATCH]
                articles = self._engine.read("re-extract", functools.partial(ColumnarSnapshot.get_many, ids=batch))
                for article in articles:
                    if article is None:  # deleted meanwhile
                        continue
                    writer._write(attrs.evolve(article, entities=None), force=True)
                    done += 1
                    pending += 1
                if commit_every is not None and pending >= commit_every:
                    writer.commit()
                    writer, pending = self.writer(timeout=timeout), 0
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return done

    # --- the alias table ------------------------------------------------------------------

    @property
    def aliases(self) -> AliasTable:
        """The index's alias table (see :mod:`searchlib.aliases`), re-read when another process changed it."""
        return self._alias_file.table()

    def _set_aliases(self, table: AliasTable) -> None:
        """Keep ``table`` and persist it (the caller holds the write lock)."""
        self._alias_file.replace(table)

    def _learn_aliases(self, definitions: Counter[tuple[str, str]]) -> None:
        """Add acronym definitions counted by a writer that is committing (holding the lock)."""
        if definitions:
            self._set_aliases(self.aliases.learn(definitions))

    def _curate(self, change: Callable[[AliasTable], AliasTable], timeout: float) -> AliasTable:
        writer = self.writer(timeout=timeout)  # holds the write lock while the table is replaced
        try:
            self._set_aliases(change(self.aliases))
        finally:
            writer.cancel()
        return self._alias_file.table()

    def _shown(self, article: Article) -> Article:
        """``article`` with its entities as the alias table shows them."""
        return self.aliases.show(article)

    def _with_aliases(self, node: q.Node, entities: Sequence[str]) -> tuple[q.Node, tuple[str, ...]]:
        """The query with entity names widened by the alias table (see :func:`widen_query`)."""
        return widen_query(self.aliases, node, entities)

    def _fold_facets(self, facets: Facets, node: q.Node, filters: _Filters, size: int) -> Facets:
        """Entity facet counts by entity as shown (see :func:`fold_entity_facets`)."""

        def count(both: q.Node) -> int:
            plan = self._plan("", both, filters)
            return int(self._engine.read("facets", lambda snap: len(snap.matches(plan))))

        return attrs.evolve(facets, entities=fold_entity_facets(self.aliases, facets.entities, node, size, count))

    # --- reading ------------------------------------------------------------------------

    @typed
    def get(self, doc_id: str) -> Article | None:
        """The stored article with ``doc_id``, or ``None``."""
        article = self._engine.read("get", lambda snap: snap.get(doc_id))
        return None if article is None else self._shown(article)

    @typed
    def search(
        self,
        query: str = "",
        *,
        date_from: DateLike = None,
        date_to: DateLike = None,
        entities: Sequence[str] = (),
        source: str | None = None,
        sort: Sort = Sort.SCORE,
        offset: int = 0,
        limit: int = 10,
        page: int | None = None,
        highlight: HighlightOptions | None = HighlightOptions(),  # noqa: B008 - frozen, shared safely
        facets: bool = False,
        facet_bucket: DateBucket = DateBucket.MONTH,
        facet_size: int = 10,
        collapse_duplicates: bool = False,
        recency: Recency | None = None,
        lenient: bool = False,
    ) -> Results:
        """Rank the articles matching ``query`` (see README for the syntax) within the filters.

        ``date_from``/``date_to`` take dates or ``YYYY[-MM[-DD]]`` strings (inclusive);
        ``entities`` must all be present; ``page`` (1-based) overrides ``offset``. Hits carry
        snippets unless ``highlight`` is ``None``; ``facets=True`` counts entities, dates and
        sources over all matches. ``collapse_duplicates=True`` returns one hit per group of
        near-duplicates (``Hit.copies`` lists the others) and counts each group once in ``total``.
        ``recency`` decays relevance with age relative to a date you give (see :class:`Recency`).
        ``lenient=True`` searches a query that does not parse as its plain words instead of raising
        ``QuerySyntaxError``, and says so in ``Results.notice``.
        """
        node, notice = _parse(query, lenient)
        table = self.aliases  # once per search: the property checks the alias file on disk
        node, entities = widen_query(table, node, entities)
        offset = page_offset(offset, limit, page)
        filters = _filters(date_from, date_to, entities, source)
        plan = self._plan(query, node, filters)
        bucket = DateBucket(facet_bucket)

        def run(snap: ColumnarSnapshot) -> tuple[Ranked, list[Article], Facets | None]:
            ranked = snap.evaluate(
                plan, None, sort=Sort(sort), offset=offset, limit=limit, collapse=collapse_duplicates, recency=recency
            )
            counts = snap.facets(snap.matches(plan), bucket, 2 * facet_size + 10) if facets else None
            return ranked, snap.articles(ranked.docnums.tolist()), counts

        ranked, found, facet_counts = self._guard(query, lambda: self._engine.read("search", run))
        copies = ranked.copies or ((),) * len(found)
        matchers = None if highlight is None else (Matcher.for_query(node, "body"), Matcher.for_query(node, "title"))
        hits = tuple(
            make_hit(offset + i + 1, score, table.show(article), matchers, highlight, copies=copy_ids)
            for i, (score, article, copy_ids) in enumerate(zip(ranked.scores.tolist(), found, copies, strict=True))
        )
        folded = None if facet_counts is None else self._fold_facets(facet_counts, node, filters, facet_size)
        return Results(
            query=query, total=ranked.total, hits=hits, offset=offset, limit=limit, facets=folded, notice=notice
        )

    def _plan(self, query: str, node: q.Node, filters: _Filters) -> pl.Plan:
        return self.ranking.plan(node, filters)

    def _guard(self, query: str, fn: Callable[[], T]) -> T:
        """Run an evaluation; a prefix that expands too far becomes a ``QuerySyntaxError`` at its position."""
        try:
            return fn()
        except PrefixTooBroadError as exc:
            position = max(0, query.find(exc.text + "*"))
            raise QuerySyntaxError(str(exc), query=query, position=position) from None

    def _on_matches(
        self, operation: str, query: str, node: q.Node, filters: _Filters, fn: Callable[[Any, Any], T]
    ) -> T:
        """``fn(snapshot, matching document numbers)`` on the latest commit."""
        plan = self._plan(query, node, filters)
        return self._guard(query, lambda: self._engine.read(operation, lambda snap: fn(snap, snap.matches(plan))))

    @typed
    def more_like_this(
        self,
        doc_id: str,
        *,
        limit: int = 10,
        highlight: HighlightOptions | None = HighlightOptions(),  # noqa: B008
    ) -> Results:
        """Articles most similar to the one with ``doc_id`` (by its most distinctive body terms).

        Its own near-duplicates are left out. Raises ``DocumentNotFoundError`` for an unknown id.
        """
        if not 0 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 0 and {MAX_LIMIT}")
        k1, b = self.ranking.k1, self.ranking.b
        raw = self._engine.read("more like this", lambda snap: snap.more_like(doc_id, limit, MLT_TERMS, k1=k1, b=b))
        if raw is None:
            raise DocumentNotFoundError(doc_id)
        source = self.get(doc_id)
        node = q.Or(tuple(q.Term(t) for t in _key_words(source.body if source else ""))) if highlight else q.MatchAll()
        matchers = (Matcher.for_query(node, "body"), Matcher.for_query(node, "title"))
        hits = tuple(make_hit(i + 1, h.score, h.article, matchers, highlight) for i, h in enumerate(raw))
        return Results(query=f"like:{doc_id}", total=len(hits), hits=hits, offset=0, limit=limit)

    @typed
    def suggest(self, query: str, *, lenient: bool = False) -> str | None:
        """The query with misspelled words replaced by the closest indexed words, or ``None``.

        Only words found nowhere in the index are replaced ("did you mean"). ``lenient=True``
        corrects the plain words of a query that does not parse.
        """
        query, words = _spelling_words(query, lenient)
        return _corrected(query, self._engine.read("suggest", lambda snap: snap.suggest(words)))

    @typed
    def facets(
        self,
        query: str = "",
        *,
        date_from: DateLike = None,
        date_to: DateLike = None,
        entities: Sequence[str] = (),
        source: str | None = None,
        bucket: DateBucket = DateBucket.MONTH,
        size: int = 10,
        lenient: bool = False,
    ) -> Facets:
        """Top entities, counts per date bucket and sources over every match of ``query``."""
        results = self.search(
            query,
            lenient=lenient,
            date_from=date_from,
            date_to=date_to,
            entities=entities,
            source=source,
            limit=0,
            highlight=None,
            facets=True,
            facet_bucket=bucket,
            facet_size=size,
        )
        assert results.facets is not None
        return results.facets

    @typed
    def related_entities(
        self,
        query: str = "",
        *,
        date_from: DateLike = None,
        date_to: DateLike = None,
        entities: Sequence[str] = (),
        source: str | None = None,
        size: int = 10,
        min_count: int = 1,
        lenient: bool = False,
    ) -> tuple[RelatedEntity, ...]:
        """Entities that appear most, and most unusually, in the articles matching the query.

        Ranked by significance against the whole archive (see :class:`RelatedEntity`); entities
        named in the query or the filters are left out. ``min_count`` drops entities seen in
        fewer matching articles. ``lenient`` as in :meth:`search`.
        """
        node, _ = _parse(query, lenient)
        node, entities = self._with_aliases(node, entities)
        filters = _filters(date_from, date_to, entities, source)
        named = {sch.entity_key(leaf.text) for leaf in q.positive_leaves(node) if leaf.field in pl.ENTITY_FIELDS}
        named |= {sch.entity_key(name) for name in filters.entities}
        rows = self._on_matches(
            "related entities", query, node, filters, lambda snap, docs: snap.related(docs, named, size, min_count)
        )
        return shown_related(self.aliases, (RelatedEntity(*row) for row in rows), named)

    @typed
    def duplicates(
        self,
        query: str = "",
        *,
        date_from: DateLike = None,
        date_to: DateLike = None,
        entities: Sequence[str] = (),
        source: str | None = None,
        size: int = 20,
    ) -> tuple[DuplicateGroup, ...]:
        """Groups of near-duplicate articles, largest first; with a query, groups with a member matching it.

        Copies are detected when articles are added (see README: near-duplicates).
        """
        node, entities = self._with_aliases(q.parse(query), entities)
        filters = _filters(date_from, date_to, entities, source)
        everything = isinstance(node, q.MatchAll) and filters == _Filters()
        groups = self._on_matches(
            "duplicates",
            query,
            node,
            filters,
            lambda snap, docs: snap.duplicate_groups(None if everything else docs, size),
        )
        return tuple(DuplicateGroup(tuple(g)) for g in groups)

    @typed
    def timeline(
        self,
        query: str = "",
        *,
        date_from: DateLike = None,
        date_to: DateLike = None,
        entities: Sequence[str] = (),
        source: str | None = None,
        bucket: DateBucket = DateBucket.MONTH,
        lenient: bool = False,
    ) -> Timeline:
        """Matching articles per day, month or year, with empty buckets filled with zeros.

        The timeline runs from ``date_from`` (or the first match) to ``date_to`` (or the last).
        ``lenient`` as in :meth:`search`.
        """
        node, _ = _parse(query, lenient)
        node, entities = self._with_aliases(node, entities)
        filters = _filters(date_from, date_to, entities, source)
        bucket = DateBucket(bucket)
        counts = self._on_matches("timeline", query, node, filters, lambda snap, docs: snap.date_counts(docs, bucket))
        return timeline_of(query, bucket, counts, filters)

    def stats(self) -> IndexStats:
        """Document and segment counts, size on disk, date range, distinct entities, alias table size."""
        table = self.aliases
        memo: dict[str, str | None] = {}

        def shown(name: str) -> str | None:
            if name not in memo:
                memo[name] = table.display(name)
            return memo[name]

        def collect(snap: ColumnarSnapshot) -> IndexStats:
            first, last = snap.date_range()
            return IndexStats(
                path=str(self.path) if self.path else None,
                documents=snap.doc_count(),
                segments=snap.segment_count(),
                size_bytes=self._backend.size_bytes(),
                first_date=first,
                last_date=last,
                entities=snap.entity_count(shown),
                generation=self._backend.generation_of(snap.searcher),
                aliases=len(table.learned) + len(table.merged) + len(table.renamed),
                blocked=len(table.blocked),
            )

        return self._engine.read("stats", collect)
