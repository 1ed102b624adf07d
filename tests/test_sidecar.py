"""Columnar sidecars are written with each segment, before the commit that makes it visible.

A search on an index written by this code never derives arrays from Whoosh's postings (the
build is made to fail to prove it); merged and parallel-ingest segments get theirs at write
time too; a damaged sidecar is never trusted; ``check_index`` keeps live segments' sidecars
and removes dead ones' with ``repair``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from searchlib import Article, Index, NoExtractor, check_index
from searchlib._whoosh import columnar, sidecar

WINDS = ["calm", "gale", "squall"]


def _articles(start: int, n: int) -> list[Article]:
    return [
        Article(
            id=f"a{i}",
            date=f"2024-05-{1 + i % 28:02d}",
            body=f"The harbour council met on day {i}. Storm {WINDS[i % 3]}.",
        )
        for i in range(start, start + n)
    ]


def _live_segments(path: Path) -> set[str]:
    from whoosh import index as whoosh_index  # test-only look behind the engine boundary

    ix = whoosh_index.open_dir(str(path))
    try:
        return {seg.segment_id() for seg in ix._segments()}
    finally:
        ix.close()


def _sidecars(path: Path) -> set[str]:
    return {p.name.split(".")[0] for p in path.glob("MAIN_*.cols.json")}


def _no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(reader: Any) -> columnar.SegmentColumns:
        raise AssertionError("a search built a sidecar")

    monkeypatch.setattr(sidecar, "build", fail)


@pytest.mark.parametrize("optimize", [False, True])
def test_every_committed_segment_has_its_sidecar_and_searches_never_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, optimize: bool
) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        for start in range(0, 40, 10):  # several commits: small segments that later commits merge
            ix.add(*_articles(start, 10))
        ix.delete("a3")
        if optimize:
            with ix.writer() as w:
                w.commit(optimize=True)
    live = _live_segments(path)
    assert live and _sidecars(path) == live  # merged-away segments' sidecars are gone with them
    if optimize:
        assert len(live) == 1
    assert not list(path.glob("*.tmp"))
    _no_build(monkeypatch)
    with Index.open(path) as ix:
        result = ix.search("harbour council", limit=100)
        assert result.total == 39
        assert ix.search('"storm squall"').total == 13  # a3 (calm) is deleted


def test_parallel_ingest_workers_write_their_segments_sidecars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(json.dumps({"id": a.id, "date": a.date.isoformat(), "body": a.body}) + "\n" for a in _articles(0, 60)),
        "utf-8",
    )
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        report = ix.ingest(feed, workers=2)
        assert report.added == 60
    live = _live_segments(path)
    assert len(live) >= 2 and _sidecars(path) == live
    _no_build(monkeypatch)
    with Index.open(path) as ix:
        assert ix.search("harbour").total == 60


def test_a_sidecar_whose_pages_were_dropped_reads_the_same(tmp_path: Path) -> None:
    """``drop_pages`` only unmaps what was read: every array reads back equal (in-memory arrays: a no-op)."""
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(*_articles(0, 20))
    (segment,) = _live_segments(path)
    cols = sidecar.load(path, segment)
    assert cols is not None and cols.mapped is not None
    before = {name: np.array(fp.docs) for name, fp in cols.fields.items()}
    dates = np.array(cols.dates)
    sidecar.drop_pages(cols)
    assert {name: fp.docs.tolist() for name, fp in cols.fields.items()} == {k: v.tolist() for k, v in before.items()}
    assert cols.dates.tolist() == dates.tolist() and cols.fields["body"].find_range("harbour") != (0, 0)
    in_memory = columnar.SegmentColumns(0, {}, {}, np.zeros(0, dtype=np.int32))
    sidecar.drop_pages(in_memory)  # nothing mapped: nothing to do
    assert in_memory.mapped is None


def test_a_damaged_sidecar_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(*_articles(0, 20))
    (segment,) = _live_segments(path)
    assert sidecar.load(path, segment) is not None
    data = path / f"{segment}.cols.bin"
    data.write_bytes(data.read_bytes()[:-8])  # torn data under a complete manifest
    assert sidecar.load(path, segment) is None
    with Index.open(path) as ix:  # rebuilt from the postings and saved again
        assert ix.search("harbour").total == 20
    assert sidecar.load(path, segment) is not None
    (path / f"{segment}.cols.json").unlink()  # no manifest: the data is not used
    assert sidecar.load(path, segment) is None


@pytest.mark.parametrize(
    "garble",
    [
        lambda m: m["arrays"]["body.pos"].__setitem__(0, "<i8"),  # packed words read as another type
        lambda m: m["packed"]["body"].__setitem__(0, m["packed"]["body"][0] + 1),  # another width
        lambda m: m["packed"].pop("body"),  # no width at all
    ],
)
def test_a_sidecar_whose_packed_positions_are_misdescribed_is_not_trusted(tmp_path: Path, garble: Any) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(*_articles(0, 20))
    (segment,) = _live_segments(path)
    manifest_path = path / f"{segment}.cols.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    garble(manifest)
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    assert sidecar.load(path, segment) is None


def test_check_keeps_live_sidecars_and_repairs_dead_ones(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(*_articles(0, 5))
    assert _sidecars(path) and check_index(path).ok
    dead = ["MAIN_deadsegment1.cols.json", "MAIN_deadsegment1.cols.bin"]
    for name in dead:
        (path / name).write_bytes(b"x")
    report = check_index(path)
    assert not report.ok and all(name in report.summary() or "orphan" in report.summary() for name in dead)
    check_index(path, repair=True)
    assert not any((path / name).exists() for name in dead)
    assert _sidecars(path) == _live_segments(path) and check_index(path).ok


def _answers(ix: Index) -> list[Any]:
    """Totals, scores and ids of a few queries, more like this and a suggestion."""
    out: list[Any] = []
    for query in ("harbour", '"storm gale"', "council OR squall", "calm*"):
        results = ix.search(query, limit=50, highlight=None)
        out.append((query, results.total, [(h.article.id, round(h.score, 9)) for h in results]))
    out.append([h.article.id for h in ix.more_like_this("a7", limit=5, highlight=None)])
    out.append(ix.suggest("harbor"))
    return out


@pytest.mark.parametrize("damage", ["deleted", "truncated", "garbage manifest"])
def test_a_missing_or_damaged_sidecar_is_rebuilt_from_the_stored_articles(tmp_path: Path, damage: str) -> None:
    """Whoosh holds no text postings (format 9): the sidecar is rebuilt by analysing the stored
    articles again, equal to the one the writer saved, and ``check`` reports and repairs it."""
    from tests.test_sidecar_build import assert_same_columns

    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        ix.add(*_articles(0, 30))
        ix.delete("a3", "a11")
        ix.add(Article(id="a5", date="2024-06-01", title="Harbour storm", body="A gale hit the harbour."))
        before = _answers(ix)
    segments = sorted(_live_segments(path))
    victim = segments[0]
    files = [path / f"{victim}.cols.bin", path / f"{victim}.cols.json"]
    kept = tmp_path / "kept"  # the writer's sidecar, for comparing (loads map the files lazily)
    kept.mkdir()
    for file in files:
        shutil.copy2(file, kept / file.name)
    saved = {victim: sidecar.load(kept, victim)}
    if damage == "deleted":
        for file in files:
            file.unlink()
    elif damage == "truncated":
        files[0].write_bytes(files[0].read_bytes()[:-64])
    else:
        files[1].write_text("{not json", "utf-8")
    report = check_index(path)
    assert not report.ok and victim in report.summary() and "sidecar" in report.summary()
    with Index.open(path) as ix:  # the first search rebuilds it (and saves it)
        assert _answers(ix) == before
    rebuilt = sidecar.load(path, victim)
    assert rebuilt is not None and saved[victim] is not None
    assert_same_columns(rebuilt, saved[victim])
    if damage == "deleted":  # check --repair rebuilds it too, without a search
        for file in files:
            file.unlink()
        repaired = check_index(path, repair=True)
        assert "rebuilt 1 sidecar" in repaired.summary()
        fixed = sidecar.load(path, victim)
        assert fixed is not None
        assert_same_columns(fixed, saved[victim])
    assert check_index(path).ok


def _garble(path: Path, segment: str, array: str, at: int, value: int) -> None:
    """Entry ``at`` of one array of a segment's sidecar set to ``value``: same sizes, wrong contents."""
    dtype_str, start, length = json.loads((path / f"{segment}.cols.json").read_text("utf-8"))["arrays"][array]
    dtype = np.dtype(dtype_str)
    at = at if at >= 0 else length + at
    data = path / f"{segment}.cols.bin"
    raw = bytearray(data.read_bytes())
    place = start + at * dtype.itemsize
    raw[place : place + dtype.itemsize] = np.array([value], dtype=dtype).tobytes()
    data.write_bytes(bytes(raw))


