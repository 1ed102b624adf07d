"""The on-disk sidecar of a segment's columnar arrays: its format, save, load, checks, upgrades.

The arrays of a segment (:mod:`.columnar`) are a *sidecar* keyed by the segment's id: written
once, next to the segment (``MAIN_<segment id>.cols.bin``, every array at an aligned offset,
in the narrowest unsigned dtype its segment's values fit -- u8, u16 or u32: positions are u32
only in a segment with an article longer than 65,535 tokens -- plus a ``.cols.json`` manifest
written last that describes it), and memory-mapped read-only afterwards. The term
dictionaries are in the data file too (sidecar version 5: NUL-joined UTF-8 and each term's
start), looked up by bisecting the mapped bytes (:class:`.terms.TermDict`): opening a segment
parses a small manifest and makes array views, and a query decodes only the terms it
compares, never a whole dictionary (older versions are still read, see
``READABLE_VERSIONS``; :func:`rewrite` upgrades them). The writer saves it for every
segment it makes -- a commit's new segment, the one segments are merged into, a
parallel-ingest worker's -- fsynced before the commit that lists
the segment (``segwriter.BackendWriter._finalize_segment``), so searches only map files.
Why a sidecar and not Whoosh's codec: a segment never changes after it is written (deletions
live in the table of contents), so its arrays never go stale, and everything Whoosh does
with segments -- merges, the crash-safe commit, orphan cleanup (Whoosh's ``clean_files``
and ``check_index`` treat ``MAIN_<id>.*`` as that segment's files) -- keeps working
unchanged. Since index format 9 the sidecar is the only copy of the text fields' postings,
and since format 10 of every field's (Whoosh writes none at all): a segment whose sidecar is
missing or damaged is rebuilt from its stored articles on first use (:func:`build`,
:mod:`.reanalyse`), and saved when on disk.
In-memory indexes keep the arrays the writer made in memory.
Apart from :mod:`.columnar` because that is the arrays and how they are made, in memory;
this is the files, and what a search, ``searchlib check`` and ``upgrade`` do with them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import mmap
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib._whoosh.columnar import (
    KEYWORD_FIELDS,
    POS_BLOCK,
    TEXT_FIELDS,
    FieldPostings,
    LazyFields,
    SegmentColumns,
)
from searchlib._whoosh.facettable import FacetTable, of_values
from searchlib._whoosh.packing import PackedPositions, packed_words
from searchlib._whoosh.terms import TermDict

SIDECAR_VERSION = 8
"""Version 8 adds each document's facet values -- its source and entities' names -- as ids into
the segment's sorted tables of them (:mod:`.facettable`; the manifest's ``facets`` entry gives
the two tables' sizes), which the Whoosh ``facets`` column held as text up to version 7.
Version 7 stores a text field's positions bit-packed at the width of the segment's largest
(:mod:`.packing`; the manifest's ``packed`` entry gives each field's width and count): 11 bits
a position for news instead of 16. Version 6 stored where a text field's postings' positions
start only every ``POS_BLOCK`` postings (``<field>.posblk``; a posting's start is derived from
it and the frequencies, see :class:`.columnar.FieldPostings`) instead of one offset per posting
(``<field>.posoff``: the largest array of version 5, 36% of a 100,000-article index's sidecars)."""
READABLE_VERSIONS = (2, 3, 4, 5, 6, 7, 8)
"""Version 2 stored every array as u32/i64, version 3 narrowed them (see ``_narrow``) and both
kept every term dictionary in the JSON manifest; version 4 moved them into the data file,
NUL-joined, without their starts (found by a scan on load, terms holding NUL stayed in the
manifest); version 5 stored each term's start too (:class:`TermDict`), and up to it every
posting's position offset; version 6 kept positions unpacked (u16 for most segments); up to
version 7 the facet values were the segment's Whoosh ``facets`` column (read into a table when
the segment is first opened: :func:`segment_columns`). All are read as they are; :func:`outdated`
and :func:`rewrite` bring them to version 8 (so does a merge, which writes its segment in
version 8)."""


def build(reader: Any) -> SegmentColumns:
    """Every array of one Whoosh segment reader, rebuilt from its stored articles.

    Index format 10 has no Whoosh postings at all, so the arrays are made again
    by analysing each stored document as the writer did (:func:`.reanalyse.rebuild`).
    """
    from searchlib._whoosh.reanalyse import rebuild  # on first use: only a lost or damaged sidecar needs it

    return rebuild(reader)


def _arrays(cols: SegmentColumns) -> Iterator[tuple[str, npt.NDArray[Any]]]:
    yield "dates", cols.dates
    for name, lengths in cols.lengths.items():
        yield f"{name}.len", lengths
    for name, fp in cols.fields.items():
        yield f"{name}.off", fp.offsets
        yield f"{name}.docs", fp.docs
        if fp.freqs is not None and fp.positions is not None and fp.has_positions:
            yield f"{name}.freqs", fp.freqs
            yield f"{name}.posblk", fp.pos_blocks
            yield f"{name}.pos", fp.positions


ALIGN = 64
"""Each array starts at a multiple of this many bytes in the data file."""

_UNSIGNED = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.uint32))
_READABLE_DTYPES = frozenset([*_UNSIGNED, np.dtype(np.uint64), np.dtype(np.int32), np.dtype(np.int64)])


