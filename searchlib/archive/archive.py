"""The Archive facade: many ordinary searchlib indexes (shards) answering as one.

Layout: ``ROOT/archive.json`` (the manifest, :mod:`.manifest`) and ``ROOT/shards/NAME/``, each
a complete searchlib index that ``Index.open`` reads on its own. A search sums every shard's
statistics (a few look-ups per shard), then runs one ranking round (:mod:`.ranking`): the
shards the date filters leave rank their matches with the sums -- in this process in one
pass over all their segments together, or as one task per shard on the executor -- and the
best ``offset + limit`` are merged by (score, article id); a thin client (``local_share=False``)
sums statistics its shards' workers reported, cached per shard commit (:mod:`.statcache`),
and reads no shard itself. A small page's
articles come back with that round; a larger page fetches only its final articles. Rounds
run on an executor (:mod:`.executor`) or in this process, whichever has been finishing sooner
(:mod:`.dispatch`, :meth:`Archive._run`).
Related entities and statistics are in :mod:`.analytics`; similar articles, near-duplicate
groups and "did you mean" in :mod:`.lookups`; ingest's parallel shard builds in :mod:`.build`.

Readers are pinned to one manifest generation: a query reads the manifest before and after
asking the shards and asks again when it changed. Writers change the manifest around every
cross-shard step (see :class:`ArchiveWriter`), so no reader sees a moved article twice or
not at all.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from searchlib import query as q
from searchlib import shards
from searchlib._typecheck import typed
from searchlib.aliases import AliasTable, EntityCuration, fold_entity_facets, shown_related, widen_query
from searchlib.archive import build, tasks
from searchlib.archive.aliases import ArchiveAliases
from searchlib.archive.analytics import archive_stats, related
from searchlib.archive.dispatch import Dispatcher
from searchlib.archive.executor import Job, ShardExecutor, make_executor
from searchlib.archive.lookups import duplicates, more_like_this, suggest
from searchlib.archive.manifest import Manifest, read_manifest, write_manifest
from searchlib.archive.ranking import merge_facets, ranked
from searchlib.archive.routing import shards_between
from searchlib.archive.statcache import StatsCache
from searchlib.archive.tasks import forget
from searchlib.archive.writer import ArchiveWriter, locate_hash
from searchlib.errors import ArchiveError, IndexExistsError, IndexNotFoundError
from searchlib.highlight import HighlightOptions, Matcher
from searchlib.index import Index
from searchlib.ingest import MAX_ARTICLE_CHARS, IngestProgress, IngestReport, check_max_chars
from searchlib.models import (
    Article,
    DateBucket,
    DuplicateGroup,
    FacetCount,
    Facets,
    IndexStats,
    Recency,
    RelatedEntity,
    Results,
    Sort,
    Timeline,
)
from searchlib.plan import ENTITY_FIELDS
from searchlib.querying import MAX_TIMELINE_DAYS, DateLike, Ranking, _filters, _parse, make_hit, page_offset

__all__ = ["Archive", "ArchiveWriter", "Searchable", "is_archive", "open_any"]

READ_ATTEMPTS = 8
"""Times a query is asked again when the manifest changed while it ran."""

ManifestStamp = tuple[int, int, int]
"""(inode, mtime ns, size) of ``archive.json``: every write replaces the file, so a new inode."""


def is_archive(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds an archive (rather than a single index)."""
    return (Path(path) / "archive.json").is_file()


