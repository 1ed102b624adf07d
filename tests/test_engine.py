"""The columnar engine against a brute-force float64 reference written here, on random corpora.

Each example builds an index of random articles in several commits (segments), with deletions
and updates, then checks every query shape of the documented language: the matching ids,
the exact total and every score (relative 1e-6) equal what the BM25F formula in README says,
computed directly from the live articles. The same holds when the statistics come from
outside (two indexes whose statistics are summed score like one holding both).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib import Article, DateBucket, Entity, EntityKind, Index, NoExtractor, QuerySyntaxError, Ranking, Sort
from searchlib import query as q
from searchlib._whoosh import evaluate, kernels
from searchlib._whoosh import schema as sch
from searchlib._whoosh.engine import ColumnarSnapshot
from searchlib.engine import Ranked, Stats
from searchlib.plan import Plan
from tests.conftest import require

WORDS = ["harbour", "storm", "vote", "council", "bank", "strike", "port", "wind"]
NAMES = [("Anna Berg", EntityKind.PERSON), ("Port Authority", EntityKind.ORG), ("Riga", EntityKind.PLACE)]
SOURCES = ["Wire", "Daily"]
DATES = [dt.date(2024, 1, d) for d in (1, 5, 9, 20)]
K1, B = 1.2, 0.75
BOOSTS = {"body": 1.0, "title": 2.0, "entity_text": 1.5}
ENTITY_BOOST = 1.5
T = TypeVar("T")


@pytest.fixture(scope="module", autouse=True, params=["numpy", "numba"])
def engine_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs on the numpy path and on numba's kernels (the ``fast`` extra), when installed."""
    if request.param == "numba":
        require("numba")  # the fast extra: skipped locally without it, a failure in CI
        assert kernels.load() is not None
        kernels.SYNC = True  # the phrase kernel compiled on first sight, not on a thread meanwhile
    else:
        kernels.disable()
    yield request.param
    kernels.disable()
    kernels.SYNC = False


def test_kernels_are_in_use_as_the_parameter_says(engine_path: str) -> None:
    assert (kernels.ready() is not None) == (engine_path == "numba")


def test_vocabulary_is_its_own_analysis() -> None:
    for word in WORDS:
        assert sch.analyze(word) == [word]


# --- the reference -------------------------------------------------------------------------


class Doc:
    def __init__(self, article: Article) -> None:
        self.id = article.id
        self.date = article.date
        self.source = (article.source or "").casefold()
        entities = article.entities or ()
        self.fields = {
            "body": sch.analyze(sch.indexed_body(article, entities)),
            "title": sch.analyze(article.title),
            "entity_text": sch.analyze("\n".join(n for e in entities for n in e.names)),
        }
        self.keywords: dict[str, set[str]] = {"entity": set(), "person": set(), "org": set(), "place": set()}
        for e in entities:
            for n in e.names:
                self.keywords["entity"].add(sch.entity_key(n))
                kind = sch.KIND_FIELDS.get(e.kind)
                if kind:
                    self.keywords[kind].add(sch.entity_key(n))

    def freq(self, field: str, terms: list[str]) -> int:
        tokens, n = self.fields[field], len(terms)
        return sum(1 for i in range(len(tokens) - n + 1) if tokens[i : i + n] == terms)