def _narrow(name: str, values: npt.NDArray[Any], top: int | None = None) -> npt.NDArray[Any]:
    """``values`` in the narrowest unsigned dtype that holds them (u8, u16 or u32), for the file.

    Document numbers, frequencies, positions, position offsets and field lengths are
    non-negative; most segments' positions and document numbers fit 16 bits and frequencies
    8, which halves the sidecar. A segment with an article longer than 65,535 tokens keeps
    u32 positions. Term offsets (one per term) and dates stay as they are. Readers get the
    stored dtype: code that computes with these arrays converts them to int64 first. ``top``
    (at least the largest value) picks the dtype instead: sampled position offsets take the
    dtype of their field's position count, as every posting's offset did.
    """
    if name == "dates" or name.endswith(".off") or values.dtype.kind not in "ui":
        return values
    if top is None:
        top = int(values.max()) if len(values) else 0
    for dtype in _UNSIGNED:
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype, copy=False)
    return values


def packed(positions: Any) -> PackedPositions:
    """A field's positions as version 7 stores them: packed as they are, or at their largest's width."""
    if isinstance(positions, PackedPositions):
        return positions
    return PackedPositions.of(np.asarray(positions))


def _position_count(cols: SegmentColumns, field: str) -> int:
    positions = cols.fields[field].positions
    return 0 if positions is None else len(positions)


def _write_durably(target: Path, tag: str, write: Any, durable: bool) -> None:
    """Write ``target`` under a temporary name, fsync it (when ``durable``), then rename it."""
    tmp = target.with_name(target.name + tag)
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        if durable:
            os.fsync(f.fileno())
    os.replace(tmp, target)


def save(folder: Path, prefix: str, cols: SegmentColumns, *, durable: bool = False) -> None:
    """Write the sidecar: one data file of every array, then the manifest that describes it.

    Two files (``<prefix>.cols.bin`` and ``<prefix>.cols.json``), each written under a
    temporary name and renamed, the manifest last: a reader trusts the data only through the
    manifest, which records each array's dtype, place and length and the file's size
    (checked by :func:`load`), so a crash mid-write leaves nothing a reader uses. With
    ``durable`` both files are fsynced before this returns; their names are made durable by
    the folder fsync that precedes the rename of the commit listing the segment
    (``store.DurableStorage.rename_file``). One data file rather than one per array: each
    fsync costs milliseconds, and every commit writes a sidecar.
    """
    tag = f".{os.getpid()}.{threading.get_ident()}.tmp"
    layout: dict[str, list[Any]] = {}
    term_counts: dict[str, int] = {}
    packings: dict[str, list[int]] = {}
    arrays = list(_arrays(cols))
    for name, fp in cols.fields.items():
        blob, starts = fp.stored_terms()
        term_counts[name] = len(starts) - 1
        arrays += [(f"{name}.terms", blob), (f"{name}.tstart", starts)]
    if cols.facets is None:
        raise ValueError("a segment's arrays to save have no facet table")
    arrays += list(cols.facets.arrays())

    def stored(name: str, values: Any) -> npt.NDArray[Any]:
        """An array as the file holds it: positions packed, numbers narrowed."""
        if name.endswith(".pos"):
            found = packed(values)
            packings[name[: -len(".pos")]] = [found.width, found.count]
            return found.words
        top = _position_count(cols, name[: -len(".posblk")]) if name.endswith(".posblk") else None
        is_blob = name.endswith(".terms") or name in ("facets.names", "facets.sources")
        return np.ascontiguousarray(values if is_blob else _narrow(name, values, top))

    sizes: list[int] = []  # the data file's, once written

    def write_data(f: Any) -> None:  # one array made and written at a time: no second copy of the segment
        layout.clear()
        for name, values in arrays:
            data = stored(name, values)
            layout[name] = [data.dtype.str, f.tell(), int(data.shape[0])]
            f.write(data.data)  # the array's bytes, not a copy (tobytes made one)
            f.write(bytes(-f.tell() % ALIGN))
        sizes.append(f.tell())

    _write_durably(folder / f"{prefix}.cols.bin", tag, write_data, durable)
    at = sizes[-1]
    manifest = {
        "version": SIDECAR_VERSION,
        "pos_block": POS_BLOCK,
        "doc_count": cols.doc_count,
        "size": at,
        "arrays": layout,
        "term_counts": term_counts,
        "packed": packings,
        "facets": [len(cols.facets.names), len(cols.facets.sources)] if cols.facets is not None else None,
    }
    body = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    _write_durably(folder / f"{prefix}.cols.json", tag, lambda f: f.write(body), durable)


