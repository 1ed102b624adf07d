"""Archives of shards answer as one index holding the same articles would (DFS scoring).

Equivalence on random articles and queries for 1, 3 and 7 hash shards and year/month time
shards; article moves between shards, pinned readers, shard failures and the manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import Article, DateBucket, Index, Sort
from searchlib.archive import Archive, Manifest
from searchlib.archive import writer as archive_writer
from searchlib.archive.manifest import read_manifest, write_manifest
from searchlib.errors import ArchiveError, IncompatibleIndexError, IndexNotFoundError

WORDS = ["strike", "port", "talks", "wages", "union", "harbour", "ministry", "budget", "storm", "ferry"]
PEOPLE = ["Anna Kowal", "Jon Berg", "Mia Lund", "Ola Nord"]
QUERIES = [
    "strike",
    "talks wages",
    "strike OR ferry",
    '"port talks"',
    "union -budget",
    'entity:"Anna Kowal"',
    "storm AND (ferry OR harbour)",
    "ferr* OR uni*",
    "",
]
LAYOUTS = [("hash", 1), ("hash", 3), ("hash", 7), ("year", 0), ("month", 0)]


def _article(i: int, words: list[int], day: int, people: list[int]) -> Article:
    body = " ".join(WORDS[w] for w in words) + "."
    date = dt.date(2023, 1, 1) + dt.timedelta(days=day)
    return Article(
        id=f"a{i:03d}",
        date=date,
        title=f"{WORDS[words[0]]} report",
        body=body,
        entities=[PEOPLE[p] for p in people],
        source=["Wire", "Herald"][i % 2],
    )


articles_strategy = st.lists(
    st.tuples(
        st.lists(st.integers(0, len(WORDS) - 1), min_size=1, max_size=12),
        st.integers(0, 900),
        st.lists(st.integers(0, len(PEOPLE) - 1), max_size=2, unique=True),
    ),
    min_size=1,
    max_size=30,
).map(lambda rows: [_article(i, *row) for i, row in enumerate(rows)])


def _build(root: Path, scheme: str, shards: int, articles: list[Article], executor: Any = "serial") -> Archive:
    archive = Archive.create(root, shard_by=scheme, shards=shards or 4, executor=executor)
    archive.add(*articles)
    return archive


def assert_same_search(ix: Index, archive: Archive, query: str, **kw: Any) -> None:
    unpaged = {k: v for k, v in kw.items() if k not in ("offset", "limit")}
    one = ix.search(query, limit=10_000, highlight=None, **unpaged)
    reference = {h.article.id: h for h in one.hits}
    got = archive.search(query, highlight=None, **kw)
    want = ix.search(query, highlight=None, **kw)
    assert got.total == want.total == one.total
    assert len(got.hits) == len(want.hits)
    # Both break ties by article id: the same hits in the same order.
    assert [h.article.id for h in got.hits] == [h.article.id for h in want.hits]
    if kw.get("sort", Sort.SCORE) is Sort.SCORE:
        assert [h.score for h in got.hits] == pytest.approx([h.score for h in want.hits], rel=1e-6)
        for hit in got.hits:
            assert hit.score == pytest.approx(reference[hit.article.id].score, rel=1e-6)
            assert hit.article == reference[hit.article.id].article
    else:
        assert [h.article.date for h in got.hits] == [h.article.date for h in want.hits]
        for hit in got.hits:
            assert hit.article.id in reference
    ranks = [h.rank for h in got.hits]
    assert ranks == [h.rank for h in want.hits]


@pytest.mark.parametrize(("scheme", "shards"), LAYOUTS)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(articles=articles_strategy, data=st.data())
def test_archive_equals_one_index(scheme: str, shards: int, articles: list[Article], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp, Index.in_memory() as ix:
        ix.add(*articles)
        with _build(Path(tmp) / "a", scheme, shards, articles) as archive:
            query = data.draw(st.sampled_from(QUERIES))
            assert_same_search(ix, archive, query, limit=5)
            assert_same_search(ix, archive, query, offset=2, limit=3)
            assert_same_search(ix, archive, query, sort=Sort.NEWEST, limit=4)
            assert_same_search(ix, archive, query, sort=Sort.OLDEST, limit=4, date_from="2023-06")
            assert_same_search(ix, archive, query, date_from="2024-02-10", date_to="2024-11", limit=5)
            assert archive.facets(query, size=3) == ix.facets(query, size=3)
            assert archive.facets(query, bucket=DateBucket.YEAR, entities=["Jon Berg"]) == ix.facets(
                query, bucket=DateBucket.YEAR, entities=["Jon Berg"]
            )
            assert archive.timeline(query) == ix.timeline(query)
            assert archive.timeline(query, date_from="2023-03", bucket=DateBucket.DAY) == ix.timeline(
                query, date_from="2023-03", bucket=DateBucket.DAY
            )
            assert archive.related_entities(query) == ix.related_entities(query)
            assert len(archive) == len(ix)
            assert archive.stats().entities == ix.stats().entities
            some = articles[len(articles) // 2]
            assert archive.get(some.id) == ix.get(some.id)
            assert archive.get("nope") is None


def test_sample_corpus_month_shards_equal_one_index(tmp_path: Path, corpus_index: Index) -> None:
    with Archive.create(tmp_path / "a", shard_by="month", executor="serial") as archive:
        report = archive.ingest([searchlib.sample_corpus_path(), Path(__file__).parent / "data"])
        assert report.added == len(corpus_index)
        assert len(archive.manifest.shards) >= 7
        for query in ['"wage talks" OR strike', "inflation", "talks -strike", "entity:HRB"]:
            assert_same_search(corpus_index, archive, query, limit=7)
        assert archive.related_entities("entity:HRB", size=3) == corpus_index.related_entities("entity:HRB", size=3)
        # Snippets are made as Index makes them.
        got = archive.search("strike", limit=2).hits
        want = {h.article.id: h for h in corpus_index.search("strike", limit=10).hits}
        assert [h.snippets for h in got] == [want[h.article.id].snippets for h in got]


def test_date_filters_prune_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from searchlib.archive import tasks

    articles = [_article(i, [0, i % 5], i * 40, []) for i in range(20)]
    with _build(tmp_path / "a", "year", 0, articles) as archive:
        assert archive.manifest.shards == ("2023", "2024", "2025")
        seen: list[tuple[str, str]] = []
        ranked_here: list[list[int]] = []
        real, real_here = archive._run, tasks.rank_here

        def spy(jobs: Any) -> Any:
            seen.extend((j.kind, j.shard) for j in jobs)
            return real(jobs)

        def spy_here(indexes: Any, targets: Any, *rest: Any) -> Any:
            ranked_here.append(list(targets))
            return real_here(indexes, targets, *rest)

        monkeypatch.setattr(archive, "_run", spy)
        monkeypatch.setattr(tasks, "rank_here", spy_here)
        archive.search("strike", date_from="2024-01-01", date_to="2024-12-31")
        # One ranking round, run in this process: statistics summed over every shard (so scores
        # stay global), only "2024" ranked, and the small page's articles come back with it.
        assert ranked_here == [[1]] and seen == []
        archive.search("strike")
        assert ranked_here == [[1], [0, 1, 2]] and seen == []


class _Remote:
    """An executor standing for a pool or a cluster: runs jobs in this process, remembers them."""

    def __init__(self) -> None:
        self.shards: list[str] = []
        self.rounds: list[list[tuple[str, str]]] = []

    def run(self, jobs: Any) -> list[Any]:
        from searchlib.archive import tasks

        self.shards += [j.shard for j in jobs]
        self.rounds.append([(j.kind, j.shard) for j in jobs])
        return [tasks.run_task(j.path, j.ranking, j.kind, j.args) for j in jobs]

    def close(self) -> None:
        pass


def test_calling_process_takes_one_shard_of_each_round(tmp_path: Path) -> None:
    articles = [_article(i, [0, i % 5], i * 40, []) for i in range(20)]
    remote = _Remote()
    with Archive.create(tmp_path / "a", shard_by="year", executor=remote) as archive, Index.in_memory() as ix:
        archive.add(*articles)
        ix.add(*articles)
        assert_same_search(ix, archive, "strike", date_from="2024-01-01", date_to="2024-12-31")
        assert remote.shards == []  # one shard to rank: no task round trip at all
        assert_same_search(ix, archive, "strike", limit=3)
        assert remote.shards == ["2024", "2025"]  # "2023" ranked here, meanwhile
    with Archive.open(tmp_path / "a", executor=remote, local_share=False) as archive, Index.in_memory() as ix:
        ix.add(*articles)
        remote.rounds.clear()
        assert_same_search(ix, archive, "strike", date_from="2024-01-01", date_to="2024-12-31")
        # a thin client: the words' statistics first (every shard), then one round ranking "2024"
        # and checking the others are still at the commits those statistics came from
        stats = [("stats_at", "2023"), ("stats_at", "2024"), ("stats_at", "2025")]
        ranking = [("rank", "2024"), ("stats_at", "2023"), ("stats_at", "2025")]
        assert remote.rounds == [stats, ranking]
        assert archive._shards == {}  # no shard opened in the calling process
        remote.rounds.clear()
        assert_same_search(ix, archive, "strike", date_from="2024-01-01", date_to="2024-12-31")
        assert remote.rounds == [ranking]  # statistics cached: one round
        remote.rounds.clear()
        assert_same_search(ix, archive, "", date_from="2024-01-01", date_to="2024-12-31")
        assert remote.rounds == [[("rank", "2024")]]  # nothing scored: no statistics at all


@pytest.mark.parametrize("with_rank", [200, 0])
def test_page_articles_fetched_with_ranking_or_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_rank: int
) -> None:
    """Small pages come back with the ranking round; larger ones take a fetching round; same answers."""
    from searchlib.archive import ranking

    monkeypatch.setattr(ranking, "FETCH_WITH_RANK", with_rank)
    articles = [_article(i, [0, i % 5], i * 40, [i % 3]) for i in range(20)]
    ix = Index.create(tmp_path / "one")
    ix.add(*articles)
    with ix, _build(tmp_path / "a", "year", 0, articles) as archive:
        kinds: list[str] = []
        real = archive._run

        def spy(jobs: Any) -> Any:
            kinds.extend(j.kind for j in jobs)
            return real(jobs)

        monkeypatch.setattr(archive, "_run", spy)
        for kw in [{"limit": 3}, {"offset": 4, "limit": 5}, {"sort": Sort.NEWEST, "limit": 4}]:
            assert_same_search(ix, archive, "strike", **kw)
        assert ("fetch" in kinds) == (with_rank == 0)


def test_manifest_is_parsed_again_only_when_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from searchlib.archive import archive as archive_module

    with _build(tmp_path / "a", "year", 0, [_article(i, [0], i * 40, []) for i in range(6)]) as archive:
        archive.search("strike")  # the build replaced the manifest since opening: read it once
        reads: list[Path] = []
        real = archive_module.read_manifest

        def counting(root: Path) -> Manifest:
            reads.append(root)
            return real(root)

        monkeypatch.setattr(archive_module, "read_manifest", counting)
        archive.search("strike")
        archive.search("strike")
        assert reads == []
        before = archive.manifest.generation
        write_manifest(archive.root, attrs_evolve_manifest(archive.manifest, generation=before + 1))
        assert archive.manifest.generation == before + 1
        assert len(reads) == 1


def attrs_evolve_manifest(m: Manifest, **changes: Any) -> Manifest:
    import attrs

    return attrs.evolve(m, **changes)


def test_update_moves_article_between_shards(tmp_path: Path) -> None:
    first = Article(id="x", date="2023-05-01", body="Ferry strike at the port.")
    with Archive.create(tmp_path / "a", shard_by="year", executor="serial") as archive:
        archive.add(first, Article(id="y", date="2024-01-01", body="Budget talks."))
        with archive.writer() as w:
            w.update(attrs_evolve(first, date=dt.date(2024, 7, 1)))
        assert archive.get("x") is not None and archive.get("x").date == dt.date(2024, 7, 1)  # type: ignore[union-attr]
        assert archive.search("ferry").total == 1
        assert archive.manifest.moving == {}
        with Index.open(tmp_path / "a" / "shards" / "2023") as old:
            assert old.get("x") is None  # every shard stays an ordinary index
        with Index.open(tmp_path / "a" / "shards" / "2024") as new:
            assert new.get("x") is not None
        with archive.writer() as w, pytest.raises(searchlib.DocumentNotFoundError):
            w.update(Article(id="ghost", date="2024-01-01", body="x"))
        assert archive.delete("x") == 1
        assert archive.search("ferry").total == 0


def attrs_evolve(article: Article, **changes: Any) -> Article:
    import attrs

    return attrs.evolve(article, **changes)


def test_readers_never_see_a_moving_article_twice_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run a reader after every manifest write and every shard commit of a move."""
    root = tmp_path / "a"
    moved = [Article(id=f"m{i}", date="2023-03-01", body=f"Harbour storm number {i}.") for i in range(3)]
    with Archive.create(root, shard_by="year", executor="serial") as archive:
        archive.add(*moved, Article(id="s", date="2025-01-01", body="Harbour storm, still."))
        reader = Archive.open(root, executor="serial")
        observed: list[int] = []

        def look() -> None:
            observed.append(reader.search("harbour storm").total)
            assert len({h.article.id for h in reader.search("harbour storm", limit=20).hits}) == observed[-1]

        real_manifest = archive_writer.write_manifest
        real_commit = searchlib.Writer.commit

        def manifest_then_look(r: Path, m: Manifest) -> None:
            real_manifest(r, m)
            look()

        def commit_then_look(self: searchlib.Writer, **kw: Any) -> None:
            real_commit(self, **kw)
            look()

        monkeypatch.setattr(archive_writer, "write_manifest", manifest_then_look)
        monkeypatch.setattr(searchlib.Writer, "commit", commit_then_look)
        with archive.writer() as w:
            for article in moved:
                w.add(attrs_evolve(article, date=dt.date(2024, 2, 2)))
        reader.close()
        assert len(observed) >= 5  # three manifest versions and the shard commits in between
        assert set(observed) == {4}
        assert {archive.get(a.id).date for a in moved} == {dt.date(2024, 2, 2)}  # type: ignore[union-attr]


