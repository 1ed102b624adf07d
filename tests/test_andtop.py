"""numba's ``and_top`` (a word or an AND of words ranked in one call per segment) against the
numpy path, bit for bit: the same totals, pages (ids and order) and float scores."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib import Article, Index, NoExtractor
from searchlib import plan as p
from searchlib._whoosh import andtop, kernels
from tests.conftest import require
from tests.test_engine import NAMES, WORDS, _build, _corpus

T = TypeVar("T")


@pytest.fixture(autouse=True)
def numba_kernels() -> Iterator[None]:
    require("numba")
    assert kernels.load() is not None
    kernels.SYNC = True  # compiled on first sight: the kernel is always used when it applies
    yield
    kernels.disable()
    kernels.SYNC = False
    andtop.ENABLED = True


def _both(run: Callable[[], T]) -> tuple[T, T, int]:
    """``run`` with ``and_top`` off (numpy's steps, numba's other kernels), then on; and how
    many pages ``and_top`` ranked."""
    used = 0
    page = andtop.page

    def counting(*args: Any) -> Any:
        nonlocal used
        found = page(*args)
        used += found is not None
        return found

    andtop.ENABLED = False
    off = run()
    andtop.ENABLED = True
    andtop.page = counting  # type: ignore[assignment]
    try:
        on = run()
    finally:
        andtop.page = page  # type: ignore[assignment]
    return off, on, used


_word = st.sampled_from(WORDS)
_fused_query = st.one_of(
    _word,
    st.lists(_word, min_size=2, max_size=4).map(" AND ".join),
    st.lists(_word, min_size=1, max_size=3).map(lambda ws: " ".join(ws) + " date:[2024-01-02 TO 2024-01-10]"),
    st.lists(_word, min_size=1, max_size=2).map(lambda ws: " ".join(ws) + " date:2024-01-05 date:[2024-01-01 TO *]"),
    st.tuples(_word, st.sampled_from(NAMES)).map(lambda wn: f'{wn[0]} entity:"{wn[1][0]}"'),
    st.tuples(_word, st.sampled_from(NAMES)).map(lambda wn: f'{wn[0]} {wn[1][1].value}:"{wn[1][0]}"'),
    st.lists(_word, min_size=1, max_size=2).map(lambda ws: " ".join(f"title:{w}" for w in ws)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corpus, st.lists(st.integers(0, 30), max_size=4), st.lists(_fused_query, min_size=1, max_size=4))
def test_the_fused_kernel_ranks_exactly_like_the_numpy_path(
    specs: list[tuple[str, str, list[int], str | None, dt.date]], deletes: list[int], queries: list[str]
) -> None:
    ix, _ = _build(specs, deletes)  # three commits: several segments, deletions, updates
    with ix:

        def run() -> list[tuple[int, list[tuple[str, float]]]]:
            out = []
            for text in queries:
                for offset, limit in ((0, 10_000), (0, 3), (2, 3), (0, 0)):
                    found = ix.search(text, offset=offset, limit=limit, highlight=None)
                    out.append((found.total, [(h.article.id, h.score) for h in found.hits]))
            return out

        off, on, used = _both(run)
    assert off == on  # totals, ids, order and scores: ==, not approx
    assert used == len(queries) * 4  # every one of these shapes was ranked by a kernel


@pytest.mark.parametrize("text", ["alpha", "alpha AND beta", "alpha beta gamma", "beta date:[2024-01-01 TO *]"])
@pytest.mark.parametrize(("offset", "limit"), [(0, 1), (0, 4), (3, 4), (5, 100)])
def test_ties_with_the_last_kept_score_are_broken_by_article_id(text: str, offset: int, limit: int) -> None:
    """Many documents of equal score over two segments: the page is the one article ids decide."""
    articles = []
    for n, tfs in enumerate(itertools.product([1, 2], repeat=3)):
        for copy in range(3):  # three documents of each score, ids interleaved across segments
            body = " ".join(["alpha"] * tfs[0] + ["beta"] * tfs[1] + ["gamma"] * tfs[2] + ["pad"] * (6 - sum(tfs)))
            articles.append(Article(id=f"d{(copy * 8 + n) * 7 % 24:02d}", date="2024-01-01", title="", body=body))
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(*articles[::2])
        ix.add(*articles[1::2])

        def run() -> tuple[int, list[tuple[str, float]]]:
            found = ix.search(text, offset=offset, limit=limit, highlight=None)
            return found.total, [(h.article.id, h.score) for h in found.hits]

        off, on, used = _both(run)
    assert off == on
    assert used == 1
    assert off[1]


@pytest.mark.parametrize(
    "text",
    ["alpha OR beta", '"alpha beta"', "alpha -beta", "al*", "alpha AND (beta OR gamma)", "title:alpha AND beta"],
)
def test_other_shapes_take_the_numpy_path(text: str) -> None:
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(Article(id="a", date="2024-01-01", title="alpha", body="alpha beta gamma"))

        def run() -> int:
            return ix.search(text, highlight=None).total

        off, on, used = _both(run)
    assert off == on
    assert used == 0


def test_shape_takes_words_keywords_and_date_windows() -> None:
    boosts = (("body", 1.0), ("title", 2.0))
    word = p.Text("body", ("storm",), boosts)
    other = p.Text("body", ("vote",), boosts)
    key = p.Keyword("entity", "riga", 1.5)
    root = p.AllOf((word, p.Dates(20240101, 20240131), key, other, p.Dates(20240110, 20240210)))
    found = andtop.shape(root)
    assert found is not None
    assert found.words == [word, other]
    assert found.parts == [word, key, other]
    assert found.window == (20240110, 20240131)
    assert andtop.shape(p.AllOf((word,), (other,))) is None  # NOT: numpy's path
    assert andtop.shape(p.AllOf((word, p.Text("title", ("vote",), (("title", 2.0),))))) is None  # fields differ
    assert andtop.shape(p.AllOf((p.Dates(20240101, 20240131),))) is None  # no word
    assert andtop.shape(p.AllOf((word,) * andtop.MAX_PARTS)) is not None
    assert andtop.shape(p.AllOf((word,) * (andtop.MAX_PARTS + 1))) is None  # a byte counts the lists


def test_a_heap_keeps_the_best_and_every_tie_with_the_last() -> None:
    """The kernel alone: one segment, scores 1..4 by frequency, a page of 2 with ties at 3."""
    fast = kernels.ready()
    freqs = np.array([1, 3, 4, 3, 2, 3, 4, 1], dtype=np.uint8)
    docs = np.arange(8, dtype=np.uint16)
    arrays = [docs, freqs] * 3
    ranges = np.zeros((3, 1, 2), dtype=np.int64)
    ranges[0, 0] = 0, 8
    norm = np.ones(8)
    kernels.and_top_ready(fast, arrays)
    scores, found, total = fast.and_top(
        *arrays, ranges, np.zeros(0, np.int64), np.zeros((0, 2), np.int64), norm, norm, norm,
        np.zeros(0, np.bool_), np.zeros(0, np.int64), np.array([0, 3, 0, 0, 0, 0, 8], np.int64),
        np.array([0], np.int64), np.array([1.0, 1.0, 1.0, 1.2, 0.0]), np.ones(1), np.zeros(1, np.int64), np.zeros(1),
    )  # fmt: skip
    assert total == 8
    assert sorted(found.tolist()) == [1, 2, 3, 5, 6]  # the two 4s, and every 3 (one kept, two tying)
    by_doc = dict(zip(found.tolist(), scores.tolist(), strict=True))
    assert by_doc[2] == by_doc[6] == 4.0 / (4.0 + 1.2)


def test_a_sync_caller_waits_for_a_compile_another_thread_began() -> None:
    """CI once saw ``and_top`` skipped on a first call: a background compile of the same dtypes,
    begun by an earlier test, was still running, and SYNC callers were told "not ready"."""
    import threading

    began, release = threading.Event(), threading.Event()
    done: set[tuple[Any, ...]] = set()
    pending: dict[tuple[Any, ...], threading.Event] = {}

    def slow() -> None:
        began.set()
        release.wait(5)

    kernels.SYNC = False
    assert not kernels._compiled_for(("k",), done, pending, slow, "test")  # begun in the background
    assert began.wait(5)
    kernels.SYNC = True
    threading.Timer(0.05, release.set).start()
    assert kernels._compiled_for(("k",), done, pending, slow, "test")  # waited for, not skipped
    assert done == {("k",)}


@pytest.mark.parametrize("offset", [10**6, 2**40])
def test_a_deep_offset_is_an_empty_page_on_both_paths(offset: int) -> None:
    """The kernels' heaps are sized by the page's end, capped at the index's size (was: MemoryError)."""
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(*[Article(id=f"d{i}", date="2024-01-01", title="", body="alpha beta") for i in range(5)])

        def run() -> tuple[int, int]:
            found = ix.search("alpha beta", offset=offset, limit=10, highlight=None)
            return found.total, len(found.hits)

        off, on, used = _both(run)
    assert off == on == (5, 0)
    assert used == 1


