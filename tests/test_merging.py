"""Merging by copying bytes (``_whoosh/merging.py``, ``columns_merge.py``) and the merge policy.

A segment merged from several (with deletions and updates) must be the segment a fresh build
of the same live documents writes: every Whoosh file byte for byte, the same sidecar arrays,
and equal search results, scores and facets. The policy must leave few segments, never build
one past the byte cap, and commits that merge must lose nothing.
"""

from __future__ import annotations

import errno
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_faults import Faults, faults  # noqa: F401 (the fixture)
from test_sidecar_build import assert_same_columns

from searchlib import Article, Index, IndexProblem, NoExtractor, StorageError, check_index
from searchlib._whoosh import columns_merge, merging, sidecar

WORDS = ["harbour", "council", "storm", "vote", "budget", "talks", "minister", "bank", "rates", "Gdańsk"]
NAMES = ["Anna Weber", "Jon Blake", "Acme Corp", "Berlin", "Paris"]


def _article(i: int, seed: int, version: int = 0) -> Article:
    rng = random.Random(seed * 100_000 + i * 10 + version)
    return Article(
        id=f"a{i}",
        date=f"20{10 + i % 15}-0{1 + i % 9}-{1 + i % 28:02d}",
        title=" ".join(rng.choices(WORDS, k=3)) + (f" v{version}" if version else ""),
        body=" ".join(rng.choices(WORDS, k=rng.randrange(5, 200)))
        + f" unique{i}x{version} "
        + " and ".join(rng.sample(NAMES, k=rng.randrange(0, 3))),
        source=rng.choice(["Wire", "Daily", None]),
    )


def _segments(path: Path) -> list[Any]:
    from whoosh import index as whoosh_index  # test-only look behind the engine boundary

    ix = whoosh_index.open_dir(str(path))
    segments = list(ix._segments())
    ix.close()
    return segments


def _files(path: Path, segment: Any) -> dict[str, bytes]:
    prefix = f"{segment.segment_id()}."
    return {
        p.name[len(prefix) :]: p.read_bytes()
        for p in sorted(path.iterdir())
        if p.name.startswith(prefix) and ".cols." not in p.name
    }


def _incremental(path: Path, seed: int) -> list[Article]:
    """Several commits with deletions and updates, then an optimize; returns the live articles in order."""
    live: dict[str, Article] = {}
    with Index.create(path, extractor=NoExtractor()) as ix:
        for start in range(0, 50, 10):
            batch = [_article(i, seed) for i in range(start, start + 10)]
            ix.add(*batch)
            live.update((a.id, a) for a in batch)
            ix.delete(f"a{start + 3}")
            live.pop(f"a{start + 3}")
        updated = [_article(i, seed, version=2) for i in (5, 12, 44)]
        ix.add(*updated)
        for a in updated:
            live.pop(a.id)
            live[a.id] = a
        with ix.writer() as w:
            w.commit(optimize=True)
    return list(live.values())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_merged_segment_is_byte_for_byte_a_fresh_build(tmp_path: Path, seed: int) -> None:
    merged_path, fresh_path = tmp_path / "merged", tmp_path / "fresh"
    articles = _incremental(merged_path, seed)
    with Index.create(fresh_path, extractor=NoExtractor()) as ix:
        ix.add(*articles)
    (merged,), (fresh,) = _segments(merged_path), _segments(fresh_path)
    assert merged.doc_count_all() == fresh.doc_count_all() == len(articles)
    assert not merged.has_deletions()
    got, want = _files(merged_path, merged), _files(fresh_path, fresh)
    assert got.keys() == want.keys()
    for ext in want:
        assert got[ext] == want[ext], ext
    cols_got = sidecar.load(merged_path, merged.segment_id())
    cols_want = sidecar.load(fresh_path, fresh.segment_id())
    assert cols_got is not None and cols_want is not None
    assert_same_columns(cols_got, cols_want)
    with Index.open(merged_path) as a, Index.open(fresh_path) as b:
        for query in ["harbour", "storm AND vote", '"bank rates"', "title:council", "entity:berlin", "unique12x2"]:
            ra, rb = a.search(query, limit=50), b.search(query, limit=50)
            assert ra.total == rb.total, query
            assert [(h.article.id, h.score) for h in ra.hits] == [(h.article.id, h.score) for h in rb.hits], query
        assert a.facets("harbour") == b.facets("harbour")


