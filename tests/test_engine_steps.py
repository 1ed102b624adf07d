"""The engine's array steps against brute force: every strategy each step picks by size.

Ranking (:func:`searchlib._whoosh.topk.top`), intersections and unions switch strategy by
the lengths and spread of their inputs (a sampled bound, a boolean mark array, a dense score
array, binary search, a sorted merge). The thresholds are set here so that small random
inputs take every branch, and each result must equal the plain-Python reference exactly:
the same documents, the same order, the same float scores (an OR adds a document's scores
left to right, ``((s0 + s1) + s2) + ...``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib import Article, Entity, EntityKind, Index, NoExtractor
from searchlib._whoosh import daterange, docsets, fused, kernels, phrases, topk
from searchlib._whoosh import engine as we
from searchlib._whoosh import evaluate as ev
from tests.conftest import require

I64 = npt.NDArray[np.int64]
PATCHED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def numpy_path() -> None:
    kernels.disable()  # these are the numpy twins of the kernels


def _ids(values: list[int]) -> I64:
    return np.asarray(sorted(set(values)), dtype=np.int64)


@PATCHED
@given(
    st.lists(st.sampled_from([0.0, -0.5, -1.0, -1.25, -2.0, -3.5]), min_size=1, max_size=300),
    st.integers(1, 12),
    st.randoms(use_true_random=False),
    st.sampled_from([1, 2, 8]),
    st.sampled_from([0, 256]),
)
def test_top_is_the_k_smallest_pairs_in_order(
    monkeypatch: pytest.MonkeyPatch, values: list[float], k: int, rnd: object, per_hit: int, sort_all: int
) -> None:
    monkeypatch.setattr(topk, "SAMPLE_PER_HIT", per_hit)  # small arrays take the sampled bound too
    monkeypatch.setattr(topk, "SORT_ALL", sort_all)  # partitioned, or sorted whole
    primary = np.asarray(values)
    keys = list(range(len(values)))
    rnd.shuffle(keys)  # type: ignore[attr-defined]
    secondary = np.asarray(keys, dtype=np.int64)
    looked_up: list[int] = []

    def tie_keys(indices: I64) -> I64:
        looked_up.append(len(indices))
        found: I64 = secondary[indices]
        return found

    expected = sorted(range(len(values)), key=lambda i: (values[i], keys[i]))[:k]
    assert topk.top(primary, tie_keys, k).tolist() == expected


@PATCHED
@given(
    st.lists(st.floats(-100, 0, allow_nan=False), min_size=1, max_size=300, unique=True),
    st.integers(1, 12),
    st.sampled_from([0, 256]),
)
def test_top_without_ties_looks_no_tie_breaking_key_up(
    monkeypatch: pytest.MonkeyPatch, values: list[float], k: int, sort_all: int
) -> None:
    """Distinct scores order a page alone: the article ids (the costly tie-breaking keys) are
    not looked up."""
    monkeypatch.setattr(topk, "SORT_ALL", sort_all)
    looked_up: list[int] = []

    def tie_keys(indices: I64) -> I64:
        looked_up.append(len(indices))
        return np.asarray(indices, dtype=np.int64)

    expected = sorted(range(len(values)), key=lambda i: values[i])[:k]
    assert topk.top(np.asarray(values), tie_keys, k).tolist() == expected
    assert looked_up == []


@PATCHED
@given(
    st.lists(st.integers(0, 400), max_size=80),
    st.lists(st.integers(0, 400), max_size=80),
    st.integers(0, 2**40),
    st.sampled_from([1, 4, 1000]),
    st.sampled_from([1, 64, 10**9]),
)
def test_intersections_are_the_common_documents(
    monkeypatch: pytest.MonkeyPatch, left: list[int], right: list[int], base: int, ratio: int, span: int
) -> None:
    monkeypatch.setattr(docsets, "SEARCH_RATIO", ratio)
    monkeypatch.setattr(docsets, "DENSE_SPAN", span)
    a, b = _ids(left) + base, _ids(right) + base
    assert docsets.intersect(a, b).tolist() == sorted(set(a.tolist()) & set(b.tolist()))


@PATCHED
@given(
    st.lists(
        st.dictionaries(st.integers(0, 300), st.floats(0, 50, allow_nan=False, allow_subnormal=False), max_size=60),
        max_size=4,
    ),
    st.integers(0, 10**6),
    st.sampled_from([1, 16, 10**6]),
    st.booleans(),
)
def test_unions_add_scores_left_to_right(
    monkeypatch: pytest.MonkeyPatch, parts: list[dict[int, float]], base: int, dense: int, in_scratch: bool
) -> None:
    monkeypatch.setattr(ev, "DENSE_UNION", dense)
    arrays = [
        (np.asarray(sorted(p), dtype=np.int64) + base, np.asarray([p[d] for d in sorted(p)], dtype=np.float64))
        for p in parts
    ]
    expected: dict[int, float] = {}
    for part in parts:
        for doc, score in part.items():
            expected[doc + base] = expected[doc + base] + score if doc + base in expected else score
    layout = ev.Layout([]) if in_scratch else None
    if layout is not None:
        layout.size = base + 301  # the per-thread arrays over every document number
    for _ in range(2):  # the second time in the arrays the first left zeroed
        docs, scores = ev._union(arrays, layout)
        assert docs.tolist() == sorted(expected)
        assert scores.tolist() == [expected[d] for d in sorted(expected)]  # bit for bit
    if layout is not None:
        assert layout.take("sums", np.float64) is not None  # given back, all zeros again
        assert layout.take("seen", np.bool_) is not None
        assert not layout._scratch.arrays["sums"].any() and not layout._scratch.arrays["seen"].any()


DAYS = [dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 1, 31), dt.date(2024, 2, 1), dt.date(2025, 3, 9)]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(st.text("abcxyz", min_size=1, max_size=3), st.sampled_from(DAYS)), min_size=1, max_size=30),
    st.lists(st.integers(0, 40), max_size=4),
    st.sampled_from(DAYS),
    st.sampled_from(DAYS),
    st.integers(0, 3),
    st.integers(0, 12),
    st.booleans(),
    st.booleans(),
)
def test_a_date_range_alone_pages_and_counts_like_brute_force(
    monkeypatch: pytest.MonkeyPatch,
    docs: list[tuple[str, dt.date]],
    deletes: list[int],
    start: dt.date,
    end: dt.date,
    offset: int,
    limit: int,
    as_filter: bool,
    short_steps: bool,
) -> None:
    """Its total from counts per day, its page from each segment's id order (updates and
    deletions included): the live articles in the range, smallest ids first."""
    if short_steps:  # walk the id order one document, then 4, 16, ...
        monkeypatch.setattr(daterange, "FIRST_CHUNK", 1)
        monkeypatch.setattr(daterange, "SLACK", 0.0)
    if not as_filter:  # the query language refuses a range that starts after it ends
        start, end = min(start, end), max(start, end)
    with Index.in_memory(extractor=NoExtractor()) as ix:
        latest: dict[str, Article] = {}
        for at in range(0, len(docs), 3):  # several segments; a repeated id replaces the article
            batch = {name: Article(id=name, date=day, body="storm") for name, day in docs[at : at + 3]}
            ix.add(*batch.values())
            latest.update(batch)
        gone = {docs[i % len(docs)][0] for i in deletes}
        ix.delete(*gone)
        live = sorted(a.id for a in latest.values() if a.id not in gone and start <= a.date <= end)
        if as_filter:
            found = ix.search("", date_from=start, date_to=end, offset=offset, limit=limit, highlight=None)
        else:
            found = ix.search(f"date:[{start} TO {end}]", offset=offset, limit=limit, highlight=None)
        assert found.total == len(live)
        assert [h.article.id for h in found.hits] == live[offset : offset + limit]


WORDS = ["storm", "harbour", "vote", "bank"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), st.lists(st.sampled_from(WORDS), max_size=2)
        ),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.integers(0, 50), max_size=4),
    st.sampled_from(["storm", "harbour", '"storm harbour"', "title:vote"]),
    st.integers(0, 3),
    st.integers(1, 6),
)
def test_a_word_alone_ranked_by_its_pseudo_frequency_pages_like_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
    docs: list[tuple[list[str], list[str]]],
    deletes: list[int],
    text: str,
    offset: int,
    limit: int,
) -> None:
    """Sampling a bound on the pseudo frequency and scoring near it alone gives the page (ids,
    scores bit for bit, ties by id) and the total that scoring every match does."""
    sampled: list[bool] = []

    def spy(values: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.intp] | None:
        found = topk.near_largest(values, k)
        sampled.append(found is not None)
        return found

    monkeypatch.setattr(we, "near_largest", spy)
    with Index.in_memory(extractor=NoExtractor()) as ix:
        arts = [
            Article(id=f"a{n % 29:02d}", date=DAYS[n % 5], title=" ".join(title) or "x", body=" ".join(body))
            for n, (body, title) in enumerate(docs)
        ]
        for at in range(0, len(arts), 7):
            ix.add(*arts[at : at + 7])
        ix.delete(*{arts[i % len(arts)].id for i in deletes})
        pages = []
        for per_hit in (10**9, 1):  # never sampled, then sampled whenever possible
            monkeypatch.setattr(topk, "SAMPLE_PER_HIT", per_hit)
            found = ix.search(text, offset=offset, limit=limit, highlight=None)
            pages.append((found.total, [(h.article.id, h.score) for h in found.hits]))
        assert pages[0] == pages[1]
    assert not any(sampled[: len(sampled) // 2])  # (the first search: never sampled)


def test_a_common_word_is_ranked_from_a_sampled_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    sampled: list[bool] = []

    def spy(values: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.intp] | None:
        found = topk.near_largest(values, k)
        sampled.append(found is not None)
        return found

    monkeypatch.setattr(we, "near_largest", spy)
    monkeypatch.setattr(topk, "SAMPLE_PER_HIT", 1)
    with Index.in_memory(extractor=NoExtractor()) as ix:
        ix.add(*(Article(id=f"a{n:03d}", date=DAYS[0], body="storm " * (1 + n % 5)) for n in range(200)))
        found = ix.search("storm", limit=2, highlight=None)
    assert sampled == [True]
    assert found.total == 200
    assert [h.article.id for h in found.hits] == ["a004", "a009"]  # five times "storm", smallest ids


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 5)), max_size=40))
def test_repeating_ascending_values_is_numpys_repeat(runs: list[tuple[int, int]]) -> None:
    values = np.asarray(sorted(v for v, _ in runs), dtype=np.int64) << np.int64(32)
    counts = np.asarray([c for _, c in runs], dtype=np.int64)
    assert phrases._repeat(values, counts).tolist() == np.repeat(values, counts).tolist()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), min_size=1, max_size=40),
    st.lists(st.integers(0, 50), max_size=4),
    st.sampled_from(["storm AND harbour", "vote AND storm AND bank", "source:wire AND storm", "storm -bank"]),
)
def test_an_and_looking_words_up_within_its_matches_equals_gathering_them(
    monkeypatch: pytest.MonkeyPatch, docs: list[list[str]], deletes: list[int], text: str
) -> None:
    """Looking a word's postings up for the documents an AND has left (``WITHIN_RATIO``) gives
    the same page, scores and total as gathering the word's whole list."""
    with Index.in_memory(extractor=NoExtractor()) as ix:
        arts = [
            Article(id=f"a{n:02d}", date=DAYS[n % 5], body=" ".join(body), source="Wire" if n % 3 else "Daily")
            for n, body in enumerate(docs)
        ]
        for at in range(0, len(arts), 6):
            ix.add(*arts[at : at + 6])
        ix.delete(*{arts[i % len(arts)].id for i in deletes})
        pages = []
        for ratio in (10**9, 0):  # never, then whenever the AND has documents already
            monkeypatch.setattr(ev, "WITHIN_RATIO", ratio)
            found = ix.search(text, limit=50, highlight=None)
            pages.append((found.total, [(h.article.id, h.score) for h in found.hits]))
        assert pages[0] == pages[1]