class Archive(EntityCuration):
    """A folder of shard indexes searched as one. Open with :meth:`open` or :meth:`create`.

    The same reading calls as :class:`Index` (``search``, ``facets``, ``timeline``,
    ``related_entities``, ``get``, ``stats``, ``len``), so front ends take either.
    """

    def __init__(
        self,
        root: Path,
        *,
        executor: Any = None,
        extractor: Any = None,
        ranking: Ranking | None = None,
        local_share: bool = True,
    ) -> None:
        self.root = root
        self.local_share = local_share
        self.ranking = ranking if ranking is not None else Ranking()
        self.extractor = extractor
        self._executor: ShardExecutor = make_executor(executor)
        self._dispatch = Dispatcher(self._executor, local_share=local_share)
        self._shards: dict[str, Index] = {}
        self._stats_cache = StatsCache()  # a thin client's statistics per shard commit (:mod:`.statcache`)
        self._open_lock = threading.Lock()
        self._manifest_cache: tuple[ManifestStamp, Manifest] | None = None
        self._manifest_file = root / "archive.json"
        try:
            self._aliases = ArchiveAliases(root)
            self._current()  # fail early on a missing or foreign archive
        except BaseException:
            self._dispatch.close()
            self._executor.close()  # the archive owns it (a Dask client the caller gave stays open)
            raise

    # --- opening ------------------------------------------------------------------------

    @classmethod
    @typed
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        shard_by: str = "year",
        shards: int = 4,
        overwrite: bool = False,
        executor: Any = None,
        extractor: Any = None,
        ranking: Ranking | None = None,
        local_share: bool = True,
    ) -> Archive:
        """A new, empty archive in directory ``path``.

        ``shard_by``: ``"year"`` or ``"month"`` (shards created as articles of new periods
        arrive) or ``"hash"`` (``shards`` fixed shards by article id). ``executor``:
        ``"process"`` (default, a local process pool), ``"serial"``, or a Dask ``Client``.
        ``local_share``: this process runs a round of one shard task itself, and of a round
        of several either all (when that has been finishing sooner) or the first while the
        executor runs the rest (:mod:`searchlib.archive.dispatch`); ``False`` sends every
        task to the executor.
        """
        root = Path(path)
        made = make_executor(executor)  # closed here if the archive cannot be made (as close() would)
        try:
            manifest = Manifest(scheme=shard_by, hash_shards=shards if shard_by == "hash" else 0)
            if (root / "archive.json").exists() or (root / "searchlib.json").exists():
                if not overwrite:
                    raise IndexExistsError(f"an index or archive already exists at {root}", path=root)
                shutil.rmtree(root)
            (root / "shards").mkdir(parents=True, exist_ok=True)
            if shard_by == "hash":
                names = [f"h{i:03d}" for i in range(shards)]
                for name in names:
                    Index.create(root / "shards" / name, overwrite=True).close()
                manifest = attrs.evolve(manifest, shards=tuple(names))
            write_manifest(root, manifest)
        except BaseException:
            made.close()
            raise
        return cls(root, executor=made, extractor=extractor, ranking=ranking, local_share=local_share)

    @classmethod
    @typed
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        executor: Any = None,
        extractor: Any = None,
        ranking: Ranking | None = None,
        local_share: bool = True,
    ) -> Archive:
        """Open the archive at ``path`` (options as in :meth:`create`)."""
        return cls(Path(path), executor=executor, extractor=extractor, ranking=ranking, local_share=local_share)

    @property
    def path(self) -> Path:
        return self.root

    @property
    def manifest(self) -> Manifest:
        """The manifest as it is now."""
        return self._current()

    def _current(self) -> Manifest:
        """The manifest as it is now, parsed again only when ``archive.json`` was replaced.

        A query checks the manifest twice (see :meth:`_pinned`); one ``stat`` each when
        nothing changed rather than a read and a parse.
        """
        try:
            st = self._manifest_file.stat()
        except OSError:
            return read_manifest(self.root)  # raises the clear error for a missing archive
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._manifest_cache
        if cached is not None and cached[0] == stamp:
            return cached[1]
        manifest = read_manifest(self.root)  # a write after the stat: the next stat differs, read again
        self._manifest_cache = (stamp, manifest)
        return manifest

    def close(self) -> None:
        """Close shard handles and stop the local worker pool. Closing twice is harmless."""
        shards, self._shards = self._shards, {}
        for index in shards.values():
            index.close()
        self._dispatch.close()
        self._executor.close()
        forget(self.root)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Archive({str(self.root)!r})"

    def __len__(self) -> int:
        return self.stats().documents

    def _shard_path(self, name: str) -> Path:
        return self.root / "shards" / name

    def _shard(self, name: str, *, create: bool = False) -> Index:
        """This process's handle on shard ``name`` (for writing and id lookups); shared by threads.

        Only a writer adding a shard the manifest does not list yet passes ``create``: a shard
        the manifest lists but whose folder is gone is an :class:`ArchiveError`, never an empty
        index made in its place (which would answer without its articles).
        """
        index = self._shards.get(name)
        if index is None:
            with self._open_lock:
                index = self._shards.get(name)
                if index is None:
                    path = self._shard_path(name)
                    try:
                        index = Index.open(path, create=create, extractor=self.extractor, ranking=self.ranking)
                    except IndexNotFoundError as exc:
                        raise ArchiveError(
                            f"shard {name} is in the manifest but cannot be opened ({exc}); "
                            "`searchlib check` tells what is wrong",
                            path=self.root,
                            shard=name,
                        ) from exc
                    self._shards[name] = index
        return index

    # --- writing ------------------------------------------------------------------------

    @typed
    def writer(self, *, timeout: float = 0.0) -> ArchiveWriter:
        """A writer holding the archive's write lock (waits up to ``timeout`` seconds)."""
        return ArchiveWriter(self, timeout=timeout)

    @typed
    def add(self, *articles: Article, timeout: float = 0.0) -> None:
        with self.writer(timeout=timeout) as w:
            for article in articles:
                w.add(article)

    @typed
    def delete(self, *ids: str, timeout: float = 0.0) -> int:
        with self.writer(timeout=timeout) as w:
            return sum(w.delete(doc_id) for doc_id in ids)

    @typed
    def ingest(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        strict: bool = False,
        progress: Callable[[IngestProgress], None] | None = None,
        commit_every: int | None = 10_000,
        timeout: float = 0.0,
        max_article_chars: int | None = MAX_ARTICLE_CHARS,
    ) -> IngestReport:
        """Read articles as :meth:`Index.ingest` does and build every shard they go to in parallel.

        Each shard's articles are written and committed (every ``commit_every`` of them) by
        one task on the archive's executor: the local process pool by default, a Dask
        cluster, or this process with ``executor="serial"`` (see :mod:`searchlib.archive.build`).
        A shard that fails is named in an :class:`ArchiveError` after the others committed.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        check_max_chars(max_article_chars)
        return build.ingest(
            self,
            paths,
            strict=strict,
            progress=progress,
            commit_every=commit_every,
            timeout=timeout,
            max_article_chars=max_article_chars,
        )

    # --- the alias table ------------------------------------------------------------------

    @property
    def aliases(self) -> AliasTable:
        """The archive's one alias table: every shard's learned acronyms plus the archive's curation."""
        return self._aliases.table(self.manifest)

    def _curate(self, change: Callable[[AliasTable], AliasTable], timeout: float) -> AliasTable:
        writer = self.writer(timeout=timeout)  # holds the archive's write lock while the table is replaced
        try:
            self._aliases.save_curated(change(self.aliases))
        finally:
            writer.cancel()
        return self.aliases

    # --- reading ------------------------------------------------------------------------

    def _jobs(self, shards: Iterable[str], kind: str, args: Callable[[str], dict[str, Any]]) -> list[Job]:
        return [Job(s, str(self._shard_path(s)), self.ranking, kind, args(s)) for s in shards]

    def _run(self, jobs: Sequence[Job], *, kind: str | None = None, split: bool = False) -> list[Any]:
        """Every read job's result, in order, wherever it costs least (:mod:`.dispatch`).

        This process holds every shard open already (it sums their statistics), so a round
        of one job runs here with no task round trip at all, and a round of several either
        runs here too or goes to the executor with this process running its first job
        meanwhile, whichever has been finishing sooner (timed as ``kind``: default, the jobs' own;
        ``split``: the caller was told already that the round does not run here).
        """
        run_here = lambda j: tasks.run_on(self._shard(j.shard), j.kind, j.args)  # noqa: E731
        return self._dispatch.run(jobs, run_here, kind=kind, split=split)

    def _pinned(self, compute: Callable[[Manifest], Any], first: Manifest | None = None) -> Any:
        """``compute`` against one manifest generation; again if a writer changed it meanwhile.

        ``first``: the manifest as the caller just read it (before asking any shard), used for
        the first attempt instead of checking the file again; the check after still does.
        """
        for attempt in range(READ_ATTEMPTS):
            manifest = first if first is not None and attempt == 0 else self._current()
            result = compute(manifest)
            if self._current().generation == manifest.generation:
                return result
        raise ArchiveError(
            f"the archive at {self.root} changed during each of {READ_ATTEMPTS} attempts to read it", path=self.root
        )

    @typed
    def get(self, doc_id: str) -> Article | None:
        """The stored article with ``doc_id``, or ``None``."""

        def compute(m: Manifest) -> Article | None:
            names = [m.moving[doc_id]] if doc_id in m.moving else list(m.shards)
            if m.scheme == "hash" and doc_id not in m.moving:
                names = [locate_hash(m, doc_id)]
            for name in names:
                found = shards.run(self._shard(name), "get", {"id": doc_id})
                if found is not None:
                    return self._aliases.table(m).show(found)
            return None

        return self._pinned(compute)  # type: ignore[no-any-return]

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
        """As :meth:`Index.search`, over every shard the date filters leave.

        Scores use statistics summed over all shards, so they equal one index's; ties are
        broken by article id. Near-duplicates are grouped within a shard.
        """
        manifest = self._current()  # the first attempt's (see :meth:`_pinned`): one check fewer
        table = self._aliases.table(manifest)
        parsed, notice = _parse(query, lenient)
        node, entities = widen_query(table, parsed, entities)
        offset = page_offset(offset, limit, page)
        filters = _filters(date_from, date_to, entities, source)
        plan = self.ranking.plan(node, filters)
        sort = Sort(sort)
        bucket = DateBucket(facet_bucket) if facets else None

        total, page_hits, counted = ranked(
            self,
            plan,
            query,
            filters,
            sort=sort,
            offset=offset,
            limit=limit,
            collapse=collapse_duplicates,
            recency=recency,
            bucket=bucket,
            manifest=manifest,
        )
        matchers = None if highlight is None else (Matcher.for_query(node, "body"), Matcher.for_query(node, "title"))
        hits = tuple(
            make_hit(offset + i + 1, score, table.show(article), matchers, highlight, copies=copies)
            for i, (score, article, copies) in enumerate(page_hits)
        )
        facet_value = None
        if bucket is not None:
            raw = merge_facets(counted, bucket, 2 * facet_size + 10)  # as many raw names as one index folds

            def count(both: q.Node) -> int:
                both_plan = self.ranking.plan(both, filters)

                def on(m: Manifest) -> int:
                    targets = shards_between(m, filters.date_from, filters.date_to)
                    jobs = self._jobs(targets, "count", lambda s: {"plan": both_plan, "hidden": m.hidden(s)})
                    return sum(self._run(jobs))

                return int(self._pinned(on))

            folded = fold_entity_facets(table, raw.entities, node, facet_size, count)
            facet_value = attrs.evolve(raw, entities=folded, sources=raw.sources[:facet_size])
        return Results(
            query=query, total=total, hits=hits, offset=offset, limit=limit, facets=facet_value, notice=notice
        )

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
        """Top entities, counts per date bucket and sources over every match, as :meth:`Index.facets`."""
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
        """Matching articles per day, month or year, zero-filled, as :meth:`Index.timeline`."""
        node, entities = widen_query(self.aliases, _parse(query, lenient)[0], entities)
        filters = _filters(date_from, date_to, entities, source)
        bucket = DateBucket(bucket)
        plan = self.ranking.plan(node, filters)

        def compute(m: Manifest) -> dict[str, int]:
            targets = shards_between(m, filters.date_from, filters.date_to)
            args = {"plan": plan, "bucket": bucket}
            counts: dict[str, int] = {}
            for part in self._run(self._jobs(targets, "dates", lambda s: {**args, "hidden": m.hidden(s)})):
                for label, n in part.items():
                    counts[label] = counts.get(label, 0) + n
            return counts

        counts: dict[str, int] = self._pinned(compute)
        if not counts and (filters.date_from is None or filters.date_to is None):
            return Timeline(query=query, bucket=bucket, points=())
        keys = sorted(counts)
        first = filters.date_from or q.parse_date_bound(keys[0])[0]
        last = filters.date_to or q.parse_date_bound(keys[-1])[1]
        labels = shards.bucket_labels(first, last, bucket) if (last - first).days < MAX_TIMELINE_DAYS else keys
        return Timeline(query=query, bucket=bucket, points=tuple(FacetCount(k, counts.get(k, 0)) for k in labels))

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
        """As :meth:`Index.related_entities`; the background is the whole archive."""
        table = self.aliases
        node, entities = widen_query(table, _parse(query, lenient)[0], entities)
        filters = _filters(date_from, date_to, entities, source)
        named = {shards.entity_key(leaf.text) for leaf in q.positive_leaves(node) if leaf.field in ENTITY_FIELDS}
        named |= {shards.entity_key(name) for name in filters.entities}
        plan = self.ranking.plan(node, filters)

        def compute(m: Manifest) -> list[RelatedEntity]:
            return related(self, m, plan, shards_between(m, filters.date_from, filters.date_to), named, size, min_count)

        return shown_related(table, self._pinned(compute), named)

    @typed
    def more_like_this(
        self,
        doc_id: str,
        *,
        limit: int = 10,
        highlight: HighlightOptions | None = HighlightOptions(),  # noqa: B008 - frozen, shared safely
    ) -> Results:
        """Articles most similar to the one with ``doc_id``, from every shard (see README: archives).

        Its own near-duplicates are left out. Raises ``DocumentNotFoundError`` for an unknown id.
        """
        return more_like_this(self, doc_id, limit, highlight)

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
        """Groups of near-duplicate articles, largest first, as :meth:`Index.duplicates`; grouped within a shard."""
        node, entities = widen_query(self.aliases, q.parse(query), entities)
        return duplicates(self, node, _filters(date_from, date_to, entities, source), size)

    @typed
    def suggest(self, query: str, *, lenient: bool = False) -> str | None:
        """As :meth:`Index.suggest`: words no shard holds replaced by the closest word any shard holds."""
        return suggest(self, query, lenient)

    def stats(self) -> IndexStats:
        """Totals over every shard; ``entities`` counts distinct canonical names archive-wide."""

        return self._pinned(lambda m: archive_stats(self, m))  # type: ignore[no-any-return]


Searchable = Index | Archive
"""What the REPL, the web server and exports read: one index or an archive of shards."""


def open_any(path: str | os.PathLike[str], *, executor: Any = "serial") -> Searchable:
    """The archive at ``path`` if it holds an archive manifest, else the index there.

    ``executor`` as in :meth:`Archive.open` (default ``"serial"``: shard tasks in the calling
    thread, which suits a REPL or a web server whose requests already run in threads).
    """
    if is_archive(path):
        return Archive.open(path, executor=executor)
    return Index.open(path)