def _field_consistent(fp: FieldPostings) -> bool:
    """The field's offsets fit the arrays they index."""
    if len(fp.offsets) != fp.term_count + 1 or int(fp.offsets[-1]) != len(fp.docs):
        return False
    positions, pos_offsets, freqs = fp.positions, fp.pos_offsets, fp.freqs
    if positions is None or freqs is None:
        return True
    if len(freqs) != len(fp.docs):
        return False
    if pos_offsets is not None:
        return len(pos_offsets) == len(fp.docs) + 1 and int(pos_offsets[-1]) == len(positions)
    blocks = fp.pos_blocks
    return len(blocks) == len(fp.docs) // POS_BLOCK + 1 and int(blocks[0]) == 0 and int(blocks[-1]) <= len(positions)


def load(folder: Path, prefix: str) -> SegmentColumns | None:
    """The sidecar's arrays, memory-mapped read-only, or None when there is none (or it is damaged).

    Damaged means: the manifest does not describe the data file (sizes, places, dtypes), or an
    entry that ties a field's arrays together is wrong -- the first and last term offset, the
    first and last position offset, the term dictionary's first and last start (a page or two
    a field; a version 4 dictionary is scanned). A None makes :func:`segment_columns` rebuild
    the segment from its stored articles. Damage inside an array (an offset in the middle,
    a document number) is left to :func:`damage`, which ``searchlib check`` runs.
    """
    try:
        manifest = json.loads((folder / f"{prefix}.cols.json").read_text("utf-8"))
        if manifest.get("version") not in READABLE_VERSIONS:
            return None
        data_path = folder / f"{prefix}.cols.bin"
        size = int(manifest["size"])
        if data_path.stat().st_size != size:
            return None
        # a plain ndarray over the map (slicing a np.memmap builds a memmap object each time,
        # and making one costs ~4x an mmap): the map lives as long as any view of it
        raw, mapped = np.zeros(0, np.uint8), None
        if size:
            with open(data_path, "rb") as f:
                mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            raw = np.frombuffer(mapped, dtype=np.uint8)
        layout = manifest["arrays"]

        def arr(name: str) -> Any:
            dtype, at, end = place(name)
            return raw[at:end].view(dtype)

        def place(name: str) -> tuple[np.dtype[Any], int, int]:
            dtype_str, at, length = layout[name]
            dtype = np.dtype(dtype_str)
            if dtype not in _READABLE_DTYPES:
                raise ValueError(f"unexpected dtype {dtype_str}")
            end = at + length * dtype.itemsize
            if at % ALIGN or end > size or length < 0:
                raise ValueError(f"array {name} outside the data file")
            return dtype, at, end

        def length(name: str) -> int:
            place(name)
            return int(layout[name][2])

        count = int(manifest["doc_count"])
        version = manifest["version"]
        if version >= 6 and manifest.get("pos_block") != POS_BLOCK:
            return None
        listed: dict[str, list[str]] = {} if version >= 5 else dict(manifest["terms"])
        term_counts = {name: len(terms) for name, terms in listed.items()}
        if version >= 4:
            term_counts.update((name, int(n)) for name, n in manifest["term_counts"].items())
        view = raw.data  # a memoryview: slicing it makes no array

        def item(name: str, i: int) -> int:
            """Entry ``i`` of array ``name`` (negative: from the end): one page of the file read.

            Bytes to int, not a numpy view (a few times faster; ~40 of these a segment); the
            array's place and dtype were checked by ``length`` first.
            """
            dtype_str, at, count_ = layout[name]
            size = int(dtype_str[2:])
            i = i if i >= 0 else count_ + i
            if not 0 <= i < count_:
                raise IndexError(f"array {name} is empty")
            at += i * size
            data = view[at : at + size]
            signed = dtype_str[1] == "i"
            return (
                int.from_bytes(data, "big", signed=signed)
                if dtype_str[0] == ">"
                else int.from_bytes(data, "little", signed=signed)
            )

        # each field's sizes against the manifest, then the entries that tie its arrays together
        # (a page or two a field): a damaged sidecar is not trusted, so the segment is rebuilt;
        # the array views are made lazily (LazyFields)
        scanned: dict[str, TermDict] = {}
        packings: dict[str, tuple[int, int]] = {}  # version 7: field -> (width, count) of its packed positions
        for name, (width, count_) in (manifest.get("packed") or {}).items() if version >= 7 else ():
            packings[name] = (int(width), int(count_))
            if not 1 <= int(width) <= 32 or length(f"{name}.pos") != packed_words(int(count_), int(width)):
                return None
            if place(f"{name}.pos")[0] != np.dtype("<u8"):  # packed words, or the values are misread
                return None
        for name, term_count in term_counts.items():
            docs = length(f"{name}.docs")
            if length(f"{name}.off") != term_count + 1 or item(f"{name}.off", 0) != 0:
                return None
            if item(f"{name}.off", -1) != docs:
                return None
            if name in TEXT_FIELDS and version >= 6:  # every POS_BLOCK-th posting's position offset
                if length(f"{name}.freqs") != docs or length(f"{name}.posblk") != docs // POS_BLOCK + 1:
                    return None
                tail = int(np.sum(arr(f"{name}.freqs")[docs - docs % POS_BLOCK :], dtype=np.int64))  # < POS_BLOCK
                count_ = packings[name][1] if version >= 7 else length(f"{name}.pos")
                if item(f"{name}.posblk", 0) != 0 or item(f"{name}.posblk", -1) + tail != count_:
                    return None
            elif name in TEXT_FIELDS:  # every posting's
                if length(f"{name}.freqs") != docs or length(f"{name}.posoff") != docs + 1:
                    return None
                if item(f"{name}.posoff", 0) != 0 or item(f"{name}.posoff", -1) != length(f"{name}.pos"):
                    return None
            if name in listed:
                continue
            blob = length(f"{name}.terms")
            if version >= 5:
                if length(f"{name}.tstart") != term_count + 1 or item(f"{name}.tstart", 0) != 0:
                    return None
                if item(f"{name}.tstart", -1) != (blob + 1 if term_count else 0) or (blob and not term_count):
                    return None
            else:  # version 4 has no starts: found by one scan of the blob
                scanned[name] = TermDict.scanned(arr(f"{name}.terms"), term_count)
        if {*TEXT_FIELDS, *KEYWORD_FIELDS} - term_counts.keys():
            return None  # (a field missing: the segment is rebuilt, as when damaged)

        def maker(name: str) -> Callable[[], FieldPostings]:
            def make() -> FieldPostings:
                terms: list[str] | TermDict
                if name in listed:
                    terms = listed[name]
                elif version >= 5:
                    terms = TermDict.stored(arr(f"{name}.terms"), arr(f"{name}.tstart"), term_counts[name])
                else:
                    terms = scanned[name]
                if name in TEXT_FIELDS and version >= 6:
                    positions: Any = arr(f"{name}.pos")
                    if version >= 7:
                        positions = PackedPositions(positions, *packings[name])
                    fp = FieldPostings(
                        terms, arr(f"{name}.off"), arr(f"{name}.docs"), arr(f"{name}.freqs"), None, positions,
                        pos_blocks=arr(f"{name}.posblk"),
                    )  # fmt: skip
                elif name in TEXT_FIELDS:
                    fp = FieldPostings(
                        terms, arr(f"{name}.off"), arr(f"{name}.docs"), arr(f"{name}.freqs"), arr(f"{name}.posoff"),
                        arr(f"{name}.pos"),
                    )  # fmt: skip
                else:
                    fp = FieldPostings(terms, arr(f"{name}.off"), arr(f"{name}.docs"))
                if not _field_consistent(fp):
                    raise ValueError(f"damaged sidecar {data_path}: the {name} arrays do not fit together")
                return fp

            return make

        fields = LazyFields({name: maker(name) for name in term_counts})
        lengths = {name: arr(f"{name}.len") for name in TEXT_FIELDS}
        dates = arr("dates")
        if len(dates) != count or any(len(v) != count for v in lengths.values()):
            return None
        facets = None
        if version >= 8:  # the table's ends against each other (its middle: damage(), for check)
            name_count, source_count = (int(n) for n in manifest["facets"])
            names = TermDict.stored(arr("facets.names"), arr("facets.names.start"), name_count)
            sources = TermDict.stored(arr("facets.sources"), arr("facets.sources.start"), source_count)
            starts, ids, source_ids = arr("facets.start"), arr("facets.ids"), arr("facets.source")
            if any(a.dtype.kind != "u" for a in (starts, ids, source_ids)):  # never negative
                return None
            if len(starts) != count + 1 or len(source_ids) != count or item("facets.start", -1) != len(ids):
                return None
            if item("facets.start", 0) != 0 or source_count < 1:
                return None
            facets = FacetTable(names, sources, starts, ids, source_ids)
        cols = SegmentColumns(count, fields, lengths, dates, facets)
        cols.mapped = mapped
        return cols
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def drop_pages(cols: SegmentColumns) -> None:
    """Unmap the pages of ``cols``' data file this process has read (Linux ``MADV_DONTNEED``).

    The file stays in the page cache and the arrays stay valid: a later read maps its page
    again. For a process that reads a large index at random and then needs its memory for
    something else (an ingest worker about to write a segment). No-op for arrays in memory.
    """
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if cols.mapped is not None and advice is not None:
        with contextlib.suppress(OSError, ValueError):  # a closed map: nothing resident
            cols.mapped.madvise(advice)


