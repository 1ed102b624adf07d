"""Sidecars built at write time equal the arrays read back from the written Whoosh segment.

The writer collects a new segment's arrays from the postings it holds in memory, and builds
a merged segment's by concatenating its sources' sidecars (deletions applied, documents
renumbered): neither reads Whoosh's postings back. Here every live segment's sidecar, after
commits that merge, delete, update, optimize, spill runs and ingest in parallel, must equal
``sidecar.build`` over the same segment (the reference, Whoosh's own postings decoded).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import Article, Index, NoExtractor
from searchlib._whoosh import columnar, postings, sidecar, upgrade

WORDS = [
    *("harbour", "council", "storm", "vote", "budget", "talks", "minister"),
    *("bank", "rates", "striking", "the", "of", "Gdańsk"),
]


def _articles(start: int, n: int, seed: int, *, version: int = 0) -> list[Article]:
    rng = random.Random(seed * 1000 + start)
    return [
        Article(
            id=f"a{i}",
            date=f"20{10 + i % 15}-0{1 + i % 9}-{1 + i % 28:02d}",
            title=" ".join(rng.choices(WORDS, k=3)) + (f" v{version}" if version else ""),
            body=" ".join(rng.choices(WORDS, k=rng.randrange(1, 120))) + f" Anna Weber met Jon Blake in Berlin {i}.",
            source=rng.choice(["Wire", "Daily", None]),
        )
        for i in range(start, start + n)
    ]


def _segments(path: Path) -> list[Any]:
    from whoosh import index as whoosh_index  # test-only look behind the engine boundary

    ix = whoosh_index.open_dir(str(path))
    segments = list(ix._segments())
    ix.close()
    return segments


def _reference(path: Path, segment: Any) -> columnar.SegmentColumns:
    from whoosh.filedb.filestore import FileStorage
    from whoosh.reading import SegmentReader

    from searchlib._whoosh import schema as sch

    reader = SegmentReader(FileStorage(str(path)), sch.build_schema(), segment)
    try:
        return sidecar.build(reader)
    finally:
        reader.close()


def assert_same_columns(got: columnar.SegmentColumns, want: columnar.SegmentColumns) -> None:
    assert got.doc_count == want.doc_count
    assert np.array_equal(got.dates, want.dates)
    assert got.lengths.keys() == want.lengths.keys()
    for name in want.lengths:
        assert np.array_equal(got.lengths[name], want.lengths[name]), name
    assert got.fields.keys() == want.fields.keys()
    for name, w in want.fields.items():
        g = got.fields[name]
        assert g.terms == w.terms, name
        for attr in ("offsets", "docs", "freqs", "positions"):
            a, b = getattr(g, attr), getattr(w, attr)
            assert (a is None) == (b is None), (name, attr)
            if a is not None:
                assert np.array_equal(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)), (name, attr)
        assert g.has_positions == w.has_positions, name
        if w.has_positions:  # where each posting's positions start, stored in full (version 5) or sampled
            assert np.array_equal(g.pos_range(0, len(g.docs)), w.pos_range(0, len(w.docs))), name
            assert np.array_equal(np.asarray(g.pos_blocks, dtype=np.int64), np.asarray(w.pos_blocks, dtype=np.int64))
    if got.facets is not None and want.facets is not None:  # (None: a sidecar older than version 8)
        assert [got.facets.document(d) for d in range(got.doc_count)] == [
            want.facets.document(d) for d in range(want.doc_count)
        ]


def _check_every_segment(path: Path) -> int:
    segments = _segments(path)
    for segment in segments:
        saved = sidecar.load(path, segment.segment_id())
        assert saved is not None, "every segment has its sidecar"
        assert_same_columns(saved, _reference(path, segment))
    return len(segments)


def _no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing must not read a segment's postings back."""

    def fail(reader: Any) -> columnar.SegmentColumns:
        raise AssertionError("the writer read a segment back to build its sidecar")

    monkeypatch.setattr(sidecar, "build", fail)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("spill", [None, 40])