def test_failed_shard_leaves_others_committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "a"
    with Archive.create(root, shard_by="year", executor="serial") as archive:
        archive.add(Article(id="old", date="2023-01-01", body="Ferry talks."))
        real_commit = searchlib.Writer.commit

        def failing(self: searchlib.Writer, **kw: Any) -> None:
            if self._index.path is not None and self._index.path.name == "2024":
                self.cancel()
                raise OSError(28, "No space left on device")
            real_commit(self, **kw)

        monkeypatch.setattr(searchlib.Writer, "commit", failing)
        with pytest.raises(ArchiveError, match="2024") as info, archive.writer() as w:
            w.add(Article(id="a", date="2023-06-01", body="Ferry strike."))
            w.add(Article(id="b", date="2024-06-01", body="Ferry storm."))
            w.add(attrs_evolve(Article(id="old", date="2023-01-01", body="Ferry talks."), date=dt.date(2024, 1, 1)))
        assert info.value.shard == "2024"
        monkeypatch.setattr(searchlib.Writer, "commit", real_commit)
        manifest = read_manifest(root)
        assert manifest.moving == {}
        assert "2024" in manifest.shards
        assert archive.get("a") is not None and archive.get("b") is None
        assert archive.get("old").date == dt.date(2023, 1, 1)  # type: ignore[union-attr]  # the move did not happen
        assert archive.search("ferry").total == 2


