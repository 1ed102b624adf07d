"""What a freshly opened index reads for its first query: only what the query needs.

Tie-breaking reads the article ids of its candidates (a few term decodes), not a column of
every id; a page of hits opens the body column of the segments it reads, not of all of them.
Both answer as the whole-index columns do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from searchlib import Article, Index, NoExtractor
from searchlib._whoosh import search as ws
from searchlib._whoosh.engine import ColumnarSnapshot

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