def test_commits_merges_deletions_and_updates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, spill: int | None
) -> None:
    if spill is not None:  # postings spilled to sorted runs mid-segment
        monkeypatch.setattr(postings.MemoryPostings, "full", property(lambda self: self.count >= spill))
    path = tmp_path / "ix"
    build = sidecar.build
    _no_build(monkeypatch)
    with Index.create(path, extractor=NoExtractor()) as ix:
        for start in range(0, 60, 12):  # small segments: later commits merge them
            ix.add(*_articles(start, 12, seed))
            ix.delete(f"a{start + 3}")
        ix.add(*_articles(5, 20, seed, version=2))  # updates: older copies deleted, new ones added
        with ix.writer() as w:
            for article in _articles(100, 3, seed):
                w.add(article)
            w.delete("a101")  # deleted inside the writer that added it
    monkeypatch.setattr(sidecar, "build", build)
    assert _check_every_segment(path) >= 1


def test_optimize_concatenates_every_segment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ix"
    build = sidecar.build
    _no_build(monkeypatch)
    with Index.create(path, extractor=NoExtractor()) as ix:
        for start in range(0, 40, 10):
            ix.add(*_articles(start, 10, 3))
        ix.delete("a0", "a17", "a39")
        with ix.writer() as w:
            for article in _articles(200, 4, 3):
                w.add(article)
            w.commit(optimize=True)
        result = ix.search("harbour", limit=100)
    monkeypatch.setattr(sidecar, "build", build)
    assert _check_every_segment(path) == 1
    assert result.total > 0


def test_merging_a_segment_without_a_sidecar_builds_its_arrays_once(tmp_path: Path) -> None:
    """A source segment written by older code (no sidecar) is read once, then concatenated."""
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        ix.add(*_articles(0, 10, 4))
        for sidecar in path.glob("*.cols.*"):
            sidecar.unlink()
        with ix.writer() as w:
            for article in _articles(10, 10, 4):
                w.add(article)
            w.commit(optimize=True)  # merges the first segment into the new one
    assert _check_every_segment(path) == 1


def test_parallel_workers_segments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    feed = tmp_path / "feed.jsonl"
    lines = [
        json.dumps({"id": a.id, "date": a.date.isoformat(), "title": a.title, "body": a.body})
        for a in [*_articles(0, 90, 5), *_articles(10, 20, 5, version=3)]
    ]
    feed.write_text("\n".join(lines) + "\n", "utf-8")
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        ix.ingest(feed, workers=2, commit_every=30)
        assert ix.search("harbour OR storm", limit=1).total > 0
    assert _check_every_segment(path) >= 2


def test_concat_of_nothing_live_is_empty() -> None:
    builder = columnar.ColumnsBuilder()
    cols = builder.finish(0)
    merged = columnar.concat([(cols, None), (cols, np.zeros(0, dtype=bool))])
    assert merged.doc_count == 0
    assert all(len(fp.terms) == 0 and len(fp.docs) == 0 for fp in merged.fields.values())


def _dtypes(path: Path) -> dict[str, str]:
    dtypes: dict[str, str] = {}
    for manifest in path.glob("*.cols.json"):
        for name, (dtype, _, _) in json.loads(manifest.read_text("utf-8"))["arrays"].items():
            if name not in dtypes or np.dtype(dtype).itemsize > np.dtype(dtypes[name]).itemsize:
                dtypes[name] = dtype  # the widest over the segments
    return dtypes


def _widths(path: Path) -> dict[str, int]:
    """Each text field's packed position width, the widest over the segments."""
    widths: dict[str, int] = {}
    for manifest in path.glob("*.cols.json"):
        for name, (width, _count) in json.loads(manifest.read_text("utf-8"))["packed"].items():
            widths[name] = max(widths.get(name, 0), width)
    return widths


