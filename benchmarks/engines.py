"""Engine adapters with one interface: ``build`` an index from a corpus, ``open`` it, ``search``.

Every adapter translates the engine-neutral :class:`~benchmarks.queries.Query` into the
engine's own query form and returns the top-10 article ids (searchlib's derived ids, so
results can be compared across engines). Query kinds an engine cannot express are listed
in ``lacks`` with the reason; the runners print "n/a" for them instead of faking them.

searchlib is measured as ``searchlib`` (``ingest(workers=1)``), ``searchlib-2w``
(``workers=2``) and ``searchlib-nofsync`` (``workers=1`` with commit fsyncs turned off); the
two variants only index, the search benchmark uses the ``searchlib`` index.

Peers are used the way their own documentation teaches, with default settings:

* ``whoosh``: ``StemmingAnalyzer`` schema (id, date, body), default ``ix.writer()``,
  ``QueryParser``, ``DateRange`` and phrase queries passed via ``filter=``;
* ``tantivy``: ``en_stem`` tokenizer, default ``index.writer()`` (128 MB heap, all cores),
  ``parse_query``, fast-field ``range_query``, ``const_score_query`` filters;
* ``fts5``: SQLite FTS5 (``porter unicode61``, contentless) plus a ``meta`` table with
  an index on date; ranked with ``bm25()``, inserts in one transaction;
* ``bm25s``: in-memory sparse BM25 (numpy), English stop words, the Porter stemmer from Whoosh.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

from benchmarks.corpus import corpus_files, iter_docs
from benchmarks.queries import Query

__all__ = ["ENGINES", "Engine", "get_engine"]

TOP_K = 10


class Engine:
    """Base adapter. Subclasses set ``name``, ``requires``, ``lacks`` and implement the methods."""

    name: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    lacks: ClassVar[dict[str, str]] = {}
    highlighting: ClassVar[bool] = False
    notes: ClassVar[str] = ""
    index_only: ClassVar[bool] = False
    """A variant measured by the indexing benchmark only (the search benchmark skips it)."""
    full_only: ClassVar[bool] = False
    """Left out of ``--quick`` runs unless named in ``--engines``."""
    searches: ClassVar[str | None] = None
    """Another engine whose index this one searches (a variant measuring a different path)."""

    @classmethod
    def missing(cls) -> list[str]:
        """Python modules this engine needs that are not installed."""
        return [m for m in cls.requires if importlib.util.find_spec(m) is None]

    def supports(self, query: Query) -> bool:
        return query.kind not in self.lacks

    def build(self, corpus: Path, index_dir: Path) -> dict[str, Any]:
        """Index every article of ``corpus`` into ``index_dir``; returns extra facts to report."""
        raise NotImplementedError

    def open(self, index_dir: Path) -> None:
        raise NotImplementedError

    def search(self, query: Query) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        """Release files and searchers."""


def _dates(query: Query) -> tuple[dt.date, dt.date] | None:
    if query.date_from is None:
        return None
    return dt.date.fromisoformat(query.date_from), dt.date.fromisoformat(query.date_to or query.date_from)


class SearchlibEngine(Engine):
    """searchlib's public API: ``Index.create(...).ingest(paths)`` and ``Index.search``."""

    name = "searchlib"
    requires = ("searchlib",)
    highlighting = True
    notes = (
        "indexes title, body and extracted entities (BM25F); every search also counts all matches; "
        "article cache cleared before each query"
    )
    workers: ClassVar[int] = 1
    """``ingest(workers=...)``: processes that build segments in parallel (1 = in-process)."""
    commit_every: int | None = None
    """``ingest(commit_every=...)``; None commits once at the end (one segment per worker)."""
    fsync: ClassVar[bool] = True
    """False sets ``searchlib._whoosh.store.FSYNC = False`` in the indexing process (benchmarks only)."""

    def __init__(self) -> None:
        self.ix: Any = None

    def build(self, corpus: Path, index_dir: Path) -> dict[str, Any]:
        import searchlib
        from searchlib._whoosh.schema import FORMAT_VERSION

        if not self.fsync:
            from searchlib._whoosh import store

            store.FSYNC = False
        with searchlib.Index.create(index_dir, overwrite=True) as ix:
            report = ix.ingest([corpus], commit_every=self.commit_every, workers=self.workers)
            segments = ix.stats().segments
        return {
            "added": report.added,
            "skipped": report.skipped,
            "workers": self.workers,
            "fsync": self.fsync,
            "commit_every": self.commit_every,
            "segments": segments,
            "index_format": FORMAT_VERSION,
        }

    def reingest(self, corpus: Path, index_dir: Path) -> dict[str, Any]:
        """Ingest the same files again: every article should be skipped as unchanged."""
        import searchlib

        with searchlib.Index.open(index_dir) as ix:
            report = ix.ingest([corpus], commit_every=None)
        return {"unchanged": report.unchanged, "added": report.added, "updated": report.updated}

    numba: ClassVar[bool] = False
    """Use the numba kernels (the ``fast`` extra); False: the numpy path only."""

    def open(self, index_dir: Path) -> None:
        import searchlib

        try:
            from searchlib._whoosh import kernels
        except ImportError:  # a searchlib from before the kernels (bench_before_after)
            kernels = None
        if kernels is not None and self.numba:
            kernels.load()  # blocking: open ms includes numba's import and its cache load
        elif kernels is not None:
            kernels.disable()
        self.ix = searchlib.Index.open(index_dir)

    @staticmethod
    def query_string(query: Query) -> str:
        if query.op == "phrase":
            return '"' + " ".join(query.terms) + '"'
        return (" OR " if query.op == "or" else " AND ").join(query.terms)

    def _run(self, query: Query, highlight: Any) -> Any:
        from searchlib._whoosh import search as ws

        ws._ARTICLES.clear()  # every query loads its hits from the stored fields (no article cache)
        dates = _dates(query)
        return self.ix.search(
            self.query_string(query),
            date_from=dates[0] if dates else None,
            date_to=dates[1] if dates else None,
            entities=[query.entity] if query.entity else (),
            limit=TOP_K,
            highlight=highlight,
        )

    def search(self, query: Query) -> list[str]:
        return [hit.article.id for hit in self._run(query, None).hits]

    def search_highlighted(self, query: Query) -> int:
        """Search with default highlighting; returns the number of snippets made."""
        import searchlib

        results = self._run(query, searchlib.HighlightOptions())
        return sum(len(hit.snippets) for hit in results.hits)

    def close(self) -> None:
        if self.ix is not None:
            self.ix.close()


