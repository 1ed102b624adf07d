"""The text fields' arrays built from token streams equal those built from per-term posting lists.

:class:`searchlib._whoosh.textcolumns.TextPostings` (format 9's writer path: token ids sorted
by the compiled counting sort, or by numpy a range of terms at a time) against the posting-list
path (``MemoryPostings`` into a ``ColumnsBuilder``), on random documents, numpy's sort in term
ranges as small as one token.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import _compiled
from searchlib._whoosh import textcolumns
from searchlib._whoosh.columnar import ColumnsBuilder
from searchlib._whoosh.postings import MemoryPostings
from searchlib._whoosh.schema import build_schema
from tests.conftest import require_compiled
from tests.test_sidecar_build import assert_same_columns

_WORDS = st.sampled_from(
    ["the", "talks", "talking", "Gdańsk", "gdansk", "of", "vote", "U.S", "3.5", "ß", "x", "harbour"]
)
_TEXT = st.lists(_WORDS, max_size=30).map(" ".join)


@pytest.mark.parametrize("counting_sort", [True, False], ids=["compiled-counting-sort", "numpy-sort"])
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["title", "body", "entity_text"]), _TEXT), max_size=25),
    st.sampled_from([1, 7, 10_000_000]),
    st.integers(0, 3),
)
def test_token_streams_equal_posting_lists(
    counting_sort: bool, values: list[tuple[str, str]], chunk: int, gap: int
) -> None:
    if counting_sort:
        require_compiled(_compiled.ingest_kernels(), "indexing kernels")
    with pytest.MonkeyPatch.context() as m:
        if not counting_sort:
            m.setattr(textcolumns, "count_postings", _compiled._no_kernel)
        compare_paths(values, chunk, gap)


def compare_paths(values: list[tuple[str, str]], chunk: int, gap: int) -> None:
    schema = build_schema()
    memory = MemoryPostings()
    reference = ColumnsBuilder()
    streamed = textcolumns.StreamingColumnsBuilder()
    for postings in streamed.texts.values():
        postings.bucket_tokens = chunk
    docnum = 0
    for field, text in values:
        docnum += 1 + gap  # (gaps: documents without a value in that field)
        memory.add_positions(field, docnum, schema[field].index_positions(text), 1.0)
        length = streamed.add_text(field, docnum, text)
        assert length == sum(len(p) for _, _, p in schema[field].index_positions(text))
    count = docnum + 1
    memory.feed(reference)
    assert_same_columns(streamed.finish(count), reference.finish(count))


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 2**20), st.integers(1, 50)), max_size=30))
def test_positions_made_at_finish_are_each_documents_run(docs: list[tuple[int, int]]) -> None:
    """A segment keeps each document's first position and count; the positions made from them at
    finish are every document's run ``first, first + 1, ...`` in order (uint32 wrap-around included)."""
    import numpy as np

    firsts = np.array([f for f, _ in docs], dtype=np.uint32)
    counts = np.array([c for _, c in docs], dtype=np.uint32)
    want = [p for f, c in docs for p in range(f, f + c)]
    assert textcolumns._positions(firsts, counts).tolist() == want
    with pytest.MonkeyPatch.context() as mp:  # made a few tokens at a time: the same runs
        mp.setattr(textcolumns, "POSITION_CHUNK", 7)
        assert textcolumns._positions(firsts, counts).tolist() == want
