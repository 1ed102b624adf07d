"""What a freshly opened index reads for its first query: only what the query needs.

Tie-breaking reads the article ids of its candidates (a few term decodes), not a column of
every id; a page of hits opens the body column of the segments it reads, not of all of them.
Both answer as the whole-index columns do. A segment's sidecar makes the fields a query looks
up, not all ten (a damaged one is found when loading, and rebuilt).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from searchlib import Article, Index, NoExtractor
from searchlib import plan as p
from searchlib._whoosh import search as ws
from searchlib._whoosh import sidecar
from searchlib._whoosh.engine import ColumnarSnapshot
from searchlib.query import parse

IDS = [f"id-{(i * 37) % 120:03d}" for i in range(120)]


def _three_segments(path: Path) -> None:
    with Index.create(path, extractor=NoExtractor()) as ix:
        for start in (0, 40, 80):
            ix.add(
                *(Article(id=IDS[i], date="2024-01-02", body=f"storm {i} {'x' * i}") for i in range(start, start + 40))
            )
        ix.delete(IDS[5])


def test_ids_of_a_few_documents_are_read_without_the_whole_id_column(tmp_path: Path) -> None:
    _three_segments(tmp_path)
    docnums = np.array([0, 41, 119, 80, 7], dtype=np.int64)

    def read(snap: ColumnarSnapshot) -> tuple[list[str], bool, list[str], list[str], list[str]]:
        found = list(snap.ids_of(docnums))
        built = "id" in snap._lazy
        return found, built, list(snap.ids()[docnums]), sorted(snap.ids().tolist()), list(snap.ids_of(docnums))

    with Index.open(tmp_path) as ix:
        found, built, column, every, again = ix._engine.read("ids", read)
    assert not built  # no column of every id was built for a few ids
    assert found == column == again  # the same from the column, once built
    assert every == sorted(IDS)
    assert len(set(found)) == len(found)


def test_the_body_column_opens_only_the_segments_it_reads(tmp_path: Path) -> None:
    _three_segments(tmp_path)

    def read(snap: ColumnarSnapshot) -> tuple[list[bool], list[bytes], list[bytes], list[bool]]:
        lazy = ws.body_column(snap.searcher)
        lazy[45]  # one document of the second segment
        opened = [r is not None for r in lazy._readers]
        whole = snap.searcher.reader().column_reader("body_text")
        every = range(snap.searcher.reader().doc_count_all())
        return opened, [lazy[d] for d in every], [whole[d] for d in every], [r is not None for r in lazy._readers]

    with Index.open(tmp_path) as ix:
        opened, lazy, whole, after = ix._engine.read("body", read)
        hits = ix.search("storm", limit=200, highlight=None).hits
    assert opened == [False, True, False] and after == [True, True, True]
    assert lazy == whole and len(lazy) == 120
    assert {h.article.id: h.article.body for h in hits} == {
        IDS[i]: f"storm {i} {'x' * i}" for i in range(120) if i != 5
    }
    assert np.array_equal(np.sort([int(h.article.body.split()[1]) for h in hits]), np.delete(np.arange(120), 5))


def test_a_segment_makes_only_the_fields_a_query_reads(tmp_path: Path) -> None:
    _three_segments(tmp_path)

    def made(snap: ColumnarSnapshot) -> list[set[str]]:
        snap.evaluate(p.compile_plan(parse("storm")))  # the engine alone: no stored article is read
        return [set(seg.cols.fields._made) for seg in snap.segments]  # type: ignore[attr-defined]

    with Index.open(tmp_path) as ix:
        found = ix._engine.read("fields", made)
    assert found and all(f <= {"body", "title", "entity_text", "id"} and "body" in f for f in found)


def test_a_damaged_field_is_not_trusted_and_the_segment_is_rebuilt(tmp_path: Path) -> None:
    """Loading reads the few entries that tie each field's arrays together (the views stay lazy):
    a wrong one means the sidecar is not trusted, and the first search rebuilds it."""
    _three_segments(tmp_path)
    manifest_path = sorted(tmp_path.glob("MAIN_*.cols.json"))[0]
    prefix = manifest_path.name.split(".")[0]
    dtype, at, length = json.loads(manifest_path.read_text("utf-8"))["arrays"]["place.off"]
    data = tmp_path / f"{prefix}.cols.bin"
    raw = bytearray(data.read_bytes())
    last = at + (length - 1) * np.dtype(dtype).itemsize
    raw[last : last + np.dtype(dtype).itemsize] = np.array([999], dtype=dtype).tobytes()  # an offset past the docs
    data.write_bytes(bytes(raw))
    assert sidecar.load(tmp_path, prefix) is None  # the sizes in the manifest still fit, the contents do not
    with Index.open(tmp_path) as ix:
        assert ix.search("storm", highlight=None).total == 119
        assert ix.search("place:berlin", highlight=None).total == 0
    cols = sidecar.load(tmp_path, prefix)  # saved again
    assert cols is not None and sidecar.damage(cols) is None