class Searchlib2wEngine(SearchlibEngine):
    """searchlib's parallel ingest with two worker processes (both cores); indexing benchmark only."""

    name = "searchlib-2w"
    index_only = True
    workers = 2
    notes = "searchlib with ingest(workers=2); same index as searchlib"


class SearchlibNofsyncEngine(SearchlibEngine):
    """searchlib without fsync on commit, to show what durability costs; indexing benchmark only."""

    name = "searchlib-nofsync"
    index_only = True
    full_only = True
    fsync = False
    notes = "searchlib with FSYNC=False (not durable; benchmarks only)"


class SearchlibCoreEngine(SearchlibEngine):
    """searchlib's engine alone: parse, plan and evaluate to the top-10 document numbers and the exact total.

    No stored article is loaded (the ids come from a per-commit column); the end-to-end cost is
    the ``searchlib`` row, measured on the same index in the same run.
    """

    name = "searchlib-engine"
    searches = "searchlib"
    notes = "searchlib's columnar engine only: plan + evaluate to top-10 document numbers and the exact total"

    def search(self, query: Query) -> list[str]:
        from searchlib import query as q

        try:
            from searchlib import querying as sl_index
        except ImportError:  # a searchlib from before the split of index.py (bench_before_after)
            from searchlib import index as sl_index  # type: ignore[no-redef]

        dates = _dates(query)
        filters = sl_index._filters(
            dates[0] if dates else None, dates[1] if dates else None, [query.entity] if query.entity else [], None
        )
        plan = self.ix.ranking.plan(q.parse(self.query_string(query)), filters)

        def run(snap: Any) -> list[str]:
            ranked = snap.evaluate(plan, None, limit=TOP_K)
            return [str(i) for i in snap.ids()[ranked.docnums]]

        return list(self.ix._engine.read("search", run))


class SearchlibNumbaEngine(SearchlibEngine):
    """``searchlib`` with the numba kernels of the ``fast`` extra loaded at open."""

    name = "searchlib-numba"
    searches = "searchlib"
    requires = ("searchlib", "numba")
    numba = True
    notes = "searchlib with the fast extra's numba kernels (open ms includes loading them)"


class SearchlibCoreNumbaEngine(SearchlibCoreEngine):
    """``searchlib-engine`` with the numba kernels of the ``fast`` extra loaded at open."""

    name = "searchlib-engine-numba"
    requires = ("searchlib", "numba")
    numba = True
    notes = "searchlib-engine with the fast extra's numba kernels (open ms includes loading them)"