def test_merge_keeps_keyword_lengths_exact_without_deletions(tmp_path: Path) -> None:
    path, fresh_path = tmp_path / "merged", tmp_path / "fresh"
    articles = [_article(i, 9) for i in range(30)]
    with Index.create(path, extractor=NoExtractor()) as ix:
        for start in range(0, 30, 10):
            ix.add(*articles[start : start + 10])
        with ix.writer() as w:
            w.commit(optimize=True)
    with Index.create(fresh_path, extractor=NoExtractor()) as ix:
        ix.add(*articles)
    (merged,), (fresh,) = _segments(path), _segments(fresh_path)
    assert merged._fieldlengths == fresh._fieldlengths


def _sizes(docs: list[int], per_doc: int = 4_500) -> list[merging.SegmentSize]:
    return [merging.SegmentSize(n, n * per_doc) for n in docs]


def _simulate(commits: int, per_commit: list[int], per_doc: int = 4_500) -> list[merging.SegmentSize]:
    """Segments after ``commits`` commits each adding segments of ``per_commit`` documents."""
    segments: list[merging.SegmentSize] = []
    for _ in range(commits):
        segments += _sizes(per_commit, per_doc)
        for group in merging.plan_merges(segments):
            merged = merging.SegmentSize(sum(segments[i].docs for i in group), sum(segments[i].bytes for i in group))
            segments = [s for i, s in enumerate(segments) if i not in group] + [merged]
    return segments


def test_the_policy_leaves_few_segments_for_a_default_build() -> None:
    # workers=2, commit_every=10,000: two segments of 5,000 articles a commit
    assert len(_simulate(10, [5_000, 5_000])) <= 3  # 100,000 articles
    million = _simulate(100, [5_000, 5_000])
    assert len(million) <= 12
    assert all(s.bytes <= merging.MAX_SEGMENT_BYTES for s in million)
    assert sum(s.docs for s in million) == 1_000_000
    # commits of one article each: small segments are merged ten at a time
    assert len(_simulate(500, [1])) < 20


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300_000), st.integers(0, 2**30)), max_size=40))
def test_plan_merges_groups_are_disjoint_and_capped(raw: list[tuple[int, int]]) -> None:
    sizes = [merging.SegmentSize(d, b) for d, b in raw]
    groups = merging.plan_merges(sizes)
    seen: set[int] = set()
    for group in groups:
        assert len(group) >= 2 and group == sorted(group)
        assert not seen & set(group)
        seen |= set(group)
        members = [sizes[i] for i in group]
        assert all(s.bytes * 2 < merging.MAX_SEGMENT_BYTES for s in members)
        assert sum(s.bytes for s in members) <= merging.MAX_SEGMENT_BYTES


def test_commits_merge_by_the_policy_and_lose_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(merging, "MIN_LEVEL_DOCS", 5)
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        for batch in range(30):
            ix.add(*[_article(batch * 4 + i, 5) for i in range(4)])
        ix.delete("a7")
        stats = ix.stats()
        assert stats.documents == 119
        assert stats.segments < 10  # thirty commits; merged ten (similar sizes) at a time
        assert ix.search("unique8x0").total == 1 and ix.search("unique7x0").total == 0
        with ix.writer() as w:
            w.add(_article(500, 5))
            w.commit(optimize=True)
        assert ix.stats().segments == 1 and ix.stats().documents == 120
        assert ix.search("unique500x0").total == 1


def test_optimize_of_one_segment_with_deletions_drops_them() -> None:
    ix = Index.in_memory(extractor=NoExtractor())
    ix.add(*[_article(i, 6) for i in range(10)])
    ix.delete("a1", "a2")
    with ix.writer() as w:
        w.commit(optimize=True)
    assert ix.stats().segments == 1 and ix.stats().documents == 8
    assert ix.search("unique3x0").total == 1 and ix.search("unique1x0").total == 0


def test_runs_of_live_documents() -> None:
    live = np.array([True, True, False, True, False, False, True])
    assert columns_merge._runs(live) == [(0, 2), (3, 4), (6, 7)]
    assert columns_merge._runs(np.zeros(3, dtype=bool)) == []