def test_an_and_does_not_intersect_what_it_looked_up_within_its_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    """A word looked up for the documents an AND has left returns a subset of them: the AND
    takes it as its documents, with no intersection (one numpy pass fewer per such word)."""
    calls: list[int] = []
    real = ev.intersect

    def counted(left: I64, right: I64) -> I64:
        calls.append(1)
        return real(left, right)

    with Index.in_memory(extractor=NoExtractor()) as ix:
        bodies = ["vote storm bank", "vote storm", "storm bank vote harbour", "bank", "vote bank storm"]
        ix.add(*(Article(id=f"a{n}", date=DAYS[n % 5], body=body) for n, body in enumerate(bodies)))
        expected = ix.search("vote AND storm AND bank", limit=10, highlight=None)
        monkeypatch.setattr(ev, "WITHIN_RATIO", 0)  # every word after the first looked up within
        monkeypatch.setattr(ev, "intersect", counted)
        found = ix.search("vote AND storm AND bank", limit=10, highlight=None)
    assert calls == []
    assert [(h.article.id, h.score) for h in found.hits] == [(h.article.id, h.score) for h in expected.hits]
    assert found.total == expected.total == 3


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 400), max_size=80), st.lists(st.integers(0, 400), max_size=300))
def test_numbas_gallop_locates_like_binary_search(docs: list[int], within: list[int]) -> None:
    """numba's ``locate`` (a gallop through the longer list) finds the positions numpy's binary
    search does, and which of the shorter list they are."""
    require("numba")
    from searchlib._whoosh import _numba_kernels

    a, b = _ids(docs), _ids(within)
    at, which = _numba_kernels.locate(a, b)
    expected = [(i, b.tolist().index(d)) for i, d in enumerate(a.tolist()) if d in set(b.tolist())]
    assert list(zip(which.tolist(), at.tolist(), strict=True)) == expected
    values = np.arange(len(a), dtype=np.float64) / 3
    numpy_at, numpy_values = docsets.locate(a, values, b)  # kernels disabled here: numpy's path
    if len(a) <= len(b):
        assert numpy_at.tolist() == at.tolist()
        assert numpy_values.tolist() == values[which].tolist()