class WhooshEngine(Engine):
    """Raw Whoosh 2.7 as its documentation teaches it."""

    name = "whoosh"
    requires = ("whoosh",)
    highlighting = True
    notes = "body only; entity filter = phrase query on the body passed as filter="

    def __init__(self) -> None:
        self.ix: Any = None
        self.searcher: Any = None
        self.parser: Any = None

    def build(self, corpus: Path, index_dir: Path) -> dict[str, Any]:
        from whoosh import fields, index
        from whoosh.analysis import StemmingAnalyzer

        schema = fields.Schema(
            id=fields.ID(stored=True, unique=True),
            date=fields.DATETIME(),
            body=fields.TEXT(analyzer=StemmingAnalyzer()),
        )
        shutil.rmtree(index_dir, ignore_errors=True)
        index_dir.mkdir(parents=True)
        ix = index.create_in(str(index_dir), schema)
        writer = ix.writer()
        count = 0
        for doc in iter_docs(corpus):
            writer.add_document(id=doc.id, date=dt.datetime.combine(doc.date, dt.time()), body=doc.body)
            count += 1
        writer.commit()
        ix.close()
        return {"added": count}

    def open(self, index_dir: Path) -> None:
        from whoosh import index
        from whoosh.qparser import QueryParser

        self.ix = index.open_dir(str(index_dir))
        self.searcher = self.ix.searcher()
        self.parser = QueryParser("body", self.ix.schema)

    def search(self, query: Query) -> list[str]:
        from whoosh import query as wq

        if query.op == "phrase":
            text = '"' + " ".join(query.terms) + '"'
        else:
            text = (" OR " if query.op == "or" else " AND ").join(query.terms)
        main = self.parser.parse(text) if query.terms else wq.Every()
        filters = []
        if query.entity:
            filters.append(self.parser.parse(f'"{query.entity}"'))
        dates = _dates(query)
        if dates:
            start, end = (dt.datetime.combine(d, dt.time()) for d in dates)
            filters.append(wq.DateRange("date", start, end))
        flt = None if not filters else filters[0] if len(filters) == 1 else wq.And(filters)
        return [hit["id"] for hit in self.searcher.search(main, limit=TOP_K, filter=flt)]

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
        if self.ix is not None:
            self.ix.close()


class TantivyEngine(Engine):
    """tantivy-py (Rust) with default writer settings."""

    name = "tantivy"
    requires = ("tantivy",)
    highlighting = True  # SnippetGenerator exists; not benchmarked here
    notes = "body only; multithreaded writer (all cores); entity filter = const-score phrase query"

    def __init__(self) -> None:
        self.index: Any = None
        self.searcher: Any = None

    @staticmethod
    def _schema() -> Any:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
        builder.add_date_field("date", indexed=True, fast=True)
        return builder.build()

    def build(self, corpus: Path, index_dir: Path) -> dict[str, Any]:
        import tantivy

        shutil.rmtree(index_dir, ignore_errors=True)
        index_dir.mkdir(parents=True)
        index = tantivy.Index(self._schema(), path=str(index_dir))
        writer = index.writer()
        count = 0
        for doc in iter_docs(corpus):
            when = dt.datetime.combine(doc.date, dt.time(), tzinfo=dt.UTC)
            writer.add_document(tantivy.Document(id=doc.id, body=doc.body, date=when))
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        return {"added": count}

    def open(self, index_dir: Path) -> None:
        import tantivy

        self.index = tantivy.Index.open(str(index_dir))
        self.searcher = self.index.searcher()

    def search(self, query: Query) -> list[str]:
        import tantivy

        schema = self.index.schema
        parts = []
        if query.terms:
            if query.op == "phrase":
                text = '"' + " ".join(query.terms) + '"'
            else:
                text = (" OR " if query.op == "or" else " AND ").join(query.terms)
            parts.append(self.index.parse_query(text, ["body"]))
        if query.entity:
            entity = self.index.parse_query(f'"{query.entity}"', ["body"])
            parts.append(tantivy.Query.const_score_query(entity, 0.0))
        dates = _dates(query)
        if dates:
            start, end = (dt.datetime.combine(d, dt.time(), tzinfo=dt.UTC) for d in dates)
            rng = tantivy.Query.range_query(schema, "date", tantivy.FieldType.Date, start, end)
            parts.append(tantivy.Query.const_score_query(rng, 0.0))
        final = parts[0] if len(parts) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])
        hits = self.searcher.search(final, TOP_K).hits
        return [self.searcher.doc(addr)["id"][0] for _, addr in hits]