class Reference:
    def __init__(self, docs: list[Doc], scoring: list[Doc] | None = None) -> None:
        self.docs = docs
        stats_docs = scoring if scoring is not None else docs  # statistics from a larger collection
        self.n = len(stats_docs)
        self.stats_docs = stats_docs
        self.avg = {f: sum(len(d.fields[f]) for d in stats_docs) / max(1, self.n) for f in BOOSTS}

    def idf(self, df: int) -> float:
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def text_scores(self, field: str | None, terms: list[str]) -> dict[str, float]:
        match_field = field or "body"
        boosts = BOOSTS if field is None else {field: BOOSTS[field]}
        df = sum(1 for d in self.stats_docs if d.freq(match_field, terms))
        out = {}
        for d in self.docs:
            if not d.freq(match_field, terms):
                continue
            pseudo = 0.0
            for f, w in boosts.items():
                tf = d.freq(f, terms)
                if tf and self.avg[f] > 0:
                    pseudo += w * tf / (1 - B + B * len(d.fields[f]) / self.avg[f])
            out[d.id] = self.idf(df) * pseudo * (K1 + 1) / (pseudo + K1) if pseudo > 0 else 0.0
        return out

    def evaluate(self, node: q.Node) -> dict[str, float]:
        if isinstance(node, (q.Term, q.Phrase)):
            if node.field in ("entity", "person", "org", "place"):
                key = sch.entity_key(node.text)
                df = sum(1 for d in self.stats_docs if key in d.keywords[node.field])
                return {d.id: ENTITY_BOOST * self.idf(df) for d in self.docs if key in d.keywords[node.field]}
            if node.field == "source":
                return {d.id: 0.0 for d in self.docs if d.source == node.text.casefold()}
            terms = sch.analyze(node.text)
            return self.text_scores(node.field, terms) if terms else {}
        if isinstance(node, q.Prefix):
            stems = {node.text.lower(), *sch.analyze(node.text.lower())}
            words = {t for d in self.stats_docs for t in d.fields["body"] if any(t.startswith(s) for s in stems)}
            total: dict[str, float] = {}
            for word in words:
                for doc_id, score in self.text_scores(None, [word]).items():
                    total[doc_id] = total.get(doc_id, 0.0) + score
            return total
        if isinstance(node, q.DateRange):
            lo, hi = node.start or dt.date.min, node.end or dt.date.max
            return {d.id: 0.0 for d in self.docs if lo <= d.date <= hi}
        if isinstance(node, q.MatchAll):
            return {d.id: 0.0 for d in self.docs}
        if isinstance(node, q.Not):
            excluded = self.evaluate(node.child)
            return {d.id: 0.0 for d in self.docs if d.id not in excluded}
        parts = [self.evaluate(c) for c in node.children]
        if isinstance(node, q.Or):
            out: dict[str, float] = {}
            for part in parts:
                for doc_id, score in part.items():
                    out[doc_id] = out.get(doc_id, 0.0) + score
            return out
        common = set.intersection(*(set(p) for p in parts))
        return {doc_id: sum(p[doc_id] for p in parts) for doc_id in common}


# --- random corpora and queries -------------------------------------------------------------

_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)
_article = st.builds(
    lambda body, title, names, source, date: (body, title, names, source, date),
    _text,
    st.one_of(st.just(""), st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)),
    st.lists(st.sampled_from(range(len(NAMES))), max_size=2, unique=True),
    st.sampled_from([None, *SOURCES]),
    st.sampled_from(DATES),
)


def _make(n: int, spec: tuple[str, str, list[int], str | None, dt.date]) -> Article:
    body, title, names, source, date = spec
    entities = tuple(Entity(NAMES[i][0], NAMES[i][1]) for i in names)
    return Article(id=f"a{n:03d}", date=date, title=title, body=body, entities=entities, source=source)


_corpus = st.lists(_article, min_size=3, max_size=24)

_leaf = st.one_of(
    st.sampled_from(WORDS),
    st.lists(st.sampled_from(WORDS[:4]), min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"'),
    st.sampled_from(WORDS).map(lambda w: f"title:{w}"),
    st.sampled_from(NAMES).map(lambda n: f'entity:"{n[0]}"'),
    st.sampled_from(NAMES).map(lambda n: f'{n[1].value}:"{n[0]}"'),
    st.sampled_from(SOURCES).map(lambda s: f"source:{s}"),
    st.sampled_from(["st*", "vo*", "ha*", "po*"]),
    st.sampled_from(["date:[2024-01-02 TO 2024-01-10]", "date:[2024-01-09 TO *]", "date:2024-01-20"]),
)
_query = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda ab: f"({ab[0]} AND {ab[1]})"),
        st.tuples(inner, inner).map(lambda ab: f"({ab[0]} OR {ab[1]})"),
        st.tuples(inner, inner).map(lambda ab: f"({ab[0]} -{ab[1]})"),
        inner.map(lambda a: f"NOT {a}"),
    ),
    max_leaves=4,
)