@pytest.mark.parametrize("few", [0, 100])
def test_postings_gathered_from_several_segments_carry_their_bases(monkeypatch: pytest.MonkeyPatch, few: int) -> None:
    """A word's postings over several segments: each segment's base added slice by slice (up to
    ``FEW_PARTS`` segments) or by one repeated array (more) -- the same global documents."""
    monkeypatch.setattr(ev, "FEW_PARTS", few)
    with Index.in_memory(extractor=NoExtractor()) as ix:
        bodies = ["storm storm", "calm", "storm", "calm sea", "sea storm", "storm", "calm", "storm storm storm"]
        for at in range(0, len(bodies), 2):  # four segments
            ix.add(*(Article(id=f"a{n}", date=DAYS[n % 5], body=bodies[n]) for n in range(at, at + 2)))

        def run(snap: we.ColumnarSnapshot) -> tuple[list[int], list[float], list[int]]:
            docs, freqs = snap.layout.postings("body", "storm")
            return docs.tolist(), freqs.tolist(), [off for _, off in snap.layout.parts]

        docs, freqs, offsets = ix._engine.read("test", run)
        ids = ix._engine.read("test", lambda snap: [str(i) for i in snap.ids()[docs]])
    assert len(offsets) == 4
    assert ids == ["a0", "a2", "a4", "a5", "a7"]
    assert freqs == [2.0, 1.0, 1.0, 1.0, 3.0]