@pytest.mark.parametrize("seed", [1, 2])
def test_a_common_word_searched_again_skips_blocks_and_ranks_exactly_the_same(seed: int) -> None:
    """Thousands of postings per segment: a word's second search skips blocks by their cached
    bounds (titles adding to some postings, deletions, ties at the page's edge) and still
    returns what the numpy path returns, bit for bit."""
    with _common_words(seed) as ix:

        def run() -> list[tuple[int, list[tuple[str, float]]]]:
            out = []
            for _ in range(2):  # the first search fills the bounds, the second uses them
                for text in ("alpha", "beta", "gamma"):
                    for offset, limit in ((0, 1), (0, 10), (7, 10), (0, 200), (0, 0)):
                        found = ix.search(text, offset=offset, limit=limit, highlight=None)
                        out.append((found.total, [(h.article.id, h.score) for h in found.hits]))
            return out

        off, on, used = _both(run)
        assert any(key for key in ix._engine.read("t", lambda snap: list(snap._lazy.get("andtop_words", {}))))
    assert off == on
    assert used == 30


@pytest.mark.parametrize("seed", [5, 6])
def test_a_common_word_within_date_ranges_skips_blocks_and_ranks_exactly_the_same(seed: int) -> None:
    """A word within a date range takes ``word_top`` too: the window filters the total and the
    candidates, the bounds stay those of every posting, so one search's bounds serve the word
    alone and in any other range -- including bounds first asked for by a range holding none of
    its documents (nothing filled then: nothing may be kept)."""
    ranges = [(None, None), ("2024-03-01", "2024-03-31"), ("2023-01-01", "2023-12-31"), ("2024-01-20", "2024-01-20")]
    with _common_words(seed, days=90) as ix:

        def run() -> list[tuple[int, list[tuple[str, float]]]]:
            out = []
            for _ in range(2):  # the first search of a word fills its bounds, the others use them
                for text in ("alpha", "beta"):
                    for low, high in [ranges[i] for i in ((2, 0, 1, 3) if text == "beta" else (0, 1, 2, 3))]:
                        for offset, limit in ((0, 1), (0, 10), (7, 10), (0, 0)):
                            dates = {"date_from": low, "date_to": high}
                            found = ix.search(text, **dates, offset=offset, limit=limit, highlight=None)
                            out.append((found.total, [(h.article.id, h.score) for h in found.hits]))
            return out

        off, on, used = _both(run)
    assert off == on
    assert used == 2 * 2 * 4 * 4
    assert any(total for total, _ in on[4:8]) and not any(total for total, _ in on[8:12])  # alpha: March, none in 2023
    assert not any(total for total, _ in on[16:20])  # beta's first search: a range holding none of it