def test_arrays_are_stored_narrow_and_long_articles_keep_u32_positions(tmp_path: Path) -> None:
    short = tmp_path / "short"
    with Index.create(short, extractor=NoExtractor()) as ix:
        ix.add(*_articles(0, 20, 6))
    dtypes = _dtypes(short)
    size = {name: np.dtype(dtype).itemsize for name, dtype in dtypes.items()}
    assert dtypes["body.pos"] == "<u8" and 1 <= _widths(short)["body"] <= 8  # bit-packed: short articles
    assert size["body.docs"] == size["body.freqs"] == size["title.len"] == 1
    assert dtypes["body.off"] == "<i8" and dtypes["dates"] == "<i4"
    _check_every_segment(short)

    long = tmp_path / "long"
    filler = " ".join(f"w{i % 97}" for i in range(70_000))
    with Index.create(long, extractor=NoExtractor()) as ix:
        ix.add(Article(id="long", date="2024-01-01", body=f"{filler} the zebra crossing closed"))
        ix.add(*_articles(0, 5, 6))
        assert _widths(long)["body"] == 17  # positions up to 70,004
        tops = []
        for manifest in long.glob("MAIN_*.cols.json"):  # one segment a commit: the long article's has the top
            cols = sidecar.load(long, manifest.name.split(".")[0])
            assert cols is not None
            tops.append(int(np.asarray(cols.fields["body"].positions).max()))
        assert max(tops) >= 70_000
        hits = ix.search('"zebra crossing"')
        assert [h.article.id for h in hits] == ["long"]
        assert ix.search('"w1 w2"').total == 1
    _check_every_segment(long)


@settings(max_examples=50, deadline=None)
@given(
    st.sets(st.text(min_size=1, max_size=4), max_size=30),
    st.lists(st.text(max_size=4), max_size=columnar.DICT_AFTER + 20),
)
def test_term_lookups_agree_before_and_after_the_dict_is_built(terms: set[str], probes: list[str]) -> None:
    """A field's first lookups bisect its sorted terms; later ones use a dict: same answers."""
    ordered = sorted(terms)
    fp = columnar.FieldPostings(ordered, np.zeros(len(ordered) + 1, dtype=np.int64), np.zeros(0, dtype=np.uint32))
    expected = {t: i for i, t in enumerate(ordered)}
    for n, term in enumerate([*probes, *ordered]):
        assert fp.term_id(term) == expected.get(term, -1)
        assert (fp._index is None) == (n < columnar.DICT_AFTER)


def _rewrite(
    path: Path, prefix: str, version: int, arrays: Callable[[Any], dict[str, np.ndarray]], drop: str, *, gone: str = ""
) -> None:
    """Rewrite a sidecar of ``version + 1`` as ``version`` wrote it: ``arrays(columns)`` appended
    (narrowed as older versions did) in place of the manifest entries they name, the manifest's
    ``drop`` key and each text field's ``<field>.<gone>`` array removed."""
    manifest_path = path / f"{prefix}.cols.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    if manifest["version"] != version + 1:
        return
    cols = sidecar.load(path, prefix)
    assert cols is not None
    data = bytearray((path / f"{prefix}.cols.bin").read_bytes())
    for name in columnar.TEXT_FIELDS if gone else ():
        del manifest["arrays"][f"{name}.{gone}"]
    for name, values in arrays(cols).items():
        narrow = sidecar._narrow(name, values)
        manifest["arrays"][name] = [narrow.dtype.str, len(data), len(narrow)]
        data += narrow.tobytes()
        data += bytes(-len(data) % sidecar.ALIGN)
    del cols
    (path / f"{prefix}.cols.bin").write_bytes(bytes(data))
    manifest["version"], manifest["size"] = version, len(data)
    del manifest[drop]
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def _as_version_7(path: Path, prefix: str) -> None:
    """Rewrite a version 8 sidecar's manifest as version 7 wrote it: no facet table (the segment's
    Whoosh ``facets`` column held the values; the bytes stay in the data file, described by nothing)."""
    manifest_path = path / f"{prefix}.cols.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    if manifest["version"] != 8:
        return
    manifest["version"] = 7
    manifest["arrays"] = {k: v for k, v in manifest["arrays"].items() if not k.startswith("facets.")}
    del manifest["facets"]
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def _as_version_6(path: Path, prefix: str) -> None:
    """Rewrite a version 7 or 8 sidecar as version 6 wrote it: positions unpacked, narrowed (u16 or u32)."""
    _as_version_7(path, prefix)
    _rewrite(
        path,
        prefix,
        6,
        lambda cols: {f"{name}.pos": np.asarray(cols.fields[name].positions) for name in columnar.TEXT_FIELDS},
        "packed",
    )


