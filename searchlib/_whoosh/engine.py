"""The columnar engine: snapshots of a Whoosh index's segments as numpy arrays.

A :class:`ColumnarSnapshot` is one commit: the arrays of each segment (memory-mapped,
immutable, see :mod:`.columnar`), each segment's deletions as a mask, and the document
numbering Whoosh uses (segment offset + local number), so stored articles are read by the
same numbers. Statistics, ranking, ties broken by article id, paging, sorting by date,
duplicate collapsing and recency all run on arrays here; only the page of hits is loaded
from Whoosh's stored fields. :class:`ColumnarEngine` hands out the snapshot of the latest
commit and answers the other calls of the engine interface.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from searchlib import plan as p
from searchlib._whoosh import analytics as wa
from searchlib._whoosh import andtop, daterange, kernels
from searchlib._whoosh import keywords as kw
from searchlib._whoosh import search as ws
from searchlib._whoosh import varbytes as _varbytes  # noqa: F401  (installs the numpy column reader)
from searchlib._whoosh.columnar import TEXT_FIELDS, SegmentColumns, live_mask
from searchlib._whoosh.evaluate import Context, Layout, evaluate, saturate, text_pseudo
from searchlib._whoosh.schema import key_date
from searchlib._whoosh.sidecar import segment_columns
from searchlib._whoosh.store import Backend
from searchlib._whoosh.topk import near_largest, top
from searchlib.engine import PrefixTooBroadError, Ranked, StatKey, Stats
from searchlib.models import Article, DateBucket, Facets, Recency, Sort

__all__ = ["RECENCY_WINDOW", "ColumnarEngine", "ColumnarSnapshot"]

RECENCY_WINDOW = 200
"""How many of the most relevant matches recency re-ranks."""
WARM_AFTER = 3
"""Reads of an open index after which numba's kernels (the ``fast`` extra, if installed) start
loading on a background thread: a one-shot command (the CLI's search) and the first query of
a process never share the CPU with numba's import and compile."""
NARROW_TIES = 8
"""Ties among more than this many times the hits still needed are narrowed segment by segment
(see ``ColumnarSnapshot._smallest_ids``) before any article id is compared."""
DOC_FREQ_CACHE = 100_000
"""Document frequencies a snapshot keeps (it starts over beyond that: bounded memory)."""

I64 = npt.NDArray[np.int64]
T = TypeVar("T")
F64 = npt.NDArray[np.float64]


def key_days(keys: npt.NDArray[Any]) -> I64:
    """Days since 1970-01-01 of ``YYYYMMDD`` date keys."""
    keys = np.asarray(keys, dtype=np.int64)
    years = (keys // 10_000 - 1970).astype("datetime64[Y]")
    months = years.astype("datetime64[M]") + (keys // 100 % 100 - 1).astype("timedelta64[M]")
    days = months.astype("datetime64[D]") + (keys % 100 - 1).astype("timedelta64[D]")
    out: I64 = days.astype(np.int64)
    return out


HELD_COLUMNS = ("_stored", "body_text")
"""Per-document columns every segment of a searchlib index has, opened when a reader is bound."""


def _hold_files(reader: Any) -> None:
    """Open a segment's stored-field and body column files now, or fail so that the read is retried.

    A concurrent writer's commit deletes the files of segments it merged away; an open file
    stays readable (POSIX), a not-yet-opened one is gone. Whoosh opens these columns on first
    use and, when the file no longer exists, quietly answers ``None`` for the stored fields
    (a ``TypeError`` later: "'NoneType' object is not subscriptable") and an empty column for
    the body. So the files are opened here, before anything is read: a missing one raises
    ``FileNotFoundError``, which ``Backend.run`` retries at the new commit; and the reader
    afterwards answers ``has_column`` from the files it holds, not from the folder. Only the
    files are opened: a column's reader (which reads the column's offsets, ~0.1 ms per 10,000
    documents) is made from the held file when a document of that segment is first read.
    """
    perdoc = getattr(reader, "_perdoc", None)
    colfiles = getattr(perdoc, "_colfiles", None)
    if perdoc is None or colfiles is None or getattr(perdoc, "_searchlib_held", False):
        return
    for name in HELD_COLUMNS:
        if name not in colfiles:
            colfiles[name] = perdoc._get_column_file(name)
    in_folder = perdoc.has_column
    perdoc.has_column = lambda name: name in colfiles or in_folder(name)
    perdoc._searchlib_held = True


def _bucket_label(key: int, bucket: DateBucket) -> str:
    """``DateBucket.label`` of a date key divided down to the bucket (20240506, 202405 or 2024)."""
    if bucket is DateBucket.DAY:
        return f"{key // 10_000:04d}-{key // 100 % 100:02d}-{key % 100:02d}"
    if bucket is DateBucket.MONTH:
        return f"{key // 100:04d}-{key % 100:02d}"
    return f"{key:04d}"


class _Segment:
    def __init__(self, cols: SegmentColumns, offset: int, live: npt.NDArray[np.bool_] | None) -> None:
        self.cols = cols
        self.offset = offset
        self.live = live
        self.live_count = cols.doc_count if live is None else int(live.sum())


class ColumnarSnapshot:
    """One commit of an index as immutable arrays (implements :class:`searchlib.engine.Snapshot`)."""

    def __init__(self, searcher: Any, folder: Any, cache: dict[str, SegmentColumns]) -> None:
        self.searcher = searcher
        leaves = [
            (reader, offset) for reader, offset in searcher.reader().leaf_readers() if hasattr(reader, "_segment")
        ]
        for reader, _ in leaves:  # open the stored fields now: a writer may delete merged-away files any time
            _hold_files(reader)
        self.segments = [
            _Segment(segment_columns(reader, folder, cache), offset, live_mask(reader))
            for reader, offset in leaves  # an empty index has an EmptyReader and no leaves
        ]
        self._adopt()

    def _adopt(self) -> None:
        """Derive the layout and empty per-snapshot caches from ``self.segments`` (also for views)."""
        self.layout = Layout([(s.cols, s.offset) for s in self.segments])
        self.size = self.layout.size
        self._deleted = any(s.live is not None for s in self.segments)
        self._lock = threading.Lock()
        self._doc_freqs: dict[StatKey, int] = {}
        self._expansions: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
        self._lazy: dict[str, Any] = {}

    # --- statistics ------------------------------------------------------------------------

    def doc_count(self) -> int:
        return sum(s.live_count for s in self.segments)

    def _field_lengths(self) -> dict[str, int]:
        found = self._lazy.get("lengths")
        if found is None:
            found = {}
            for field in TEXT_FIELDS:
                total = 0
                for seg in self.segments:
                    lengths = np.asarray(seg.cols.lengths[field], dtype=np.int64)
                    total += int(lengths.sum() if seg.live is None else lengths[seg.live].sum())
                found[field] = total
            self._lazy["lengths"] = found
        return dict(found)

    def expand(self, node: p.Prefix) -> tuple[str, ...]:
        """The indexed words of ``node.field`` starting with one of its prefixes (all segments)."""
        key = (node.field, node.prefixes)
        found = self._expansions.get(key)
        if found is None:
            words: set[str] = set()
            for seg in self.segments:
                fp = seg.cols.fields[node.field]
                for prefix in node.prefixes:
                    words.update(fp.with_prefix(prefix))
                if len(words) > p.MAX_PREFIX_TERMS:
                    raise PrefixTooBroadError(node.text, len(words))
            found = self._expansions[key] = tuple(sorted(words))
        return found

    def _stat_keys(self, plan: p.Plan) -> list[StatKey]:
        """(field, terms) of every word, phrase and keyword that scores in ``plan`` (prefixes expanded)."""
        keys: list[StatKey] = []
        for leaf in p.scored_leaves(plan.root):
            if isinstance(leaf, p.Text):
                keys.append((leaf.field, leaf.terms))
            elif isinstance(leaf, p.Keyword):
                keys.append((leaf.field, (leaf.value,)))
            else:
                keys += [(leaf.field, (w,)) for w in self.expand(leaf)]
        return keys

    def collect_stats(self, plan: p.Plan) -> Stats:
        """Live document count, total field lengths and the document frequency of every scored leaf."""
        return self._collect_stats(plan, self._context(plan, None))

    def _context(self, plan: p.Plan, stats: Stats | None) -> Context:
        return Context(plan, stats, self.expand, self.layout)

    def _collect_stats(self, plan: p.Plan, ctx: Context) -> Stats:
        freqs: dict[StatKey, int] = {}
        for key in self._stat_keys(plan):
            found = self._doc_freqs.get(key)
            if found is None:
                field, terms = key
                if len(terms) == 1 and not self._deleted:  # no list gathered: the slices' lengths
                    found = self.layout.doc_freq(field, terms[0])
                else:
                    found = self._live_count(ctx.phrase(*key)[0])
                if len(self._doc_freqs) >= DOC_FREQ_CACHE:
                    self._doc_freqs.clear()
                self._doc_freqs[key] = found
            freqs[key] = found
        return Stats(self.doc_count(), self._field_lengths(), freqs)

    def _live_count(self, docs: I64) -> int:
        """How many of ``docs`` (document numbers) are not deleted."""
        return int(np.count_nonzero(self.live()[docs])) if self._deleted and len(docs) else len(docs)

    # --- matching --------------------------------------------------------------------------

    def _docs(self, plan: p.Plan, ctx: Context) -> tuple[I64, F64]:
        """Every live match of ``plan`` (global document numbers, ascending) with its score."""
        found, score = evaluate(plan.root, ctx, ctx.stats is not None)
        if self._deleted and len(found):
            keep = self.live()[found]
            found, score = found[keep], score[keep]
        return found, score

    def matches(self, plan: p.Plan) -> I64:
        return self._docs(plan, self._context(plan, None))[0]

    # --- per-document columns (built on first use, per commit) ---------------------------------

    def _keyword_column(self, field: str) -> npt.NDArray[Any]:
        """The value of a one-value keyword field (id, group) of every document number."""
        cached: npt.NDArray[Any] | None = self._lazy.get(field)
        if cached is not None:
            return cached
        parts = []
        for seg in self.segments:
            fp = seg.cols.fields[field]
            column = np.full(seg.cols.doc_count, "", dtype=object)
            if fp.term_count:
                doc_terms = fp.doc_terms(seg.cols.doc_count)
                has = doc_terms >= 0
                column[has] = np.array(fp.terms, dtype=object)[doc_terms[has]]
            parts.append(column)
        column_all: npt.NDArray[Any] = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
        self._lazy[field] = column_all
        return column_all

    def ids(self) -> npt.NDArray[Any]:
        return self._keyword_column("id")

    def ids_of(self, docnums: I64) -> npt.NDArray[Any]:
        """The article ids of ``docnums`` (a few term decodes each: no column of every id is built)."""
        cached: npt.NDArray[Any] | None = self._lazy.get("id")
        if cached is not None:
            found: npt.NDArray[Any] = cached[docnums]
            return found
        out = np.full(len(docnums), "", dtype=object)
        if not len(docnums):
            return out
        starts = self._lazy.get("starts")
        if starts is None:
            starts = self._lazy["starts"] = np.array([seg.offset for seg in self.segments], dtype=np.int64)
        which = np.searchsorted(starts, docnums, side="right") - 1
        for at in sorted(set(which.tolist())):  # (not np.unique: its first call imports numpy.ma, ~30 ms)
            seg = self.segments[at]
            fp = seg.cols.fields["id"]
            chosen = np.flatnonzero(which == at)
            doc_terms = fp.doc_terms(seg.cols.doc_count)[docnums[chosen] - seg.offset]
            out[chosen] = [fp.term(t) if t >= 0 else "" for t in doc_terms.tolist()]
        return out

    def id_rank(self) -> I64:
        """Each document number's position in article-id order (ties are broken by it)."""
        found = self._lazy.get("id_rank")
        if found is None:
            ids = self.ids().astype(str)
            found = np.empty(len(ids), dtype=np.int64)
            found[np.argsort(ids, kind="stable")] = np.arange(len(ids))
            self._lazy["id_rank"] = found
        return found

    def _local_id_ranks(self, docnums: I64) -> I64:
        """Ranks of ``docnums`` among themselves in article-id order, ties by document number.

        Compares like :meth:`id_rank` restricted to ``docnums``; ranking only ever compares the
        tie-breaking keys of one call's candidates (see :func:`top`), so the first query of a
        commit does not pay for sorting every article id of the index.
        """
        found = self._lazy.get("id_rank")
        if found is None and len(self.segments) == 1:
            found = self._segment_id_ranks()  # one segment: its sorted id dictionary is the order
        if found is not None:
            ranked: I64 = found[docnums]
            return ranked
        ids = self.ids_of(docnums).astype(str)
        order = np.lexsort((docnums, ids))
        local = np.empty(len(docnums), dtype=np.int64)
        local[order] = np.arange(len(docnums))
        return local

    def _segment_id_ranks(self) -> I64:
        """Each document's position in its own segment's article-id order (the order of the
        segment's sorted ``id`` dictionary: no string is compared or sorted)."""
        found = self._lazy.get("segment_id_ranks")
        if found is None:
            parts = []
            for seg in self.segments:
                local = seg.cols.fields["id"].doc_terms(seg.cols.doc_count).copy()  # the term number is the rank
                local[local < 0] = np.iinfo(np.int64).max
                parts.append(local)
            found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            self._lazy["segment_id_ranks"] = found
        return found

    def _smallest_ids(self, docnums: I64, need: int) -> npt.NDArray[np.intp] | None:
        """Positions of the ``need`` of ``docnums`` (ascending) with the smallest article ids.

        Each segment's ``need`` smallest by its own id order (:meth:`_segment_id_ranks`) are the
        only candidates; their ids are then compared as :meth:`_local_id_ranks` does. None when
        ``docnums`` are few enough to compare outright.
        """
        if "id_rank" in self._lazy or len(docnums) <= NARROW_TIES * max(need, 1):
            return None
        ranks = self._segment_id_ranks()[docnums]
        cuts = np.searchsorted(docnums, [seg.offset for seg in self.segments] + [self.size]).tolist()
        picks = []
        for lo, hi in itertools.pairwise(cuts):
            if hi - lo <= need:
                picks.append(np.arange(lo, hi))
            else:
                picks.append(lo + np.argpartition(ranks[lo:hi], need - 1)[:need])
        candidates = np.concatenate(picks)
        exact = self._local_id_ranks(docnums[candidates])
        chosen: npt.NDArray[np.intp] = candidates[np.argpartition(exact, need - 1)[:need]]
        return chosen

    def group_codes(self) -> I64:
        """A number per near-duplicate group, for every document number."""
        found = self._lazy.get("group_codes")
        if found is None:
            groups = self._keyword_column("group")
            _, found = np.unique(groups.astype(str), return_inverse=True)
            found = found.astype(np.int64)
            self._lazy["group_codes"] = found
        return found

    def dates(self) -> I64:
        return self.layout.dates()

    def live(self) -> npt.NDArray[np.bool_]:
        found = self._lazy.get("live")
        if found is None:
            parts = [
                np.ones(seg.cols.doc_count, dtype=bool) if seg.live is None else np.asarray(seg.live)
                for seg in self.segments
            ]
            found = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
            self._lazy["live"] = found
        return found

    # --- ranking -----------------------------------------------------------------------------

    def evaluate(
        self,
        plan: p.Plan,
        stats: Stats | None = None,
        *,
        sort: Sort = Sort.SCORE,
        offset: int = 0,
        limit: int = 10,
        collapse: bool = False,
        recency: Recency | None = None,
    ) -> Ranked:
        by_score = sort is Sort.SCORE
        if by_score and not collapse and recency is None:
            dates_only = daterange.window(plan.root)
            if dates_only is not None:
                page = self._date_page(*dates_only, offset, limit)
                if page is not None:
                    return page
        ctx = self._context(plan, None)
        if by_score:
            ctx.stats = stats if stats is not None else self._collect_stats(plan, ctx)
            if not collapse and recency is None and plan.k1 > 0:
                fused_page = andtop.page(self, plan.root, ctx, offset, limit)  # numba: one call per segment
                if fused_page is not None:
                    return fused_page
            if not collapse and recency is None and isinstance(plan.root, p.Text) and plan.k1 > 0:
                return self._text_page(plan.root, ctx, offset, limit)
        docs, scores = self._docs(plan, ctx)
        groups = self.group_codes()[docs] if collapse else None
        total = len(np.unique(groups)) if groups is not None else len(docs)
        wanted = offset + limit
        if not total or not limit:
            return Ranked(np.zeros(0, dtype=np.int64), np.zeros(0), total)

        def ranks(indices: I64) -> I64:
            return self._local_id_ranks(docs[indices])

        def smallest(indices: I64, need: int) -> npt.NDArray[np.intp] | None:
            return self._smallest_ids(docs[indices], need)

        if by_score:
            primary = -scores
        else:
            dates = self.dates()[docs].astype(np.float64)
            primary = -dates if sort is Sort.NEWEST else dates
        if groups is None:
            order = top(
                primary, ranks, max(wanted, RECENCY_WINDOW) if recency is not None and by_score else wanted, smallest
            )
        else:
            order = top(primary, ranks, len(docs))
            _, first = np.unique(groups[order], return_index=True)
            order = order[np.sort(first)]
            order = order[: max(wanted, RECENCY_WINDOW) if recency is not None and by_score else wanted]
        page_scores = scores[order] if by_score else np.zeros(len(order))
        if recency is not None and by_score:
            reference = (recency.reference - dt.date(1970, 1, 1)).days
            age = np.maximum(0, reference - key_days(self.dates()[docs[order]]))
            page_scores = page_scores * np.power(0.5, age / recency.half_life_days)
            resort = np.lexsort((ranks(order), -page_scores))
            order, page_scores = order[resort][:wanted], page_scores[resort][:wanted]
        chosen = docs[order][offset:wanted]
        copies: tuple[tuple[str, ...], ...] = ()
        if groups is not None:
            copies = tuple(self._copies(int(d)) for d in chosen)
        return Ranked(chosen, page_scores[offset:wanted], total, copies)

    def _text_page(self, node: p.Text, ctx: Context, offset: int, limit: int) -> Ranked:
        """A word or phrase alone: its matches ranked by BM25F's pseudo frequency, which its
        score grows with; when they are many, scored near the top only (:func:`.topk.near_largest`)."""
        docs, tf = ctx.phrase(node.field, node.terms)
        if self._deleted and len(docs):
            keep = self.live()[docs]
            docs, tf = docs[keep], tf[keep]
        if not len(docs) or not limit:
            return Ranked(np.zeros(0, dtype=np.int64), np.zeros(0), len(docs))
        pseudo = text_pseudo(node, ctx, docs, tf)
        near = None if pseudo is None else near_largest(pseudo, offset + limit)
        found = docs if near is None else docs[near]
        if pseudo is None:
            scores = np.zeros(len(docs))
        else:
            scores = saturate(node, ctx, pseudo if near is None else pseudo[near])

        def ranks(indices: I64) -> I64:
            return self._local_id_ranks(found[indices])

        def smallest(indices: I64, need: int) -> npt.NDArray[np.intp] | None:
            return self._smallest_ids(found[indices], need)

        order = top(-scores, ranks, offset + limit, smallest)[offset:]
        return Ranked(found[order], scores[order], len(docs))

    def _date_page(self, low: int, high: int, offset: int, limit: int) -> Ranked | None:
        """A date range alone (see :mod:`.daterange`); None when a segment lacks an id per document."""
        counts = self._lazy.get("date_counts")
        if counts is None:
            live = self.live() if self._deleted else None
            counts = self._lazy["date_counts"] = daterange.DateCounts(self.dates(), live)
        orders = self._id_orders()
        if orders is None:
            return None
        total = counts.total(low, high)
        wanted = offset + limit
        if not total or not limit:
            return Ranked(np.zeros(0, dtype=np.int64), np.zeros(0), total)
        picks = daterange.first_in_range(
            orders, self.dates(), self.live() if self._deleted else None, low, high, wanted, total / max(self.size, 1)
        )
        chosen = daterange.smallest_ids(picks, wanted, self._local_id_ranks)[offset:]
        return Ranked(chosen, np.zeros(len(chosen)), total)

    def _id_orders(self) -> list[I64] | None:
        """Each segment's document numbers (global) in its article-id order (its sorted ``id``
        dictionary's); None when a segment lacks an id per document."""
        orders = self._lazy.get("id_orders")
        if orders is None:
            orders = []
            for seg in self.segments:
                docs = seg.cols.fields["id"].docs
                if len(docs) != seg.cols.doc_count:
                    orders = None
                    break
                orders.append(docs.astype(np.int64) + seg.offset)
            self._lazy["id_orders"] = orders
        return orders

    def _copies(self, docnum: int) -> tuple[str, ...]:
        codes = self.group_codes()
        members = np.flatnonzero((codes == codes[docnum]) & self.live())
        ids = self.ids()
        return tuple(sorted(str(ids[m]) for m in members if m != docnum))

    def articles(self, docnums: Sequence[int]) -> list[Article]:
        return ws.load_articles(self.searcher, [int(d) for d in docnums])

    # --- stored fields and analytics (through the searcher this snapshot is bound to) ---------

    def bind(self, searcher: Any) -> ColumnarSnapshot:
        """This snapshot's arrays with ``searcher`` (at the same commit) for stored fields.

        Whoosh searchers serve one thread at a time; the arrays are shared by all.
        """
        bound = copy.copy(self)
        bound.searcher = searcher
        leaves = [reader for reader, _ in searcher.reader().leaf_readers() if hasattr(reader, "_segment")]
        for reader in leaves:  # open the stored fields now: a writer may delete merged-away files any time
            _hold_files(reader)
        return bound

    def table_parts(self, docs: I64 | None = None) -> wa.TableParts:
        """Each segment's facet table with the documents of ``docs`` in it (None: every live one), as its numbers."""
        parts = []
        if docs is not None:
            docs = np.asarray(docs, dtype=np.int64)
            if len(docs) > 1 and bool((docs[1:] < docs[:-1]).any()):
                docs = np.sort(docs)
        for seg in self.segments:
            table = seg.cols.facets
            assert table is not None  # (sidecar.segment_columns gives every segment one)
            if docs is None:
                local = np.arange(seg.cols.doc_count, dtype=np.int64)
                local = local if seg.live is None else local[seg.live]
            else:
                lo, hi = np.searchsorted(docs, [seg.offset, seg.offset + seg.cols.doc_count])
                local = docs[lo:hi] - seg.offset
            if len(local):
                parts.append((table, local))
        return parts

    def facets(self, docs: I64, bucket: DateBucket, size: int) -> Facets:
        """Top entities, dates per bucket and sources over ``docs``."""
        return wa.facets(self.table_parts(docs), self._facet_keys(), self.date_counts(docs, bucket), bucket, size)

    def _facet_keys(self) -> wa.FacetKeys:
        """Every entity key of this commit, numbered (once per snapshot: a race only makes it twice)."""
        keys: wa.FacetKeys | None = self._lazy.get("facet_keys")
        if keys is None:
            tables = [seg.cols.facets for seg in self.segments if seg.cols.facets is not None]
            keys = self._lazy["facet_keys"] = wa.FacetKeys(tables)
        return keys

    def _entity_background(self) -> I64:
        """Live documents naming each key of :meth:`_facet_keys` (its ``entity`` postings), once per snapshot."""
        found: I64 | None = self._lazy.get("entity_background")
        if found is None:
            fields = []
            for seg in self.segments:
                fp = seg.cols.fields["entity"]
                offsets = np.asarray(fp.offsets, dtype=np.int64)
                if seg.live is None:
                    live_counts = offsets[1:] - offsets[:-1]
                else:
                    before = np.zeros(len(fp.docs) + 1, dtype=np.int64)
                    np.cumsum(seg.live[np.asarray(fp.docs, dtype=np.int64)], out=before[1:])
                    live_counts = before[offsets[1:]] - before[offsets[:-1]]
                fields.append((fp.decoded_terms(), live_counts))
            found = self._lazy["entity_background"] = wa.entity_background(self._facet_keys(), fields)
        return found

    def related(self, docs: I64, exclude: set[str], size: int, min_count: int) -> list[tuple[str, int, int, float]]:
        """Entities of ``docs`` ranked by significance against the whole index."""
        return wa.related(
            self.table_parts(docs),
            self._facet_keys(),
            self._entity_background(),
            self.doc_count(),
            exclude=exclude,
            size=size,
            min_count=min_count,
        )

    def date_counts(self, docs: I64, bucket: DateBucket) -> dict[str, int]:
        """Documents of ``docs`` per date bucket (from the date column)."""
        div = {DateBucket.DAY: 1, DateBucket.MONTH: 100, DateBucket.YEAR: 10_000}[bucket]
        keys, counts = np.unique(self.dates()[docs] // div, return_counts=True)
        return {_bucket_label(int(k), bucket): int(n) for k, n in zip(keys, counts, strict=True)}

    def duplicate_groups(self, docs: I64 | None, size: int) -> list[list[Article]]:
        """Near-duplicate groups (touching ``docs`` when given), largest first."""
        groups = self._lazy.get("groups")
        if groups is None:  # the commit's groups, once (a race only computes them twice)
            groups = self._lazy["groups"] = kw.group_members(self.segments)
        return ws.duplicate_groups(self.searcher, groups, None if docs is None else docs.tolist(), size)

    def get(self, doc_id: str) -> Article | None:
        docnum = kw.docnum_of(self.segments, doc_id)
        return None if docnum is None else ws.load_articles(self.searcher, [docnum])[0]

    def get_many(self, ids: Sequence[str]) -> list[Article | None]:
        return [self.get(doc_id) for doc_id in ids]

    def docnum_of(self, doc_id: str) -> int | None:
        """The document number of the live article with ``doc_id`` (None: no such article)."""
        return kw.docnum_of(self.segments, doc_id)

    def extracted_ids(self) -> list[str]:
        return ws.extracted_ids(self.searcher)

    def more_like(self, doc_id: str, limit: int, numterms: int, *, k1: float, b: float) -> list[ws.RawHit] | None:
        from searchlib._whoosh import vocabulary  # it reads this module's snapshots

        return vocabulary.more_like(self, doc_id, limit, numterms, k1, b)

    def suggest(self, words: Sequence[str]) -> dict[str, str]:
        from searchlib._whoosh import vocabulary

        return vocabulary.suggestions(self, words)

    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        dates = self.dates()[self.live()]
        if not len(dates):
            return None, None
        return key_date(int(dates.min())), key_date(int(dates.max()))

    def entity_count(self, shown: Callable[[str], str | None] | None = None) -> int:
        """Entities named by live documents, as facets count them (``shown``: :func:`.analytics.distinct_entities`)."""
        return wa.distinct_entities(self.table_parts(), shown)

    def segment_count(self) -> int:
        return len(self.segments)


class ColumnarEngine:
    """The engine of one open index: every read runs on a snapshot of the latest commit.

    The arrays of a commit are built once and shared by every thread; each read binds them
    to a Whoosh searcher it alone uses (the backend's pool) for stored fields.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._reads = 0
        self._warmed = False  # kernels.warm() called (once per engine; it never blocks)
        # in memory, the arrays the writer kept (it drops merged-away ones); on disk, sidecars loaded
        self._cache: dict[str, SegmentColumns] = backend.memory_columns if backend.path is None else {}
        self._current: tuple[int, ColumnarSnapshot] | None = None
        self._lock = threading.Lock()

    def _snapshot(self, searcher: Any) -> ColumnarSnapshot:
        generation = self._backend.generation_of(searcher)
        with self._lock:
            current = self._current
            if current is None or current[0] != generation:
                snap = ColumnarSnapshot(searcher, self._backend.path, self._cache)
                if self._backend.path is not None:
                    live = {id(seg.cols) for seg in snap.segments}
                    for key in [k for k, v in self._cache.items() if id(v) not in live]:
                        del self._cache[key]
                current = self._current = (generation, snap)
        base = current[1]
        # A pooled searcher serves many reads of one commit: bind the arrays to it once. Kept
        # on the searcher itself, so both go together when the pool lets the searcher go.
        found: tuple[ColumnarSnapshot, ColumnarSnapshot] | None = getattr(searcher, "_searchlib_bound", None)
        if found is not None and found[0] is base:
            return found[1]
        bound = base.bind(searcher)
        searcher._searchlib_bound = (base, bound)
        return bound

    def read(self, operation: str, fn: Callable[[ColumnarSnapshot], T]) -> T:
        """``fn`` on a snapshot of the latest commit, with read errors translated (and retried
        when a concurrent commit removed files under it)."""
        self._reads += 1  # racy under threads (a count may be lost): hence >=, and once only
        if self._reads >= WARM_AFTER and not self._warmed:
            self._warmed = True
            kernels.warm()
        return self._backend.run(operation, lambda searcher: fn(self._snapshot(searcher)))

    def count(self) -> int:
        return self.read("count", lambda snap: snap.doc_count())