@pytest.mark.parametrize("top", [0, 255, 256, 2**16 - 1, 2**16, 2**31 - 1, 2**31, 2**32 - 1])
def test_typecode_is_whoosh_column_writers(top: int) -> None:
    from whoosh.util.numlists import GrowableArray

    grown = GrowableArray(allow_longs=False)  # what VarBytesColumn's writer keeps offsets and lengths in
    grown.append(top)
    assert columns_merge._typecode(top, "column 'x'") == grown.typecode


def test_typecode_past_whoosh_column_limit_is_an_index_problem() -> None:
    from whoosh.util.numlists import GrowableArray

    with pytest.raises(OverflowError):
        GrowableArray(allow_longs=False).append(2**32)  # Whoosh's limit: 4 GiB, not 2 GB
    with pytest.raises(IndexProblem, match=r"merging segments s1, s2: column '_stored'.*4 GiB") as info:
        columns_merge._typecode(2**32, "merging segments s1, s2: column '_stored'")
    assert "4,294,967,296 bytes" in str(info.value) and "2 GB" not in str(info.value)


@pytest.mark.parametrize("older", [False, True])
@pytest.mark.parametrize("bucket", [7, 1_000_000])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_streamed_sidecar_equals_the_saved_concatenation(
    tmp_path: Path, bucket: int, seed: int, older: bool
) -> None:
    """Also when some sources are version 5 sidecars (every posting's position offset): the
    merged one is version 6 either way, its sampled offsets the same."""
    from test_sidecar_build import _as_version_5

    from searchlib._whoosh import columnar, sidecar_merge

    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        monkey = pytest.MonkeyPatch()
        monkey.setattr(merging, "plan_merges", lambda sizes, **kw: [])
        try:
            for start in range(0, 40, 10):
                ix.add(*[_article(i, seed) for i in range(start, start + 10)])
            ix.delete("a3", "a11", "a12", "a39")
            ix.add(*[_article(i, seed, version=2) for i in (4, 22)])
        finally:
            monkey.undo()
    segments = _segments(path)
    assert len(segments) == 5
    tables = {s.segment_id(): getattr(sidecar.load(path, s.segment_id()), "facets", None) for s in segments}
    if older:
        for segment in segments[::2]:
            _as_version_5(path, segment.segment_id())
    parts = []
    for segment in segments:
        cols = sidecar.load(path, segment.segment_id())
        assert cols is not None
        if cols.facets is None:  # older: sidecar.segment_columns reads it from the Whoosh column they had
            cols.facets = tables[segment.segment_id()]
        live = None
        if segment.has_deletions():
            live = np.ones(segment.doc_count_all(), dtype=bool)
            live[list(segment.deleted_docs())] = False
        parts.append((cols, live))
    out = tmp_path / "out"
    out.mkdir()
    sidecar.save(out, "want", columnar.concat(parts))
    count = sidecar_merge.save_merged(out, "got", parts, bucket=bucket)
    assert count == 36
    assert (out / "got.cols.bin").read_bytes() == (out / "want.cols.bin").read_bytes()
    assert (out / "got.cols.json").read_bytes() == (out / "want.cols.json").read_bytes()
    merged = sidecar.load(out, "got")
    assert merged is not None and sidecar.damage(merged) is None
    assert len(merged.fields["body"].docs) > 3 * columnar.POS_BLOCK  # several sampled offsets


def _levels_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merging, "MIN_LEVEL_DOCS", 2)