def test_a_word_first_searched_in_one_segments_dates_keeps_bounds_for_every_window() -> None:
    """Segments written a month at a time: a range within one of them leaves the others with no
    match, yet they fill their bounds too, so the word is kept after that first search and later
    searches -- alone, or in another month -- skip blocks and rank as the numpy path does."""
    rng = np.random.default_rng(7)
    with Index.in_memory(extractor=NoExtractor()) as ix:
        for month in (1, 2, 3):
            articles = []
            for n in range(700):
                words = rng.choice(["alpha", "beta", "pad"], size=int(rng.integers(3, 30)), p=[0.3, 0.1, 0.6])
                day = dt.date(2024, month, 1 + n % 28)
                articles.append(Article(id=f"m{month}-{n:04d}", date=day, title="news", body=" ".join(words)))
            ix.add(*articles)
        ix.delete(*[f"m3-{n:04d}" for n in range(700) if n % 3])  # a segment mostly deleted too

        def kept() -> list[Any]:
            return list(ix._engine.read("t", lambda snap: list(snap._lazy.get("andtop_words", {}))))

        def run() -> list[tuple[int, list[tuple[str, float]]]]:
            out = []
            for low, high in [("2024-02-01", "2024-02-28"), (None, None), ("2024-03-05", "2024-03-20")]:
                found = ix.search("alpha", date_from=low, date_to=high, limit=10, highlight=None)
                out.append((found.total, [(h.article.id, h.score) for h in found.hits]))
                if low == "2024-02-01" and andtop.ENABLED:
                    assert kept(), "the first search, within February alone, kept the word"
            return out

        off, on, used = _both(run)
    assert off == on
    assert used == 3