def _as_version_5(path: Path, prefix: str) -> None:
    """Rewrite a version 6 or 7 sidecar as version 5 wrote it: every posting's position offset
    (``<field>.posoff``, narrowed as version 5 did) instead of every ``POS_BLOCK``-th."""
    _as_version_6(path, prefix)

    def offsets(cols: Any) -> dict[str, np.ndarray]:
        fields = {name: cols.fields[name] for name in columnar.TEXT_FIELDS}
        return {f"{name}.posoff": fp.pos_range(0, len(fp.docs)) for name, fp in fields.items()}

    _rewrite(path, prefix, 5, offsets, "pos_block", gone="posblk")


def _as_version_3(path: Path, prefix: str) -> None:
    """Rewrite a sidecar's manifest as version 3 wrote it: every term list in the JSON."""
    _as_version_5(path, prefix)
    manifest_path = path / f"{prefix}.cols.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    cols = sidecar.load(path, prefix)
    assert cols is not None
    manifest["version"] = 3
    manifest["terms"] = {name: fp.terms for name, fp in cols.fields.items()}
    del manifest["term_counts"]
    manifest["arrays"] = {k: v for k, v in manifest["arrays"].items() if not k.endswith((".terms", ".tstart"))}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def _as_version_4(path: Path, prefix: str) -> None:
    """Rewrite a sidecar's manifest as version 4 wrote it: NUL-joined terms without their starts."""
    _as_version_5(path, prefix)
    manifest_path = path / f"{prefix}.cols.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["version"] = 4
    manifest["terms"] = {}
    manifest["arrays"] = {k: v for k, v in manifest["arrays"].items() if not k.endswith(".tstart")}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


PHRASES = [
    "storm OR Gdańsk",
    '"Anna Weber"',
    '"storm vote"',
    '"bank rates talks"',
    'title:"vote budget"',
    "harbour -bank",
]


def test_version_8_packs_positions_and_versions_3_to_7_still_read_in_one_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Index.create(tmp_path, extractor=NoExtractor()) as ix:
        for start, seed in ((0, 7), (30, 8), (60, 9), (90, 10), (120, 11)):
            ix.add(*_articles(start, 30 + seed, seed))
        expected = [[(h.article.id, h.score) for h in ix.search(q, limit=200, highlight=None).hits] for q in PHRASES]
    assert all(expected[1:]), "every query matches something"
    prefixes = sorted(p.name.split(".")[0] for p in tmp_path.glob("MAIN_*.cols.json"))
    assert len(prefixes) == 5
    for prefix in prefixes:
        manifest = json.loads((tmp_path / f"{prefix}.cols.json").read_text("utf-8"))
        assert manifest["arrays"]["body.pos"][0] == "<u8" and manifest["packed"]["body"][1] > 0
        assert manifest["version"] == 8 and "terms" not in manifest and manifest["pos_block"] == columnar.POS_BLOCK
        assert manifest["term_counts"]["body"] > 0 and {"body.terms", "body.tstart"} <= manifest["arrays"].keys()
        assert "body.posblk" in manifest["arrays"] and "body.posoff" not in manifest["arrays"]
        docs = manifest["arrays"]["body.docs"][2]
        assert manifest["arrays"]["body.posblk"][2] == docs // columnar.POS_BLOCK + 1
    before = {prefix: sidecar.load(tmp_path, prefix) for prefix in prefixes}
    _as_version_3(tmp_path, prefixes[0])
    _as_version_4(tmp_path, prefixes[1])
    _as_version_5(tmp_path, prefixes[2])
    _as_version_6(tmp_path, prefixes[3])
    _as_version_7(tmp_path, prefixes[4])
    assert "body.posoff" in json.loads((tmp_path / f"{prefixes[2]}.cols.json").read_text("utf-8"))["arrays"]
    v6_arrays = json.loads((tmp_path / f"{prefixes[3]}.cols.json").read_text("utf-8"))["arrays"]
    assert v6_arrays["body.pos"][0] in ("|u1", "<u2")
    assert sorted(sidecar.outdated(tmp_path, set(prefixes))) == sorted(prefixes)
    for prefix in prefixes:
        got, want = sidecar.load(tmp_path, prefix), before[prefix]
        assert got is not None and want is not None
        assert_same_columns(got, want)
        assert sidecar.damage(got) is None

    def no_build(reader: Any) -> Any:
        raise AssertionError("a readable sidecar was rebuilt")

    monkeypatch.setattr(sidecar, "build", no_build)
    with Index.open(tmp_path) as ix:  # segments of versions 3 to 7 answer as before
        found = [[(h.article.id, h.score) for h in ix.search(q, limit=200, highlight=None).hits] for q in PHRASES]
    assert found == expected
    assert upgrade.rewrite_sidecars(tmp_path, set(prefixes)) == 5  # rewritten in version 8: the same arrays
    for prefix in prefixes:
        got = sidecar.load(tmp_path, prefix)
        assert got is not None and json.loads((tmp_path / f"{prefix}.cols.json").read_text("utf-8"))["version"] == 8
        want = before[prefix]
        assert want is not None
        want.facets = None  # (made older here, no Whoosh column held them: test_sidecar7.py reads a real one's)
        assert_same_columns(got, want)