def damage(cols: SegmentColumns) -> str | None:
    """What is wrong with a loaded segment's arrays, or None: every field made and read in full.

    For ``searchlib check``: :func:`load` reads only the entries that tie the arrays together
    (the first search must stay cheap), this reads every entry of every field -- offsets that
    never decrease, document numbers in range and ascending within each term, frequencies that
    add up to the positions and to the sampled position offsets (every posting's offsets in
    version 5: never decreasing), a sorted term dictionary. Seconds for a large segment.
    """
    count = cols.doc_count
    for name in list(cols.fields):
        try:
            fp = cols.fields[name]
            if not _field_consistent(fp):
                return f"the {name} arrays do not fit together"
            offsets = np.asarray(fp.offsets, dtype=np.int64)
            if len(offsets) and (offsets[0] != 0 or bool((np.diff(offsets) < 0).any())):
                return f"the {name} term offsets are out of order"
            docs = np.asarray(fp.docs, dtype=np.int64)
            if len(docs) and int(docs.max()) >= count:
                return f"the {name} postings name documents the segment does not have"
            step = np.diff(docs)
            starts_term = np.zeros(len(docs), dtype=bool)  # a term's first posting may go back
            starts_term[offsets[1:-1][offsets[1:-1] < len(docs)]] = True
            if bool((step <= 0)[~starts_term[1:]].any()):
                return f"the {name} postings of a term are not in document order"
            if fp.pos_offsets is not None:
                pos_offsets = np.asarray(fp.pos_offsets, dtype=np.int64)
                if pos_offsets[0] != 0 or bool((np.diff(pos_offsets) < 0).any()):
                    return f"the {name} position offsets are out of order"
            if fp.has_positions:  # the frequencies account for every position, as the samples say
                assert fp.freqs is not None and fp.positions is not None
                starts = np.zeros(len(docs) + 1, dtype=np.int64)
                np.add.accumulate(fp.freqs, dtype=np.int64, out=starts[1:])
                if int(starts[-1]) != len(fp.positions):
                    return f"the {name} frequencies do not add up to its positions"
                if not np.array_equal(starts[::POS_BLOCK], np.asarray(fp.pos_blocks, dtype=np.int64)):
                    return f"the {name} position offsets do not match its frequencies"
            stored_starts = np.asarray(fp.stored_terms()[1], dtype=np.int64)  # (before .terms replaces them)
            terms = fp.terms
            if any(a >= b for a, b in itertools.pairwise(terms)):
                return f"the {name} term dictionary is not sorted"
            if not np.array_equal(stored_starts, TermDict.pack(terms)[1]):  # what a look-up reads by
                return f"the {name} term dictionary's offsets do not fit its terms"
        except (ValueError, IndexError, UnicodeDecodeError) as e:
            return f"the {name} arrays do not read: {e}"
    if cols.facets is not None:
        try:
            return cols.facets.damage()
        except (ValueError, IndexError, UnicodeDecodeError) as e:
            return f"the facet table does not read: {e}"
    return None


