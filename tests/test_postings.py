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
from searchlib._whoosh.fastwrite import FastSegmentWriter
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


@pytest.mark.parametrize(("count", "limit"), [(1, None), (300, None), (300, 1_000), (300, 1)])
def test_fast_writer_files_equal_whooshs(tmp_path: Path, count: int, limit: int | None) -> None:
    articles = _articles(count, seed=count)
    expected = _build(tmp_path / "whoosh", writing.SegmentWriter, articles, None)
    got = _build(tmp_path / "fast", FastSegmentWriter, articles, limit)
    assert set(got) == {".trm", ".pst"} | (set(expected) & {".lns", ".sto"})
    assert got == expected


def test_posting_lists_longer_than_a_block_read_back(tmp_path: Path) -> None:
    """Terms in every document span several 128-posting blocks; reading them back is exact."""
    articles = _articles(700, seed=7)
    _build(tmp_path / "ix", FastSegmentWriter, articles, None)
    with wix.open_dir(str(tmp_path / "ix")).reader() as reader:
        for word in ("talk", "budget"):
            expected = [n for n, d in enumerate(_documents(articles)) if word in sch.analyze(str(d["body"]))]
            assert list(reader.postings("body", word).all_ids()) == expected
