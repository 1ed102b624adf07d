"""A writer's keyword lookups (ids, near-duplicate keys) through the segments' sidecars and per-segment hash arrays.

Index format 10 has no Whoosh postings: the answers are checked against the stored fields
and sketches of every document, read one by one (deleted ones too, as the lookups return them).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import Article, Index, NoExtractor
from searchlib._whoosh import merging, segwriter, sidecar, termsets
from searchlib._whoosh.search import column_reader
from searchlib._whoosh.segwriter import BackendWriter
from searchlib._whoosh.terms import TermDict


def _stored(raw: BackendWriter) -> list[tuple[int, str, list[str]]]:
    """(index-wide document number, id, near-duplicate keys) of every committed document (deleted ones too)."""
    rows = []
    for leaf, offset in raw._reader.leaf_readers():
        sketches = column_reader(leaf, "sketch")
        for docnum in range(leaf.doc_count_all()):
            keys = searchlib.dedup.candidate_keys(searchlib.dedup.unpack(sketches[docnum]))
            rows.append((offset + docnum, leaf.stored_fields(docnum)["id"], keys))
    return rows


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


def _low_bits_only(key: bytes) -> int:
    """A hash that differs between terms in its three low bits alone (the bits a key gives its segment)."""
    return zlib.crc32(key) & 7


@pytest.mark.parametrize("collide", ["none", "all", "high bits"])
def test_lookups_equal_the_stored_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collide: str) -> None:
    if collide == "all":  # every term hashes alike: each lookup asks every segment, answers unchanged
        monkeypatch.setattr(termsets, "term_hash", lambda key: 7)
        monkeypatch.setattr(termsets, "term_hashes", lambda blob, starts: np.full(len(starts) - 1, 7, dtype=np.uint64))
    elif collide == "high bits":  # distinct hashes whose high bits agree: the same, through the keys' low bits
        monkeypatch.setattr(termsets, "term_hash", _low_bits_only)
        monkeypatch.setattr(
            termsets,
            "term_hashes",
            lambda blob, starts: np.array(
                [_low_bits_only(t.encode()) for t in TermDict(blob, starts).decode()], dtype=np.uint64
            ),
        )
    with _build(tmp_path / "ix", monkeypatch) as ix:
        writer = ix.writer()
        raw = writer._writer()
        try:
            index = raw._term_index("id")
            assert len(index.segments) == 6
            rows = _stored(raw)
            dupkeys = {key for _, _, keys in rows for key in keys}
            for doc_id in [f"a{i}" for i in range(45)] + ["", "nope"]:
                want = [d for d, i, _ in rows if i == doc_id and not raw._reader.is_deleted(d)]
                assert list(raw._term_docnums("id", doc_id)) == want
                assert raw._existing_docnum(doc_id) == (want[0] if want else None)
            assert len(dupkeys) > 20
            for key in [*dupkeys, "00000000"]:
                want = [d for d, _, keys in rows if key in keys and not raw._reader.is_deleted(d)]
                assert list(raw._term_docnums("dupkey", key)) == want
        finally:
            writer.cancel()


def test_an_empty_index_has_no_terms(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        writer = ix.writer()
        try:
            raw = writer._writer()
            assert not raw._term_index("id").segments and raw.stored_checksum("x") is None
            assert list(raw._term_docnums("dupkey", "00000000")) == []
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


@settings(max_examples=60, deadline=None)
@given(
    terms=st.lists(st.text(min_size=0, max_size=30).filter(lambda t: "\x00" not in t), unique=True),
    chunk=st.sampled_from([1, 7, 64, 1 << 22]),
)
def test_the_vectorised_hashes_are_term_hash(terms: list[str], chunk: int) -> None:
    terms = sorted(terms)
    blob, starts = TermDict.pack(terms)
    old = termsets._CHUNK_BYTES
    termsets._CHUNK_BYTES = chunk
    try:
        got = termsets.term_hashes(blob, starts)
    finally:
        termsets._CHUNK_BYTES = old
    assert got.tolist() == [termsets.term_hash(t.encode("utf-8")) for t in terms]


def test_segment_arrays_hold_every_terms_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _build(tmp_path / "ix", monkeypatch) as ix:
        writer = ix.writer()
        try:
            raw = writer._writer()
            key, fp, _ = raw._term_index("dupkey").segments[0]
            got = termsets._segment_hashes(fp, key, {})
            assert got.tolist() == sorted({termsets.term_hash(t.encode()) for t in fp.terms}) and len(got) > 10
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
            live = {key for key, _, _ in index.segments}
            assert {key for key in cache if key[2] == "id"} == live and not (before & live)
        finally:
            writer.cancel()


def test_lookups_answer_the_same_after_their_pages_are_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer unmaps the sidecar pages its look-ups read every ``DROP_PAGES_EVERY``: answers unchanged."""
    with _build(tmp_path / "ix", monkeypatch) as ix:
        writer = ix.writer()
        raw = writer._writer()
        try:
            want = {f"a{i}": list(raw._term_docnums("id", f"a{i}")) for i in range(45)}
            dropped: list[int] = []
            drop = sidecar.drop_pages
            monkeypatch.setattr(sidecar, "drop_pages", lambda cols: dropped.append(1) or drop(cols))
            monkeypatch.setattr(segwriter, "DROP_PAGES_EVERY", 1)
            assert {doc_id: list(raw._term_docnums("id", doc_id)) for doc_id in want} == want
            assert len(dropped) == 45 * len(raw._committed())
        finally:
            writer.cancel()
