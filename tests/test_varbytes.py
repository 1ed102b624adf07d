"""The numpy column reader (``searchlib._whoosh.varbytes``) opens columns exactly as Whoosh does."""

from __future__ import annotations

import importlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import columns
from whoosh.filedb.filestore import RamStorage

from searchlib._whoosh import varbytes


def _reader(rows: dict[int, bytes], doccount: int, cutoff: int) -> tuple[Any, Any]:
    storage = RamStorage()
    out = storage.create_file("column")
    column = columns.VarBytesColumn(write_offsets_cutoff=cutoff)
    writer = column.writer(out)
    for docnum in sorted(rows):
        writer.add(docnum, rows[docnum])
    writer.finish(doccount)
    length = out.tell()
    out.close()
    return column, (storage.open_file("column"), length)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.integers(0, 400), st.binary(max_size=300), max_size=60),
    st.integers(0, 20),
    st.sampled_from([0, 2**15]),
)
def test_offsets_and_values_equal_whoosh_own_reader(rows: dict[int, bytes], extra: int, cutoff: int) -> None:
    doccount = (max(rows) + 1 if rows else 0) + extra
    column, (infile, length) = _reader(rows, doccount, cutoff)
    assert columns.VarBytesColumn.Reader._read_offsets_and_lengths is varbytes._read_offsets_and_lengths
    ours = column.reader(infile, 0, length, doccount)
    theirs = column.reader(infile, 0, length, doccount)
    varbytes._ORIGINAL(theirs)  # Whoosh's own method, on a second reader of the same bytes
    assert list(ours._offsets) == list(theirs._offsets)
    assert list(ours._lengths) == list(theirs._lengths)
    assert [ours[d] for d in range(doccount)] == [rows.get(d, b"") for d in range(doccount)]


def test_reloading_the_module_keeps_whoosh_own_method_as_the_fallback() -> None:
    original = varbytes._ORIGINAL
    assert original.__module__ == "whoosh.columns"
    module = importlib.reload(varbytes)
    assert module._ORIGINAL is original  # not the replacement: the fallback would recurse
    assert columns.VarBytesColumn.Reader._read_offsets_and_lengths is module._read_offsets_and_lengths
    rows = {0: b"a", 3: b"bcd"}
    column, (infile, length) = _reader(rows, 5, 0)  # offsets stored: the fallback to Whoosh's method
    reader = column.reader(infile, 0, length, 5)
    assert [reader[d] for d in range(5)] == [b"a", b"", b"", b"bcd", b""]