@pytest.mark.parametrize("kind", ["create", "write", "open", "rename"])
def test_a_fault_during_a_merging_commit_keeps_the_previous_commit(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    faults: Faults,  # noqa: F811 (the fixture imported from test_faults)
    kind: str,
) -> None:
    """Nine segments of one level, then a tenth commit that merges all ten: faults at points across it."""
    _levels_of_two(monkeypatch)

    def nine(path: Path) -> None:
        with Index.create(path, extractor=NoExtractor()) as ix:
            for batch in range(9):
                ix.add(*[_article(batch * 3 + i, 7) for i in range(3)])
            assert ix.stats().segments == 9

    probe = tmp_path / "probe"
    nine(probe)
    before = dict(faults.counts)
    with Index.open(probe) as ix:
        ix.add(*[_article(100 + i, 7) for i in range(3)])
        assert ix.stats().segments == 1  # the tenth commit merged them
    points = faults.counts[kind] - before[kind]
    assert points > 0
    first = [f"a{i}" for i in range(27)]
    for at in sorted({*range(1, points + 1, max(1, points // 6)), points}):
        path = tmp_path / f"ix-{at}"
        nine(path)
        faults.kind, faults.counts, faults.at = kind, dict.fromkeys(faults.counts, 0), at
        try:
            with Index.open(path) as ix:
                ix.add(*[_article(100 + i, 7) for i in range(3)])
        except StorageError as exc:
            assert exc.operation and str(path) in str(exc)
        faults.kind = None
        with Index.open(path) as ix:
            ids = sorted(h.article.id for h in ix.search("", limit=100))
            assert ids in (sorted(first), sorted([*first, "a100", "a101", "a102"]))
            ix.add(_article(200, 7))  # the lock was released and the index is writable
            assert ix.stats().documents == len(ids) + 1
        problems = check_index(path).problems
        assert all("orphan" in p for p in problems), problems


def test_a_failed_sidecar_write_fails_the_merge_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from searchlib._whoosh import sidecar_merge

    _levels_of_two(monkeypatch)
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        for batch in range(9):
            ix.add(*[_article(batch * 3 + i, 8) for i in range(3)])

    def full(*args: Any, **kwargs: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path / "x.cols.bin"))

    monkeypatch.setattr(sidecar_merge, "save_merged", full)
    tenth = [_article(50 + i, 8) for i in range(3)]
    with Index.open(path) as ix, pytest.raises(StorageError, match="disk full"):
        ix.add(*tenth)
    monkeypatch.undo()
    with Index.open(path) as ix:
        assert ix.stats().documents == 27 and ix.stats().segments == 9
        ix.add(*tenth)
        assert ix.stats().documents == 30 and ix.stats().segments == 1  # the retried commit merges


def test_segments_with_every_document_deleted_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        ix.add(*[_article(i, 4) for i in range(5)])
        ix.add(*[_article(i, 4) for i in range(5, 10)])
        ix.delete(*[f"a{i}" for i in range(5)])  # the first segment's every article
        assert ix.stats().segments == 1 and ix.stats().documents == 5
        ix.delete(*[f"a{i}" for i in range(5, 10)])
        assert ix.stats().segments == 0 and ix.stats().documents == 0
        with ix.writer() as w:
            w.commit(optimize=True)
        assert ix.search("harbour").total == 0
        ix.add(_article(3, 4))
        assert ix.search("unique3x0").total == 1


@settings(max_examples=12, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 8), st.lists(st.integers(0, 40), max_size=4), st.lists(st.integers(0, 40), max_size=3)
        ),
        min_size=2,
        max_size=5,
    ),
    st.integers(0, 3),
)
def test_random_commits_then_optimize_equal_a_fresh_build(
    tmp_path_factory: pytest.TempPathFactory, commits: list[tuple[int, list[int], list[int]]], seed: int
) -> None:
    """Batches, deletions and updates in any order: the optimized segment is a fresh build's, byte for byte."""
    root = tmp_path_factory.mktemp("random")
    live: dict[str, Article] = {}
    next_id = 0
    with Index.create(root / "merged", extractor=NoExtractor()) as ix:
        for version, (size, deleted, updated) in enumerate(commits, start=1):
            batch = [_article(next_id + i, seed) for i in range(size)]
            batch += [_article(i, seed, version=version) for i in updated if f"a{i}" in live]
            next_id += size
            ix.add(*batch)
            for a in batch:
                live.pop(a.id, None)
                live[a.id] = a
            gone = [f"a{i}" for i in deleted if f"a{i}" in live]
            if gone:
                ix.delete(*gone)
                for doc_id in gone:
                    live.pop(doc_id, None)  # (an id may be deleted twice in one call)
        with ix.writer() as w:
            w.commit(optimize=True)
    articles = list(live.values())
    with Index.create(root / "fresh", extractor=NoExtractor()) as ix:
        if articles:
            ix.add(*articles)
    merged, fresh = _segments(root / "merged"), _segments(root / "fresh")
    assert len(merged) == len(fresh) == (1 if articles else 0)
    if articles:
        assert _files(root / "merged", merged[0]) == _files(root / "fresh", fresh[0])
        assert (root / "merged" / f"{merged[0].segment_id()}.cols.bin").read_bytes() == (
            root / "fresh" / f"{fresh[0].segment_id()}.cols.bin"
        ).read_bytes()