def _build(
    specs: list[tuple[str, str, list[int], str | None, dt.date]], deletes: list[int]
) -> tuple[Index, list[Article]]:
    """An index of ``specs`` added in three commits, some deleted, two updated."""
    ix = Index.in_memory(extractor=NoExtractor(), ranking=Ranking())
    articles = [_make(n, s) for n, s in enumerate(specs)]
    third = max(1, len(articles) // 3)
    for start in range(0, len(articles), third):
        ix.add(*articles[start : start + third])
    live = {a.id: a for a in articles}
    gone = {articles[i % len(articles)].id for i in deletes}
    ix.delete(*gone)
    for doc_id in gone:
        del live[doc_id]
    for article in list(live.values())[:2]:  # updates: a new copy replaces the old
        changed = Article(
            id=article.id, date=article.date, title=article.title, body=article.body + " storm storm",
            entities=article.entities, source=article.source,
        )  # fmt: skip
        ix.add(changed)
        live[article.id] = changed
    return ix, list(live.values())


def _check(found: dict[str, float], expected: dict[str, float]) -> None:
    assert set(found) == set(expected)
    for doc_id, score in expected.items():
        assert found[doc_id] == pytest.approx(score, rel=1e-6, abs=1e-12), doc_id


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corpus, st.lists(st.integers(0, 30), max_size=4), st.lists(_query, min_size=1, max_size=4))
def test_matches_totals_and_scores_equal_the_reference(
    specs: list[tuple[str, str, list[int], str | None, dt.date]], deletes: list[int], queries: list[str]
) -> None:
    ix, live = _build(specs, deletes)
    with ix:
        assert len(ix) == len(live)
        reference = Reference([Doc(a) for a in live])
        for text in queries:
            expected = reference.evaluate(q.parse(text))
            results = ix.search(text, limit=10_000, highlight=None)
            assert results.total == len(expected), text
            _check({h.article.id: h.score for h in results.hits}, expected)
            ordered = [(-h.score, h.article.id) for h in results.hits]
            assert all(a[0] <= b[0] + 1e-9 for a, b in itertools.pairwise(ordered)), text
            page = ix.search(text, offset=1, limit=2, highlight=None)
            assert [h.article.id for h in page.hits] == [h.article.id for h in results.hits[1:3]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corpus, _corpus, st.lists(_query, min_size=1, max_size=3))
def test_statistics_passed_in_score_like_one_index(
    left: list[tuple[str, str, list[int], str | None, dt.date]],
    right: list[tuple[str, str, list[int], str | None, dt.date]],
    queries: list[str],
) -> None:
    a = Index.in_memory(extractor=NoExtractor())
    b = Index.in_memory(extractor=NoExtractor())
    with a, b:
        arts_a = [_make(n, s) for n, s in enumerate(left)]
        arts_b = [_make(100 + n, s) for n, s in enumerate(right)]
        a.add(*arts_a)
        b.add(*arts_b)
        docs_a = [Doc(x) for x in arts_a]
        reference = Reference(docs_a, scoring=docs_a + [Doc(x) for x in arts_b])
        for text in queries:
            plan = a.ranking.plan(q.parse(text))
            stats_a = a._engine.read("stats", lambda snap, plan=plan: snap.collect_stats(plan))
            stats_b = b._engine.read("stats", lambda snap, plan=plan: snap.collect_stats(plan))
            stats: Stats = stats_a.merged(stats_b)

            def run(snap: ColumnarSnapshot, plan: Plan = plan, stats: Stats = stats) -> tuple[Ranked, list[str]]:
                ranked = snap.evaluate(plan, stats, limit=10_000)
                return ranked, [x.id for x in snap.articles(ranked.docnums.tolist())]

            ranked, ids = a._engine.read("search", run)
            expected = reference.evaluate(q.parse(text))
            assert ranked.total == len(expected)
            _check(dict(zip(ids, ranked.scores.tolist(), strict=True)), expected)


