"""A merge's columns: the merged segment's column files, copied from its sources' bytes.

Part of :func:`.merging.merge_segments` (see :mod:`.merging`): a variable-bytes column's values
are copied as raw bytes -- the stored fields stay compressed pickles, never decoded -- streamed
from memory-mapped sources a run of live documents at a time, and its lengths (and offsets)
rebuilt with numpy; fixed-size columns (dates, field-length bytes) are sliced with numpy. Also
the merged segment's total length of each keyword field (:func:`_field_total`).
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from whoosh import columns as wcolumns
from whoosh.codec import whoosh3
from whoosh.filedb.filestore import FileStorage
from whoosh.util.numeric import byte_to_length

from searchlib._whoosh.pages import drop_pages
from searchlib.errors import IndexProblem

if TYPE_CHECKING:
    from searchlib._whoosh.merging import _Source

_CHUNK = 1 << 24
"""Bytes copied per write when a column's values are streamed."""
_LENGTHS = [0, *(byte_to_length(b) for b in range(1, 256))]
"""A field length as a segment's length column gives it back, by its length byte."""
_TYPECODES = (("B", 1 << 8), ("H", 1 << 16), ("i", 1 << 31), ("I", 1 << 32))
"""Whoosh's GrowableArray: the narrowest array typecode for a maximum value.

A variable-bytes column's writer keeps its lengths and offsets in a ``GrowableArray`` without
64-bit longs, so nothing from 2**32 (4 GiB) on fits: the writer raises ``OverflowError`` there.
(``VarBytesColumn``'s docstring says 2 GB, the limit of older Whoosh versions.)
"""
_BIG_ENDIAN = {"B": ">u1", "H": ">u2", "i": ">i4", "I": ">u4", "l": ">i8", "L": ">u8", "q": ">i8", "Q": ">u8"}


# --- reading a segment's files ---------------------------------------------------------------


def _read(storage: Any, name: str) -> Any:
    """A file's bytes: memory-mapped from a folder, or the bytes of an in-memory storage's file."""
    if isinstance(storage, FileStorage):
        with open(Path(storage.folder) / name, "rb") as f:
            if not f.seek(0, 2):
                return b""
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    f = storage.open_file(name)
    try:
        return f.read()
    finally:
        f.close()


def _copy_runs(data: Any, spans: list[tuple[int, int]], out: Any) -> None:
    """Write ``data[lo:hi]`` of each span to ``out``, ``_CHUNK`` bytes at a time; the pages of a
    memory-mapped source leave this process once copied (:mod:`.pages`), so copying a file of
    hundreds of MB keeps a chunk resident, not the file."""
    for lo, hi in spans:
        for at in range(lo, hi, _CHUNK):
            end = min(hi, at + _CHUNK)
            out.write(data[at:end])
            if isinstance(data, mmap.mmap):
                drop_pages(data, at, end)