def outdated(folder: Path, segment_ids: set[str]) -> list[str]:
    """The segments of ``segment_ids`` whose sidecar is readable but of an older version than this one writes."""
    found = []
    for segment_id in sorted(segment_ids):
        try:
            version = json.loads((folder / f"{segment_id}.cols.json").read_text("utf-8")).get("version")
        except (OSError, ValueError, AttributeError):
            continue  # none, or damaged: the first search rebuilds it
        if version in READABLE_VERSIONS and version != SIDECAR_VERSION:
            found.append(segment_id)
    return found


def rewrite(folder: Path, segment_id: str, reader: Any, *, durable: bool = True) -> bool:
    """Rewrite a segment's sidecar in the current version (same arrays); False when it does not load.

    ``reader`` is the segment's Whoosh reader: a sidecar older than version 8 gets its facet
    table from the segment's ``facets`` column. Readers that mapped the old files keep reading
    them (each file is replaced by a rename); the caller holds the index's write lock, so no
    writer removes the segment meanwhile.
    """
    cols = load(folder, segment_id)
    if cols is None:
        return False
    if cols.facets is None:
        cols.facets = column_facets(reader)
    try:
        save(folder, segment_id, cols, durable=durable)  # (every array is read before anything is written)
    except ValueError:  # a damaged field: left as it is
        return False
    return True