_PEOPLE = [
    Entity("Ann Lee", EntityKind.PERSON),
    Entity("Bo Storm", EntityKind.PERSON),
    Entity("Vote Bank", EntityKind.ORG),
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(WORDS), min_size=1, max_size=8),
            st.lists(st.sampled_from(WORDS), max_size=3),
            st.lists(st.sampled_from(range(len(_PEOPLE))), max_size=2, unique=True),
        ),
        min_size=1,
        max_size=30,
    ),
    st.lists(st.integers(0, 50), max_size=4),
    st.sampled_from(
        [
            "storm AND harbour",
            "vote AND storm AND bank",
            "storm AND bank AND title:vote",
            "(storm AND vote) -harbour",
            'storm AND harbour AND entity:"Ann Lee"',
            "vote AND bank AND date:[2024-01-01 TO 2024-12-31]",
        ]
    ),
)
def test_an_ands_words_scored_together_score_like_one_by_one(
    monkeypatch: pytest.MonkeyPatch, docs: list[tuple[list[str], list[str], list[int]]], deletes: list[int], text: str
) -> None:
    """The words of an AND scored as one matrix (:mod:`.fused`: one gather per field for all of
    them) give the page, scores (``==``) and total of scoring them one by one -- titles,
    entity text, several segments, deletions."""
    calls: list[int] = []
    real = fused.group_scores

    def spy(*args: object, **kwargs: object) -> npt.NDArray[np.float64]:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fused, "group_scores", spy)
    with Index.in_memory(extractor=NoExtractor()) as ix:
        arts = [
            Article(
                id=f"a{n:02d}",
                date=DAYS[n % 5],
                title=" ".join(title),
                body=" ".join(body),
                entities=tuple(_PEOPLE[i] for i in people),
            )
            for n, (body, title, people) in enumerate(docs)
        ]
        for at in range(0, len(arts), 7):
            ix.add(*arts[at : at + 7])
        ix.delete(*{arts[i % len(arts)].id for i in deletes})
        pages = []
        for on in (False, True):
            monkeypatch.setattr(fused, "ENABLED", on)
            found = ix.search(text, limit=50, highlight=None)
            pages.append((found.total, [(h.article.id, h.score) for h in found.hits]))
        assert pages[0] == pages[1]
        if pages[0][0]:
            assert calls  # the matrix path ran (two words or more matched somewhere)


