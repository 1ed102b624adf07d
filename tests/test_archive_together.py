"""A ranking round run in the calling process in one pass over every shard equals one run shard by shard.

The archive ranks a round in this process over all target shards' segments together
(:func:`searchlib.archive.tasks.rank_here`, :mod:`searchlib._whoosh.multi`) or, on the
executor, shard by shard ("rank" jobs, :func:`searchlib.archive.tasks.run_on`); the
dispatcher picks either by measured cost, so both must merge to the same page: totals, hits
in order, scores (rel 1e-6), near-duplicate copies, facet counts -- also with hidden ids
(copies a move in flight made redundant), collapsing, recency, date ranges (alone: a page in
article-id order) and sorting by date.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib import Article, DateBucket, Recency, Sort
from searchlib._whoosh import multi
from searchlib.archive import Archive, tasks
from searchlib.archive.ranking import merge_facets, summed_stats
from searchlib.querying import _filters, _parse

WORDS = ["strike", "port", "talks", "wages", "union", "ferry"]
QUERIES = ["strike", "talks wages", "strike OR ferry", '"port talks"', "union -wages", "fer*", ""]

rows = st.lists(
    st.tuples(st.lists(st.integers(0, len(WORDS) - 1), min_size=1, max_size=4), st.integers(0, 700)),
    min_size=1,
    max_size=40,
)


def _articles(drawn: list[tuple[list[int], int]]) -> list[Article]:
    # few, short bodies: many exact copies, so near-duplicate groups form within shards
    return [
        Article(
            id=f"a{(i * 37) % 1000:03d}",  # ids not in document order: ties are broken by id
            date=dt.date(2023, 1, 1) + dt.timedelta(days=day),
            title="report",
            body=" ".join(WORDS[w] for w in words) + ".",
            source=["Wire", "Herald"][i % 2],
        )
        for i, (words, day) in enumerate(drawn)
    ]


def _merge(pages: list[Any], names: list[str], sort: Sort) -> tuple[int, list[Any]]:
    merged = [(*hit, name) for name, page in zip(names, pages, strict=True) for hit in page.hits]
    if sort is Sort.SCORE:
        merged.sort(key=lambda h: (-h[0], h[1]))
    elif sort is Sort.NEWEST:
        merged.sort(key=lambda h: (-h[2], h[1]))
    else:
        merged.sort(key=lambda h: (h[2], h[1]))
    return sum(p.total for p in pages), merged


@pytest.mark.parametrize(("scheme", "shards"), [("hash", 3), ("hash", 7), ("year", 0)])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=rows, data=st.data())
def test_round_in_one_pass_equals_shard_by_shard(scheme: str, shards: int, drawn: Any, data: st.DataObject) -> None:
    articles = _articles(drawn)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Archive.create(Path(tmp) / "a", shard_by=scheme, shards=shards or 4, executor="serial") as archive,
    ):
        archive.add(*articles)
        m = archive.manifest
        names = list(m.shards)
        targets = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True).map(sorted))
        hidden_ids = set(data.draw(st.lists(st.sampled_from([a.id for a in articles]), max_size=5)))
        sort = data.draw(st.sampled_from(list(Sort)))
        collapse = data.draw(st.booleans())
        recency = data.draw(st.sampled_from([None, Recency(half_life_days=30, reference="2024-06-01")]))
        bucket = data.draw(st.sampled_from([None, DateBucket.MONTH]))
        wanted = data.draw(st.integers(1, 12))
        query = data.draw(st.sampled_from(QUERIES))
        window = data.draw(st.sampled_from([(None, None), ("2023-03-01", "2023-09-30"), ("2024-01-01", None)]))
        plan = archive.ranking.plan(_parse(query, False)[0], _filters(*window, (), None))
        scored = sort is Sort.SCORE or recency is not None
        stats = summed_stats(archive, m, plan, query) if scored else None
        args = [
            {
                "plan": plan,
                "query": query,
                "stats": stats,
                "sort": sort,
                "wanted": wanted,
                "collapse": collapse,
                "recency": recency,
                "facets": bucket,
                "hidden": frozenset(hidden_ids),
                "fetch": True,
            }
            for _ in targets
        ]
        indexes = [archive._shard(n) for n in names]
        together = tasks.rank_here(indexes, [names.index(t) for t in targets], query, scored, args)
        # a kept view that keeps serving reads ids from its column of every id: the same pages
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(multi, "WHOLE_COLUMNS_FROM", 2)
            assert tasks.rank_here(indexes, [names.index(t) for t in targets], query, scored, args) == together
        one_by_one = [tasks.run_on(archive._shard(t), "rank", a) for t, a in zip(targets, args, strict=True)]
        total, hits = _merge(together, targets, sort)
        want_total, want_hits = _merge(one_by_one, targets, sort)
        assert total == want_total
        assert [h[1:] for h in hits[:wanted]] == [h[1:] for h in want_hits[:wanted]]
        assert [h[0] for h in hits[:wanted]] == pytest.approx([h[0] for h in want_hits[:wanted]], rel=1e-6)
        assert not {h[1] for h in hits} & hidden_ids
        fetched = {a.id: a for p in together for a in p.articles}
        assert {h[1] for h in hits[:wanted]} <= set(fetched)
        assert all(fetched[h[1]].id == h[1] for h in hits[:wanted])
        if bucket is not None:
            got = merge_facets([p.facets for p in together], bucket, 50)
            assert got == merge_facets([p.facets for p in one_by_one], bucket, 50)