@pytest.mark.parametrize("scheme", ["year", "hash"])
def test_a_missing_shard_is_an_error_never_an_empty_shard(tmp_path: Path, scheme: str) -> None:
    """A shard the manifest lists but whose folder is gone: every read and write names it.

    Reading used to make an empty index in its place and answer without its articles.
    """
    import shutil

    root = tmp_path / "a"
    articles = [Article(id=f"x{i}", date=f"{2020 + i % 3}-05-0{1 + i % 5}", body="Ferry strike.") for i in range(12)]
    with Archive.create(root, shard_by=scheme, shards=3, executor="serial") as archive:
        archive.add(*articles)
        gone = archive.manifest.shards[1]
    shutil.rmtree(root / "shards" / gone)
    with Archive.open(root, executor="serial") as archive:
        for read in (
            lambda: archive.search("ferry"),
            lambda: archive.search("ferry", sort=Sort.NEWEST),
            lambda: archive.facets("ferry"),
            lambda: archive.timeline("ferry"),
            lambda: len(archive),
            lambda: [archive.get(a.id) for a in articles],
        ):
            with pytest.raises(ArchiveError) as info:
                read()
            assert info.value.shard == gone
        with pytest.raises(ArchiveError), archive.writer() as w:
            for a in articles:
                w.delete(a.id)
    assert not (root / "shards" / gone).exists()  # no empty index made in its place
    assert any(f"shard {gone}" in p for p in searchlib.check_index(root).problems)


