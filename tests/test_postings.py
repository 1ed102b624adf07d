"""Segments written through the in-memory postings buffer must be byte-identical to Whoosh's."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from whoosh import index as wix
from whoosh import writing

from searchlib import Article
from searchlib._whoosh import schema as sch
from searchlib._whoosh.fastwrite import FastKeyword, FastSegmentWriter
from searchlib._whoosh.postings import MemoryPostings
from searchlib.entities import RuleExtractor, entities_for

WORDS = [
    *("talks", "budget", "minister", "Berlin", "harbour", "storm", "vote"),
    *("council", "the", "of", "rates", "bank", "Tariffs", "striking"),
]


def _articles(count: int, seed: int) -> list[Article]:
    rng = random.Random(seed)
    people = ["Anna Weber", "Jon Blake", "Mara Oduya"]
    return [
        Article(
            id=f"a{n}",
            date=dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(400)),
            title=" ".join(rng.choices(WORDS, k=4)),
            body=" ".join(rng.choices(WORDS + people, k=rng.randrange(1, 300))) + ".",
            source=rng.choice(["Wire", None]),
        )
        for n in range(count)
    ]


def _documents(articles: list[Article]) -> list[dict[str, object]]:
    extractor = RuleExtractor()
    return [
        sch.to_document(
            a, entities_for(a.title, a.body, None, extractor, {}), "x", sketch=(1, 2), group=a.id, extracted=True
        )
        for a in articles
    ]


def _build(path: Path, writer_class: type, articles: list[Article], limit: int | None) -> dict[str, bytes]:
    path.mkdir()
    ix = wix.create_in(str(path), sch.build_schema())
    writer = writer_class(ix, compound=False)
    if limit is not None:
        writer._memory.limit = limit
    for doc in _documents(articles):
        writer.add_document(**doc)
    writer.commit()
    return {f.suffix: f.read_bytes() for f in path.iterdir() if f.suffix in {".trm", ".pst", ".lns", ".sto"}}


@pytest.mark.parametrize("count", [1, 300])
def test_fast_writer_files_equal_whooshs(tmp_path: Path, count: int) -> None:
    articles = _articles(count, seed=count)
    expected = _build(tmp_path / "whoosh", writing.SegmentWriter, articles, None)
    got = _build(tmp_path / "fast", FastSegmentWriter, articles, None)
    assert set(got) == {".trm", ".pst"} | (set(expected) & {".lns", ".sto"})
    assert got == expected


def _postings(path: Path) -> dict[tuple[str, bytes], tuple[object, ...]]:
    """Every term's statistics and postings, read back through Whoosh's reader."""
    found: dict[tuple[str, bytes], tuple[object, ...]] = {}
    with wix.open_dir(str(path)).reader() as reader:
        for fieldname, btext in reader.all_terms():
            info = reader.term_info(fieldname, btext)
            stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight())
            matcher = reader.postings(fieldname, btext)
            items = []
            while matcher.is_active():
                items.append((matcher.id(), matcher.weight(), matcher.value(), matcher.block_max_length()))
                matcher.next()
            found[fieldname, btext] = (stats, items)
    return found


@pytest.mark.parametrize("limit", [1, 1_000, 30_000])
def test_spilled_runs_read_back_like_whooshs_postings(tmp_path: Path, limit: int) -> None:
    """Buffers written to temporary runs and merged at flush give Whoosh's postings and statistics.

    (Not byte for byte: runs read back equal values as distinct objects, which pickle no
    longer shares inside a block.)
    """
    articles = _articles(300, seed=5)
    _build(tmp_path / "whoosh", writing.SegmentWriter, articles, None)
    _build(tmp_path / "fast", FastSegmentWriter, articles, limit)
    assert _postings(tmp_path / "fast") == _postings(tmp_path / "whoosh")


def test_posting_lists_longer_than_a_block_read_back(tmp_path: Path) -> None:
    """Terms in every document span several 128-posting blocks; reading them back is exact."""
    articles = _articles(700, seed=7)
    _build(tmp_path / "ix", FastSegmentWriter, articles, None)
    with wix.open_dir(str(tmp_path / "ix")).reader() as reader:
        for word in ("talk", "budget"):
            expected = [n for n, d in enumerate(_documents(articles)) if word in sch.analyze(str(d["body"]))]
            assert list(reader.postings("body", word).all_ids()) == expected


class _Lists:
    """A sink keeping each (field, term) list's documents, as ColumnsBuilder keeps a keyword field's."""

    def __init__(self) -> None:
        self.lists: list[tuple[str, bytes, list[int]]] = []

    def add_term(self, fieldname: str, tbytes: bytes, ids: object, *rest: object) -> None:
        self.lists.append((fieldname, tbytes, list(ids)))  # type: ignore[call-overload]


def _keyword_values(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names = ["Ann Lee", "Bo", "Zoë Kraus", "IDF", "U.S.", " padded ", ""]
    return [",".join(rng.choice(names) for _ in range(rng.randrange(0, 6))) for _ in range(count)]


@pytest.mark.parametrize("limit", [3, 10_000])
def test_documents_only_lists_equal_the_full_postings_lists(limit: int) -> None:
    """add_docs (format 10's keyword fields) hands the sink the same documents per term as add, spilled or not."""
    field = sch.build_schema()["entity"]
    values = _keyword_values(200, 7)
    full, docs_only = MemoryPostings(limit), MemoryPostings(limit)
    for docnum, value in enumerate(values):
        full.add("entity", docnum, field.index(value), 1.0)
        docs_only.add_docs("entity", docnum, FastKeyword.keys(value))
        if full.full:
            full.spill()
        if docs_only.full:
            docs_only.spill()
    assert docs_only.count == full.count
    expected, got = _Lists(), _Lists()
    full.feed(expected)
    docs_only.feed(got)
    assert got.lists == expected.lists
    assert len(expected.lists) > 3


def test_a_field_fed_by_add_docs_refuses_the_other_methods() -> None:
    memory = MemoryPostings()
    memory.add_docs("entity", 0, [b"a"])
    with pytest.raises(ValueError, match="add_docs"):
        memory.add("entity", 1, [(b"a", 1, 1.0, b"")], 1.0)
    memory.add("place", 0, [(b"a", 1, 1.0, b"")], 1.0)
    with pytest.raises(ValueError, match="add or add_positions"):
        memory.add_docs("place", 1, [b"a"])