def test_numbas_add_field_walks_a_words_other_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """On numba's path a word's title and entity-text frequencies are added by ``add_field``
    segment by segment (no list gathered), with the numpy path's page and scores exactly."""
    require("numba")
    bodies = ["storm vote", "storm", "vote bank storm", "harbour storm storm", "bank", "storm bank", "vote"]
    titles = ["storm", "", "storm storm", "vote", "", "bank storm", "storm"]
    with Index.in_memory(extractor=NoExtractor()) as ix:
        for at in range(0, len(bodies), 3):  # three segments
            ix.add(
                *(
                    Article(
                        id=f"a{n}",
                        date=DAYS[n % 5],
                        title=titles[n],
                        body=bodies[n],
                        entities=(_PEOPLE[1],) if n % 2 else (),
                    )
                    for n in range(at, min(at + 3, len(bodies)))
                )
            )
        texts = ["storm", "storm AND vote", "storm OR bank", 'storm AND entity:"Bo Storm"']
        kernels.disable()
        on_numpy = [[(h.article.id, h.score) for h in ix.search(t, limit=10, highlight=None).hits] for t in texts]
        try:
            fast = kernels.load()
            assert fast is not None
            monkeypatch.setattr(kernels, "SYNC", True)
            calls: list[int] = []
            real = fast.add_field

            def counted(*args: object) -> None:
                calls.append(1)
                real(*args)

            monkeypatch.setattr(fast, "add_field", counted)
            on_numba = [[(h.article.id, h.score) for h in ix.search(t, limit=10, highlight=None).hits] for t in texts]
        finally:
            kernels.disable()
    assert on_numpy[0]
    assert on_numba == on_numpy
    assert calls
