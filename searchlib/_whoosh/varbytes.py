"""Whoosh's variable-length column reader, opened with numpy instead of a Python loop.

Whoosh's ``VarBytesColumn.Reader`` derives each document's offset from the stored lengths in
a Python loop when it is opened (``_read_offsets_and_lengths``): ~1 ms per 10,000 documents,
and a search opens two such columns (stored fields, body text) per segment of a commit --
~20 ms of the first query at 100,000 articles. :func:`install` replaces that method with one
that reads the same bytes and computes the offsets with one ``numpy.cumsum``; the reader's
``_offsets`` and ``_lengths`` hold the same numbers as before (``tests/test_varbytes.py``
compares them with Whoosh's own method), so reading values is unchanged.
"""

from __future__ import annotations

import struct
from array import array
from typing import Any

import numpy as np
from whoosh import columns

_KEPT = "_searchlib_original_read_offsets_and_lengths"
if not hasattr(columns.VarBytesColumn.Reader, _KEPT):  # once per process: a reload finds it there
    setattr(columns.VarBytesColumn.Reader, _KEPT, columns.VarBytesColumn.Reader._read_offsets_and_lengths)
_ORIGINAL = getattr(columns.VarBytesColumn.Reader, _KEPT)
"""Whoosh's own method, kept on its class before it is replaced: re-importing this module
(``importlib.reload``) must not take the replacement for the original (it would call itself)."""


def _read_offsets_and_lengths(self: Any) -> None:
    dbfile, doccount = self._dbfile, self._doccount
    lastbyte = self._basepos + self._length - 1
    lens_code = chr(dbfile.get_byte(lastbyte))
    if lens_code == "X":  # offsets were stored: nothing to derive
        _ORIGINAL(self)
        return
    lenstart = lastbyte - struct.calcsize(lens_code) * doccount
    lengths = dbfile.get_array(lenstart, lens_code, doccount)
    if not isinstance(lengths, array) or len(lengths) != doccount:
        _ORIGINAL(self)
        return
    ends = np.cumsum(np.frombuffer(lengths, dtype=np.dtype(lengths.typecode)), dtype=np.int64)
    offsets = array("q")
    if doccount:
        offsets.frombytes(np.concatenate([np.zeros(1, dtype=np.int64), ends[:-1]]).tobytes())
    self._offsets = offsets
    self._lengths = lengths


def install() -> None:
    """Use :func:`_read_offsets_and_lengths` for every Whoosh variable-length column reader."""
    columns.VarBytesColumn.Reader._read_offsets_and_lengths = _read_offsets_and_lengths


install()