def test_terms_holding_the_separator_round_trip(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix", extractor=NoExtractor()) as ix:
        ix.add(*_articles(0, 10, 3))
    prefix = next((tmp_path / "ix").glob("MAIN_*.cols.json")).name.split(".")[0]
    cols = sidecar.load(tmp_path / "ix", prefix)
    assert cols is not None
    odd = ["", "a\x00b", "c", "d\x00", "é"]
    cols.fields["source"] = columnar.FieldPostings(odd, np.zeros(6, dtype=np.int64), np.zeros(0, dtype=np.uint32))
    sidecar.save(tmp_path, "copy", cols)
    manifest = json.loads((tmp_path / "copy.cols.json").read_text("utf-8"))
    assert manifest["term_counts"]["source"] == len(odd)
    loaded = sidecar.load(tmp_path, "copy")
    assert loaded is not None
    assert_same_columns(loaded, cols)
    assert [loaded.fields["source"].term_id(t) for t in odd] == list(range(len(odd)))


@pytest.mark.parametrize("change", [1, -1])
def test_a_term_count_that_does_not_match_its_dictionary_is_not_trusted(tmp_path: Path, change: int) -> None:
    with Index.create(tmp_path, extractor=NoExtractor()) as ix:
        ix.add(*_articles(0, 10, 3))
    manifest_path = next(tmp_path.glob("MAIN_*.cols.json"))
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["term_counts"]["body"] += change
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    assert sidecar.load(tmp_path, manifest_path.name.split(".")[0]) is None


def test_a_segment_with_near_duplicates_loads_its_sidecar(tmp_path: Path) -> None:
    # Copies share a duplicate group, so the group field has fewer terms than the segment has
    # documents: the sidecar must still load (and not be rebuilt by every new process).
    articles = _articles(0, 6, seed=3)
    copies = [Article(id=f"copy-{a.id}", date=a.date, title=a.title, body=a.body) for a in articles[:3]]
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix, ix.writer() as w:
        for article in [*articles, *copies]:
            w.add(article)
    segments = _segments(path)
    groups = sidecar.load(path, segments[0].segment_id())
    assert groups is not None
    assert len(groups.fields["group"].terms) < groups.doc_count
    assert _check_every_segment(path) == len(segments)


@pytest.mark.parametrize("field", ["body", "id", "facets"])
def test_damage_finds_a_dictionary_offset_moved_inside_a_term(tmp_path: Path, field: str) -> None:
    """A look-up reads a term by its stored start: one moved into the previous term misreads
    terms that decoding the whole blob (split at its separators) would still read right."""
    with Index.create(tmp_path, extractor=NoExtractor()) as ix:
        ix.add(*_articles(0, 20, 3))
    (prefix,) = [p.name.split(".")[0] for p in tmp_path.glob("MAIN_*.cols.json")]
    manifest = json.loads((tmp_path / f"{prefix}.cols.json").read_text("utf-8"))
    name = "facets.sources.start" if field == "facets" else f"{field}.tstart"
    dtype, at, _length = manifest["arrays"][name]
    data = bytearray((tmp_path / f"{prefix}.cols.bin").read_bytes())
    size = np.dtype(dtype).itemsize
    second = int.from_bytes(data[at + size : at + 2 * size], "little")
    data[at + size : at + 2 * size] = (second - 1).to_bytes(size, "little")
    (tmp_path / f"{prefix}.cols.bin").write_bytes(bytes(data))
    cols = sidecar.load(tmp_path, prefix)
    assert cols is not None  # (only the ends are checked on load)
    assert "offsets do not fit" in (sidecar.damage(cols) or "")