def _sample() -> Iterator[Index]:
    ix = Index.in_memory(extractor=NoExtractor())
    ix.add(*(Article(id=f"x{n}", date=DATES[n % 4], body=f"storm {WORDS[n % 8]}") for n in range(12)))
    ix.add(*(Article(id=f"y{n}", date=DATES[n % 4], body="storm") for n in range(12)))
    yield ix
    ix.close()


@pytest.fixture
def sample() -> Iterator[Index]:
    yield from _sample()


def test_ties_are_broken_by_article_id(sample: Index) -> None:
    hits = sample.search("date:[2024-01-01 TO 2024-12-31]", limit=30, highlight=None).hits
    assert [h.article.id for h in hits] == sorted(h.article.id for h in hits)
    newest = sample.search("storm", sort=Sort.NEWEST, limit=30, highlight=None).hits
    keys = [(-h.article.date.toordinal(), h.article.id) for h in newest]
    assert keys == sorted(keys)


def test_a_prefix_expanding_too_far_is_a_syntax_error(monkeypatch: pytest.MonkeyPatch, sample: Index) -> None:
    from searchlib import plan

    monkeypatch.setattr(plan, "MAX_PREFIX_TERMS", 1)  # "st*": storm and strike
    with pytest.raises(QuerySyntaxError) as info:
        sample.search("bank OR st*")
    assert info.value.position == 8 and "st*" in info.value.reason


def test_positions_past_16_bits_match_phrases() -> None:
    body = "wind " * 70_000 + "storm harbour"
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(Article(id="long", date="2024-01-01", body=body), Article(id="short", date="2024-01-01", body="storm"))
        assert [h.article.id for h in ix.search('"storm harbour"', highlight=None).hits] == ["long"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corpus, st.lists(st.integers(0, 30), max_size=3), _query, st.sampled_from(list(DateBucket)))
def test_timelines_and_facets_count_like_the_reference(
    specs: list[tuple[str, str, list[int], str | None, dt.date]], deletes: list[int], text: str, bucket: DateBucket
) -> None:
    ix, live = _build(specs, deletes)
    with ix:
        matched = set(Reference([Doc(a) for a in live]).evaluate(q.parse(text)))
        articles = [a for a in live if a.id in matched]
        expected_dates = Counter(bucket.label(a.date) for a in articles)
        points = {p.value: p.count for p in ix.timeline(text, bucket=bucket).points if p.count}
        assert points == dict(expected_dates)
        facets = ix.facets(text, bucket=bucket, size=10)
        assert {f.value: f.count for f in facets.dates} == dict(expected_dates)
        entities = Counter(e.name for a in articles for e in (a.entities or ()))
        assert {f.value: f.count for f in facets.entities} == dict(entities)
        related = {r.name: r.count for r in ix.related_entities(text, size=10)}
        node = q.parse(text)
        fields = ("entity", "person", "org", "place")
        said = {leaf.text.casefold() for leaf in q.positive_leaves(node) if leaf.field in fields}
        named = {n for n, _ in NAMES if n.casefold() in said}
        assert related == {n: c for n, c in entities.items() if n not in named}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 23), min_size=1, max_size=24, unique=True))