def _var_layout(data: Any, doccount: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(offsets, lengths) of a Whoosh variable-bytes column's values, as ``VarBytesColumn.Reader`` reads them."""
    if doccount == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    last = len(data) - 1
    code = chr(data[last])
    if code == "X":
        lens_code, last = chr(data[last - 2]), last - 2
    else:
        lens_code = code
    size = struct.calcsize(lens_code)
    if code == "X":
        last -= struct.calcsize(chr(data[last + 1])) * doccount
    start = last - size * doccount
    lengths = np.frombuffer(data, dtype=_BIG_ENDIAN[lens_code], count=doccount, offset=start).astype(np.int64)
    offsets = np.zeros(doccount, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    return offsets, lengths


def _typecode(top: int, what: str) -> str:
    """The typecode Whoosh's column writer gives ``top``; an :class:`.IndexProblem` naming ``what`` past 4 GiB."""
    for code, limit in _TYPECODES:
        if top < limit:
            return code
    raise IndexProblem(
        f"{what}: {top:,} bytes do not fit a Whoosh variable-bytes column "
        f"(its offsets and lengths are 32-bit: under 4 GiB, {1 << 32:,} bytes)"
    )


def _runs(live: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """The [start, end) runs of True in ``live``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], live.view(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


# --- writing the merged segment's columns ------------------------------------------------------


def _column_type(schema: Any, name: str) -> Any:
    if name == "_stored":
        return whoosh3.STORED_COLUMN
    if name.startswith("_") and name.endswith("_len"):
        return whoosh3.LENGTHS_COLUMN
    return schema[name].column_type


def _is_var(column: Any) -> bool:
    while isinstance(column, wcolumns.WrappedColumn):
        column = column._child
    if type(column) in (wcolumns.VarBytesColumn, wcolumns.CompressedBytesColumn):
        return True
    if isinstance(column, wcolumns.FixedBytesColumn):  # NumericColumn too
        return False
    raise TypeError(f"cannot merge a {type(column).__name__} by copying")


def _merge_var_column(out: Any, sources: list[_Source], column: str, total: int) -> None:
    """Write the variable-bytes column ``column`` of the merged segment to ``out`` (a StructFile)."""
    lengths_parts = []
    for src in sources:
        name = src.column_file(column)
        if not src.storage.file_exists(name):
            lengths_parts.append(np.zeros(src.kept, dtype=np.int64))
            continue
        data = _read(src.storage, name)
        try:
            offsets, lengths = _var_layout(data, src.count)
            runs = [(0, src.count)] if src.live is None else _runs(src.live)
            spans = [
                (int(offsets[start]), int(offsets[end - 1] + lengths[end - 1])) for start, end in runs if start != end
            ]
            _copy_runs(data, spans, out)
            lengths_parts.append(lengths if src.live is None else lengths[src.live])
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    lengths = np.concatenate(lengths_parts) if lengths_parts else np.zeros(0, dtype=np.int64)
    merged = "merging segments " + ", ".join(str(src.segment.segment_id()) for src in sources)
    lens_code = _typecode(int(lengths.max()) if total else 0, f"{merged}: a value of column {column!r}")
    out.write(lengths.astype(_BIG_ENDIAN[lens_code]).tobytes())
    write_offsets = total > 2**15  # VarBytesColumn's cutoff
    offsets_code = ""
    if write_offsets:
        offsets = np.zeros(total, dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        offsets_code = _typecode(int(offsets[-1]), f"{merged}: the values of column {column!r}")
        out.write(offsets.astype(_BIG_ENDIAN[offsets_code]).tobytes())
    out.write(lens_code.encode("ascii"))
    if write_offsets:
        out.write(offsets_code.encode("ascii") + b"X")


def _fixed_rows(src: _Source, column: str, fixedlen: int, default: bytes) -> npt.NDArray[np.uint8]:
    rows = np.frombuffer(default * src.count, dtype=np.uint8).reshape(src.count, fixedlen).copy()
    name = src.column_file(column)
    if src.storage.file_exists(name):
        data = _read(src.storage, name)
        try:
            stored = min(len(data) // fixedlen, src.count)
            rows[:stored] = np.frombuffer(data, dtype=np.uint8, count=stored * fixedlen).reshape(stored, fixedlen)
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    return rows if src.live is None else rows[src.live]


def _merged_fixed(sources: list[_Source], column: str, coltype: Any) -> npt.NDArray[np.uint8]:
    writer = coltype.writer(None)  # (a fixed-size writer only keeps its file)
    fixedlen, default = int(writer._fixedlen), bytes(writer._defaultbytes)
    parts = [_fixed_rows(src, column, fixedlen, default) for src in sources]
    return np.concatenate(parts) if parts else np.zeros((0, fixedlen), dtype=np.uint8)


def _fixed_bytes(rows: npt.NDArray[np.uint8], default: bytes) -> bytes:
    """A fixed-size column file: every row up to the last one that is not the default (Whoosh writes no more)."""
    if not len(rows):
        return b""
    other = (rows != np.frombuffer(default, dtype=np.uint8)).any(axis=1)
    used = int(np.flatnonzero(other)[-1]) + 1 if other.any() else 0
    return rows[:used].tobytes()


def _field_total(sources: list[_Source], fieldname: str, table: npt.NDArray[np.int64], column: str) -> int:
    """The merged segment's total length of ``fieldname``: sources' totals less their deleted documents'."""
    total = 0
    for src in sources:
        known = int(getattr(src.segment, "_fieldlengths", {}).get(fieldname, 0))
        name = src.column_file(column)
        if src.live is not None and known and src.storage.file_exists(name):
            data = _read(src.storage, name)
            try:
                codes = np.zeros(src.count, dtype=np.uint8)
                stored = min(len(data), src.count)
                codes[:stored] = np.frombuffer(data, dtype=np.uint8, count=stored)
            finally:
                if isinstance(data, mmap.mmap):
                    data.close()
            known -= int(table[codes[~src.live]].sum())
        total += max(known, 0)
    return total