def segment_columns(
    reader: Any, folder: Path | None, cache: dict[str, SegmentColumns], *, facets: bool = True
) -> SegmentColumns:
    """The arrays of segment ``reader``: from ``cache``, the sidecar, or built (and saved).

    ``cache`` belongs to one open index and is keyed by segment id (segments never change).
    Building (from the stored articles) happens only when a sidecar was lost or damaged: the
    writer saves every segment's, and keeps an in-memory index's in ``cache``. A sidecar older
    than version 8 gets its facet table from the segment's Whoosh column unless ``facets`` is
    False (a writer's id look-ups: ``cache`` must then be the caller's alone).
    """
    segment_id = reader._segment.segment_id()
    count = int(reader.doc_count_all())
    found = cache.get(segment_id)
    if found is not None and found.doc_count == count:
        return found
    cols = load(folder, segment_id) if folder is not None else None
    if cols is None or cols.doc_count != count:
        cols = build(reader)
        if folder is not None:
            with contextlib.suppress(OSError):
                save(folder, segment_id, cols)
    if cols.facets is None and facets:  # a sidecar older than version 8: its segment's Whoosh column, read once
        cols.facets = column_facets(reader)
    cache[segment_id] = cols
    return cols


def column_facets(reader: Any) -> FacetTable:
    """The facet table of a segment written before sidecar version 8, from its Whoosh ``facets`` column.

    A segment without that column -- written by version 8 code, its sidecar since replaced by
    an older searchlib's (which rebuilds a sidecar it cannot read, in its own version) -- gets
    it from its stored articles, as :func:`build` would.
    """
    count = int(reader.doc_count_all())
    if not count:
        return of_values((), 0)
    if reader._perdoc.has_column("facets"):
        column = reader.column_reader("facets")
        return of_values((column[d] for d in range(count)), count)
    from searchlib._whoosh.schema import facets_value  # (schema imports this module's dependencies)

    return of_values((facets_value(reader.stored_fields(d)["meta"]) for d in range(count)), count)