@contextlib.contextmanager
def _common_words(seed: int, *, days: int = 1) -> Iterator[Index]:
    """Two segments of 1,200 articles, a few deleted; "alpha" in 30% of bodies and 2% of titles;
    dated over ``days`` days from 2024-01-01."""
    rng = np.random.default_rng(seed)
    vocab = ["alpha", "beta", "gamma", "delta", "pad"]
    articles = []
    for n in range(2400):
        words = rng.choice(vocab, size=int(rng.integers(3, 40)), p=[0.3, 0.1, 0.05, 0.05, 0.5])
        title = "alpha news" if rng.random() < 0.02 else "news"
        date = dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, days)))
        articles.append(Article(id=f"d{(n * 7919) % 2400:05d}", date=date, title=title, body=" ".join(words)))
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(*articles[:1200])
        ix.add(*articles[1200:])
        ix.delete(*[a.id for a in articles[::37]])
        yield ix


def test_a_word_searched_while_its_first_search_fills_its_bounds_ranks_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A snapshot is shared by threads: a search of a word arriving while the word's first search
    is still filling its block bounds (simulated: a search made from inside that first kernel
    call) must not read them half-written, and ranks as the numpy path does."""
    fast = kernels.ready()
    real = fast.word_top
    with _common_words(3) as ix:

        def page() -> tuple[int, list[tuple[str, float]]]:
            found = ix.search("alpha", limit=10, highlight=None)
            return found.total, [(h.article.id, h.score) for h in found.hits]

        andtop.ENABLED = False
        want = page()
        andtop.ENABLED = True
        meanwhile: list[tuple[int, list[tuple[str, float]]]] = []

        def word_top(*args: Any) -> Any:
            if not meanwhile:
                meanwhile.append((0, []))
                meanwhile[0] = page()  # "another thread", before this call filled anything
            return real(*args)

        monkeypatch.setattr(fast, "word_top", word_top)
        first = page()
        monkeypatch.setattr(fast, "word_top", real)
        again = page()
    assert meanwhile == [want] and first == want and again == want


def test_kept_words_are_bounded_by_count_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A snapshot keeps at most ``MAX_KEPT_WORDS`` prepared words and ``MAX_KEPT_BYTES`` of their
    bounds: past either it starts again (and a word searched again still ranks the same)."""
    with _common_words(4) as ix:

        def kept() -> Any:
            return ix._engine.read("t", lambda snap: snap._lazy.get("andtop_words"))

        first = [(h.article.id, h.score) for h in ix.search("alpha", highlight=None).hits]
        monkeypatch.setattr(andtop, "MAX_KEPT_WORDS", 2)
        ix.search("beta", highlight=None)
        assert len(kept()) == 2 and kept().bytes > 0
        ix.search("gamma", highlight=None)
        assert list(kept()) == [k for k in kept() if k[1] == ("gamma",)] and len(kept()) == 1
        monkeypatch.setattr(andtop, "MAX_KEPT_WORDS", 100)
        monkeypatch.setattr(andtop, "MAX_KEPT_BYTES", 1)
        again = [(h.article.id, h.score) for h in ix.search("alpha", highlight=None).hits]
        assert len(kept()) == 1 and again == first