def _entry(path: Path, segment: str, array: str, at: int) -> int:
    cols_bin = (path / f"{segment}.cols.bin").read_bytes()
    dtype_str, start, length = json.loads((path / f"{segment}.cols.json").read_text("utf-8"))["arrays"][array]
    return int(np.frombuffer(cols_bin, dtype=np.dtype(dtype_str), count=length, offset=start)[at])


@pytest.mark.parametrize("array", ["body.off", "title.posblk", "place.off", "body.tstart"])
def test_a_sidecar_with_a_damaged_entry_is_rebuilt_and_check_repairs_it(tmp_path: Path, array: str) -> None:
    """Sizes intact, the last entry of one array wrong: the index is not stuck on it. The first
    search rebuilds the segment's sidecar from its stored articles (not an error on every search
    reading that field), ``check`` names it and ``--repair`` rebuilds it."""
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        ix.add(*_articles(0, 30))
        before = _answers(ix)
    (segment,) = _live_segments(path)
    last = _entry(path, segment, array, -1)
    _garble(path, segment, array, -1, last + 1)
    report = check_index(path)
    assert not report.ok and segment in report.summary() and "damaged columnar sidecar" in report.summary()
    assert "rebuilt 1 sidecar" in check_index(path, repair=True).summary()
    assert _entry(path, segment, array, -1) == last and check_index(path).ok
    _garble(path, segment, array, -1, last + 1)
    with Index.open(path) as ix:
        assert _answers(ix) == before
        assert ix.search("place:berlin", highlight=None).total == 0
    assert _entry(path, segment, array, -1) == last and check_index(path).ok  # saved again


@pytest.mark.parametrize(
    ("array", "at", "value", "found"),
    [
        ("body.off", 3, 10**6, "body term offsets are out of order"),
        ("title.docs", 0, 200, "title postings name documents"),
        ("body.docs", -1, 0, "body postings of a term are not in document order"),
    ],
)
def test_check_reads_every_entry_of_every_field(tmp_path: Path, array: str, at: int, value: int, found: str) -> None:
    """Damage a search does not look for (it reads only the entries that tie arrays together):
    ``check`` reads every array in full, names what is wrong, and ``--repair`` rebuilds it."""
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        ix.add(*[Article(id=f"a{i}", date="2024-05-01", title=f"Storm {i}", body=f"Harbour {i}") for i in range(30)])
    (segment,) = _live_segments(path)
    kept = _entry(path, segment, array, at)
    _garble(path, segment, array, at, value)
    report = check_index(path)
    assert not report.ok and segment in report.summary() and found in report.summary()
    check_index(path, repair=True)
    assert _entry(path, segment, array, at) == kept and check_index(path).ok