def test_manifest_round_trip_and_errors(tmp_path: Path) -> None:
    m = Manifest(scheme="hash", hash_shards=3, shards=("h002", "h000"), generation=4, moving={"b": "h000", "a": "h2"})
    write_manifest(tmp_path, m)
    assert read_manifest(tmp_path) == m
    assert [p.name for p in tmp_path.iterdir()] == ["archive.json"]  # no temporary file left
    data = json.loads((tmp_path / "archive.json").read_text())
    assert data["format"] == 1 and data["kind"] == "searchlib-archive"
    (tmp_path / "archive.json").write_text(json.dumps({**data, "format": 99}))
    with pytest.raises(IncompatibleIndexError, match="format 99"):
        read_manifest(tmp_path)
    (tmp_path / "archive.json").write_text("{not json")
    with pytest.raises(IncompatibleIndexError, match="damaged manifest"):
        read_manifest(tmp_path)
    with pytest.raises(IndexNotFoundError):
        Archive.open(tmp_path / "missing")
    with pytest.raises(ValueError, match="shard scheme"):
        Manifest(scheme="week")
    with pytest.raises(ValueError, match="between 1 and 4096"):
        Manifest(scheme="hash", hash_shards=0)


def test_archive_writer_lock(tmp_path: Path) -> None:
    with Archive.create(tmp_path / "a", executor="serial") as archive:
        with archive.writer(), pytest.raises(searchlib.IndexLockedError):
            archive.writer()
        archive.add(Article(id="z", date="2020-02-02", body="Ferry."))
        assert archive.get("z") is not None


