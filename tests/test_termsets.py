"""A writer's term lookups through per-segment hash arrays answer as Whoosh's MultiReader does."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from whoosh.reading import TermNotFound

import searchlib
from searchlib import Article, Index, NoExtractor
from searchlib._whoosh import merging, termsets
from searchlib._whoosh.segwriter import BackendWriter


def _whoosh_docnums(raw: BackendWriter, fieldname: str, text: str) -> list[int]:
    try:
        return list(raw._reader.postings(fieldname, text).all_ids())
    except TermNotFound:
        return []


def _whoosh_existing(raw: BackendWriter, doc_id: str) -> int | None:
    try:
        docnum = raw._reader.first_id("id", doc_id)
    except TermNotFound:
        return None
    return None if docnum is None or raw._reader.is_deleted(docnum) else int(docnum)


def _body(i: int) -> str:
    words = " ".join(f"w{(i * 7 + j) % 97}" for j in range(40))
    return f"Report {i % 9} on the harbour strike. {words}"


def _build(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Index:
    """Several segments (commits of a few articles, none merged), updates and deletions."""
    monkeypatch.setattr(merging, "FACTOR", 1_000)  # no level fills up: every segment kept as is
    ix = Index.create(folder, extractor=NoExtractor())
    for batch in range(6):
        with ix.writer() as w:
            for i in range(batch * 5, batch * 5 + 8):  # overlapping ids: updates across segments
                w.add(Article(id=f"a{i}", date="2024-01-02", body=_body(i)))
            w.delete(f"a{batch * 3}")
    return ix


@pytest.mark.parametrize("collide", [False, True])
def test_lookups_equal_whooshs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collide: bool) -> None:
    if collide:  # every term hashes alike: each lookup asks every segment, answers unchanged
        monkeypatch.setattr(termsets, "zlib", type("Z", (), {"crc32": staticmethod(lambda b: 7)}))
    with _build(tmp_path / "ix", monkeypatch) as ix:
        writer = ix.writer()
        raw = writer._writer()
        try:
            index = raw._term_index("id")
            assert index is not None and len(index.leaves) == 6
            dupkeys = {
                key for i in range(40) for key in searchlib.dedup.candidate_keys(searchlib.dedup.sketch(_body(i)))
            }
            for doc_id in [f"a{i}" for i in range(45)] + ["", "nope"]:
                assert list(raw._term_docnums("id", doc_id)) == _whoosh_docnums(raw, "id", doc_id)
                assert raw._existing_docnum(doc_id) == _whoosh_existing(raw, doc_id)
            for key in [*dupkeys, "00000000"]:
                assert list(raw._term_docnums("dupkey", key)) == _whoosh_docnums(raw, "dupkey", key)
        finally:
            writer.cancel()


def test_an_empty_index_asks_whoosh(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        writer = ix.writer()
        try:
            raw = writer._writer()
            assert raw._term_index("id") is None and raw.stored_checksum("x") is None
        finally:
            writer.cancel()


def test_upserts_across_segments_keep_one_copy_and_group_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _build(tmp_path / "ix", monkeypatch) as ix:
        before = len(ix)
        with ix.writer() as w:
            w.add(Article(id="a7", date="2024-02-02", body=_body(7) + " Updated."))
            w.add(Article(id="copy", date="2024-02-02", body=_body(11)))
        assert len(ix) == before + 1
        assert ix.get("a7").body.endswith("Updated.")  # type: ignore[union-attr]
        groups = {tuple(a.id for a in g.articles) for g in ix.duplicates()}
        assert any("copy" in ids and "a11" in ids for ids in groups), groups
    assert searchlib.check_index(tmp_path / "ix").ok


def test_segment_arrays_hash_terms_with_crc32(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _build(tmp_path / "ix", monkeypatch) as ix:
        writer = ix.writer()
        try:
            raw = writer._writer()
            leaf = next(iter(raw._reader.leaf_readers()))[0]
            got = termsets._segment_hashes(leaf, "id", {})
            assert got.tolist() == sorted({zlib.crc32(t) for t in leaf.lexicon("id")})
        finally:
            writer.cancel()


def test_the_cache_forgets_segments_merged_away(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix", extractor=NoExtractor()) as ix:
        for batch in range(3):
            with ix.writer() as w:
                w.add(Article(id=f"b{batch}", date="2024-01-02", body=_body(batch)))
        writer = ix.writer()
        raw = writer._writer()
        try:
            raw._term_index("id")
            cache = raw.backend.term_hashes
            before = {key for key in cache if key[2] == "id"}
            assert before
        finally:
            writer.cancel()
        with ix.writer() as w:
            w.add(Article(id="b9", date="2024-01-02", body=_body(9)))
            w.commit(optimize=True)
        writer = ix.writer()
        raw = writer._writer()
        try:
            index = raw._term_index("id")
            assert index is not None
            live = {termsets._key(leaf, "id") for leaf, _ in index.leaves}
            assert {key for key in cache if key[2] == "id"} == live and not (before & live)
        finally:
            writer.cancel()