def test_tie_ranks_of_candidates_follow_the_id_order(picked: list[int]) -> None:
    """The first query ranks its tied candidates among themselves, as the whole-index id rank does."""
    for ix in _sample():
        with ix:
            ix.add(Article(id="a-late", date=DATES[0], body="storm"))  # a third segment, id sorting first
            docnums = np.asarray(picked, dtype=np.int64)

            def both(snap: ColumnarSnapshot, docnums: npt.NDArray[np.int64] = docnums) -> tuple[list[int], list[int]]:
                local = snap._local_id_ranks(docnums)  # before the whole-index rank exists
                whole = snap.id_rank()[docnums]
                return np.argsort(local).tolist(), np.argsort(whole).tolist()

            local_order, whole_order = ix._engine.read("ranks", both)
            assert local_order == whole_order


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],  # the same patch each time
)
@given(
    st.lists(st.tuples(st.text("abcxyz", min_size=1, max_size=4), st.sampled_from(DATES)), min_size=2, max_size=30),
    st.lists(st.integers(0, 40), max_size=4),
    st.integers(1, 12),
    st.sampled_from(["date:[2024-01-01 TO 2024-12-31]", "storm", "date:[2024-01-05 TO *]"]),
    st.sampled_from(list(Sort)),
)
def test_large_ties_narrowed_per_segment_rank_like_the_id_order(
    monkeypatch: pytest.MonkeyPatch,
    docs: list[tuple[str, dt.date]],
    deletes: list[int],
    limit: int,
    text: str,
    sort: Sort,
) -> None:
    """Ties among many matches are narrowed segment by segment (``NARROW_TIES``, forced here for
    every tie) before ids are compared: the page is still the (score or date, id) order."""
    from searchlib._whoosh import engine

    monkeypatch.setattr(engine, "NARROW_TIES", 0)
    articles = {
        f"{name}{n % 3}": Article(id=f"{name}{n % 3}", date=day, body="storm") for n, (name, day) in enumerate(docs)
    }
    arts = list(articles.values())
    with Index.in_memory(extractor=NoExtractor()) as ix:
        for start in range(0, len(arts), 4):  # several segments, ids interleaved across them
            ix.add(*arts[start : start + 4])
        gone = {arts[i % len(arts)].id for i in deletes}
        ix.delete(*gone)
        live = [
            a for a in arts if a.id not in gone and a.date >= (dt.date(2024, 1, 5) if "01-05" in text else dt.date.min)
        ]
        if sort is Sort.SCORE:
            expected = sorted(a.id for a in live)
        else:
            sign = -1 if sort is Sort.NEWEST else 1
            expected = [a.id for a in sorted(live, key=lambda a: (sign * a.date.toordinal(), a.id))]
        for offset in (0, 1):
            found = ix.search(text, sort=sort, offset=offset, limit=limit, highlight=None)
            assert found.total == len(live)
            assert [h.article.id for h in found.hits] == expected[offset : offset + limit]


def _both_paths(engine_path: str, run: Callable[[], T]) -> tuple[T, T]:
    """``run`` on the numpy path, then on numba's kernels; the module's path restored after."""
    require("numba")
    try:
        kernels.disable()
        on_numpy = run()
        assert kernels.load() is not None
        kernels.SYNC = True
        on_numba = run()
    finally:
        if engine_path == "numba":
            kernels.load()
        else:
            kernels.disable()
            kernels.SYNC = False
    return on_numpy, on_numba


def test_an_or_adds_a_documents_scores_left_to_right_on_both_paths(engine_path: str) -> None:
    """Not pairwise (numpy's reduceat): (0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3) in the last bit."""
    doc = np.array([7], dtype=np.int64)
    parts = [(doc, np.array([s])) for s in (0.1, 0.2, 0.3)] + [(np.array([1, 9], dtype=np.int64), np.ones(2))]
    on_numpy, on_numba = _both_paths(engine_path, lambda: evaluate._union(parts))
    for docs, scores in (on_numpy, on_numba):
        assert docs.tolist() == [1, 7, 9]
        assert scores.tolist() == [1.0, (0.1 + 0.2) + 0.3, 1.0]