@pytest.fixture(scope="module")
def process_archive() -> Iterator[tuple[Archive, Index]]:
    articles = [_article(i, [i % 10, (i * 3) % 10, (i * 7) % 10], i * 17, [i % 4]) for i in range(40)]
    with tempfile.TemporaryDirectory() as tmp:
        ix = Index.in_memory()
        ix.add(*articles)
        archive = _build(Path(tmp) / "a", "year", 0, articles, executor="process")
        yield archive, ix
        archive.close()
        ix.close()


def test_process_pool_equals_one_index(process_archive: tuple[Archive, Index]) -> None:
    archive, ix = process_archive
    for query in QUERIES[:4]:
        assert_same_search(ix, archive, query, limit=5)
        assert archive.facets(query) == ix.facets(query)


def test_process_pool_worker_death_is_survived(process_archive: tuple[Archive, Index]) -> None:
    archive, ix = process_archive
    archive.search("strike")  # the pool is running
    executor = archive._executor
    pids = executor.pids()  # type: ignore[attr-defined]
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for worker in executor._pool._workers:  # type: ignore[attr-defined]
        if worker is not None:
            worker.process.join(10)
    # Dead between queries: replaced before the next round, which gets a whole answer
    # (a death mid-query is an ArchiveError: tests/test_archive_pool.py).
    assert archive.search("ferry").total == ix.search("ferry").total


@pytest.mark.parametrize(
    "error",
    [
        searchlib.QuerySyntaxError("unclosed quote", query='"a', position=0),
        ArchiveError("shard 'h001' failed", path="/x", shard="h001"),
        searchlib.IndexLockedError("held", path="/x", holder="pid 1"),
    ],
)
def test_errors_cross_process_boundaries_whole(error: searchlib.SearchlibError) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error) and copy.__dict__ == error.__dict__