class Fts5Engine(Engine):
    """SQLite FTS5 from the standard library."""

    name = "fts5"
    requires = ("sqlite3",)
    notes = "contentless FTS5 + meta(date) table; entity filter = phrase MATCH subquery"

    def __init__(self) -> None:
        self.db: sqlite3.Connection | None = None

    def build(self, corpus: Path, index_dir: Path) -> dict[str, Any]:
        shutil.rmtree(index_dir, ignore_errors=True)
        index_dir.mkdir(parents=True)
        db = sqlite3.connect(index_dir / "fts.db")
        db.execute("CREATE VIRTUAL TABLE fts USING fts5(body, content='', tokenize='porter unicode61')")
        db.execute("CREATE TABLE meta(rowid INTEGER PRIMARY KEY, id TEXT, date TEXT)")
        count = 0
        with db:
            for count, doc in enumerate(iter_docs(corpus), start=1):
                db.execute("INSERT INTO fts(rowid, body) VALUES (?, ?)", (count, doc.body))
                db.execute("INSERT INTO meta VALUES (?, ?, ?)", (count, doc.id, doc.date.isoformat()))
            db.execute("CREATE INDEX meta_date ON meta(date)")
        db.close()
        return {"added": count}

    def open(self, index_dir: Path) -> None:
        self.db = sqlite3.connect(index_dir / "fts.db")

    def search(self, query: Query) -> list[str]:
        assert self.db is not None
        if query.op == "phrase":
            match = '"' + " ".join(query.terms) + '"'
        else:
            match = (" OR " if query.op == "or" else " AND ").join(f'"{t}"' for t in query.terms)
        where, args = [], []
        if query.entity:
            where.append("m.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
            args.append('"' + query.entity.replace('"', "") + '"')
        dates = _dates(query)
        if dates:
            where.append("m.date BETWEEN ? AND ?")
            args += [dates[0].isoformat(), dates[1].isoformat()]
        cond = " AND ".join(where) or "1"
        if not query.terms:
            sql = f"SELECT m.id FROM meta m WHERE {cond} LIMIT {TOP_K}"
            return [r[0] for r in self.db.execute(sql, args)]
        sql = (
            f"SELECT m.id FROM fts JOIN meta m ON m.rowid = fts.rowid WHERE fts MATCH ? AND {cond} "
            f"ORDER BY fts.rank LIMIT {TOP_K}"
        )
        return [r[0] for r in self.db.execute(sql, [match, *args])]

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    from whoosh.lang.porter import stem

    return str(stem(word))


def _stem_all(words: list[str]) -> list[str]:
    return [_stem(w) for w in words]


class Bm25sEngine(Engine):
    """bm25s: sparse-matrix BM25 in numpy; bag-of-words ranking only."""

    name = "bm25s"
    requires = ("bm25s", "numpy")
    lacks: ClassVar[dict[str, str]] = {
        "and2": "no boolean AND (ranks documents matching any term)",
        "and3": "no boolean AND (ranks documents matching any term)",
        "phrase": "no positions, no phrase queries",
        "entity": "no filters",
        "date": "no fields or filters",
        "term_date": "no fields or filters",
    }
    notes = "whole corpus tokenized in memory; saved with retriever.save(); no highlighting"

    def __init__(self) -> None:
        self.retriever: Any = None
        self.ids: list[str] = []

    def build(self, corpus: Path, index_dir: Path) -> dict[str, Any]:
        import bm25s

        ids, bodies = [], []
        for doc in iter_docs(corpus):
            ids.append(doc.id)
            bodies.append(doc.body)
        tokens = bm25s.tokenize(bodies, stopwords="en", stemmer=_stem_all, show_progress=False)
        del bodies
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        shutil.rmtree(index_dir, ignore_errors=True)
        retriever.save(str(index_dir))
        (index_dir / "ids.json").write_text(json.dumps(ids), "utf-8")
        return {"added": len(ids)}

    def open(self, index_dir: Path) -> None:
        import bm25s

        self.retriever = bm25s.BM25.load(str(index_dir))
        self.ids = json.loads((index_dir / "ids.json").read_text("utf-8"))

    def search(self, query: Query) -> list[str]:
        import bm25s

        tokens = bm25s.tokenize([" ".join(query.terms)], stopwords="en", stemmer=_stem_all, show_progress=False)
        if not tokens.vocab:
            return []
        k = min(TOP_K, len(self.ids))
        docs, scores = self.retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [self.ids[int(d)] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


ENGINES: dict[str, type[Engine]] = {
    e.name: e
    for e in (
        SearchlibEngine,
        SearchlibCoreEngine,
        SearchlibNumbaEngine,
        SearchlibCoreNumbaEngine,
        Searchlib2wEngine,
        SearchlibNofsyncEngine,
        WhooshEngine,
        TantivyEngine,
        Fts5Engine,
        Bm25sEngine,
    )
}


def get_engine(name: str) -> Engine:
    return ENGINES[name]()


def corpus_bytes(corpus: Path) -> int:
    return sum(p.stat().st_size for p in corpus_files(corpus))