@pytest.mark.parametrize(
    "text",
    [
        "alpha OR beta OR gamma", "alpha AND beta AND gamma", '"alpha beta" OR gamma', '"alpha beta" AND gamma',
        '"beta gamma" OR alpha OR title:alpha', "al* OR be* OR ga*", "(alpha AND beta) OR (beta AND gamma)",
    ],
)  # fmt: skip
def test_numpy_and_numba_paths_give_the_same_scores_and_ties_exactly(engine_path: str, text: str) -> None:
    """Bit for bit: an index switches to numba mid-process (and an archive's workers may not), so
    a page must not show a hit twice because documents of mathematically equal score ranked in
    another order on the other path."""
    articles = []
    for n, tfs in enumerate(itertools.permutations([1, 2, 3, 4], 3)):  # the same sum in many orders
        words = ["alpha"] * tfs[0] + ["beta"] * tfs[1] + ["gamma"] * tfs[2]
        title = "alpha" if n % 2 else ""
        body = " ".join(words + ["pad"] * (12 - len(words)))
        articles.append(Article(id=f"d{n:02d}", date="2024-01-01", title=title, body=body))
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(*articles[:10])
        ix.add(*articles[10:])

        def run() -> list[list[tuple[str, float]]]:
            return [
                [(h.article.id, h.score) for h in ix.search(text, offset=offset, limit=limit, highlight=None).hits]
                for offset, limit in ((0, 100), (0, 4), (4, 4))
            ]

        on_numpy, on_numba = _both_paths(engine_path, run)
    assert on_numpy[0]
    assert on_numpy == on_numba  # ids, order and scores: ==, not approx


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corpus, st.lists(st.integers(0, 30), max_size=4), st.lists(_query, min_size=1, max_size=4))
def test_numpy_and_numba_paths_agree_bit_for_bit(
    engine_path: str,
    specs: list[tuple[str, str, list[int], str | None, dt.date]],
    deletes: list[int],
    queries: list[str],
) -> None:
    ix, _ = _build(specs, deletes)
    with ix:

        def run() -> list[tuple[int, list[tuple[str, float]]]]:
            out = []
            for text in queries:
                found = ix.search(text, limit=10_000, highlight=None)
                out.append((found.total, [(h.article.id, h.score) for h in found.hits]))
            return out

        on_numpy, on_numba = _both_paths(engine_path, run)
    assert on_numpy == on_numba


def test_kernels_start_loading_only_after_the_first_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-shot command (and a process's first query) never shares the CPU with numba's compile."""
    from searchlib._whoosh import engine

    calls: list[int] = []
    monkeypatch.setattr(kernels, "warm", lambda: calls.append(1))
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(Article(id="a", date="2024-01-01", body="storm"))
        ix._engine._reads = 0
        for n in range(engine.WARM_AFTER + 2):
            assert ix.search("storm", highlight=None).total == 1
            assert len(calls) == (1 if n + 1 >= engine.WARM_AFTER else 0)


def test_kernels_start_loading_even_when_the_third_read_was_counted_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads from several threads may lose a count (``+=`` is not atomic): once past, still warm, once."""
    from searchlib._whoosh import engine

    calls: list[int] = []
    monkeypatch.setattr(kernels, "warm", lambda: calls.append(1))
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(Article(id="a", date="2024-01-01", body="storm"))
        ix._engine._reads = engine.WARM_AFTER  # the third read's count raced past it
        for _ in range(3):
            assert ix.search("storm", highlight=None).total == 1
        assert calls == [1]


def test_no_read_waits_while_numba_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another index's third read (which calls warm()) returns at once while a slow load runs."""
    require("numba")
    from searchlib._whoosh import _numba_kernels

    started, release = threading.Event(), threading.Event()
    compile_all = _numba_kernels.compile_all

    def slow_compile() -> None:
        started.set()
        release.wait(30)
        compile_all()

    monkeypatch.setattr(_numba_kernels, "compile_all", slow_compile)
    monkeypatch.setattr(kernels, "_kernels", None)  # restored after: the module's path stays as it was
    monkeypatch.setattr(kernels, "_thread", None)
    monkeypatch.setattr(kernels, "_disabled", False)
    articles = [Article(id=f"d{n}", date="2024-01-01", body=f"storm harbour w{n}") for n in range(20)]
    a, b = Index.in_memory(extractor=NoExtractor()), Index.in_memory(extractor=NoExtractor())
    with a, b:
        a.add(*articles)
        b.add(*articles)
        try:
            for _ in range(3):
                a.search("storm", highlight=None)  # the third read starts the load
            assert started.wait(30)
            done = threading.Event()

            def read_b() -> None:
                for _ in range(3):
                    b.search("storm", highlight=None)
                done.set()

            threading.Thread(target=read_b, daemon=True).start()
            assert done.wait(5), "a read waited for numba's load"
            assert kernels.ready() is None  # still loading: the numpy path meanwhile
        finally:
            release.set()
            thread = kernels._thread
            if thread is not None:
                thread.join(60)
