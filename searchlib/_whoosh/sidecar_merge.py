"""A merged segment's sidecar written straight to disk from its sources', with bounded memory.

:func:`.columnar.concat` builds the merged arrays in memory with int64 temporaries the size
of every posting and position: 1.1 GB to merge 20,000 news articles, ~5 GB at 100,000. Here
the same arrays are written into the data file a range of terms at a time: the union of the
sources' dictionaries is cut into ranges holding about ``BUCKET_POSTINGS`` postings; each
source's postings for a range are one contiguous slice of its memory-mapped arrays (its terms
are sorted), so a range costs temporaries of its own size only. A first pass counts each
term's live postings and positions and the largest values (the narrow dtype of each array,
:func:`.sidecar._narrow`, depends on them); a second writes each array's part at its place.
The file is the one :func:`.sidecar.save` writes for the concatenated arrays, byte for byte
(``tests/test_merging.py``), and is published like it: data file, then manifest, each under
a temporary name, fsynced, renamed.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from searchlib._whoosh.columnar import KEYWORD_FIELDS, POS_BLOCK, TEXT_FIELDS, Part, facet_parts, renumbered
from searchlib._whoosh.facettable import Merged
from searchlib._whoosh.packing import PackedWriter, packed_words, width_for
from searchlib._whoosh.pages import drop_pages, mapping_of
from searchlib._whoosh.ranges import gather
from searchlib._whoosh.sidecar import ALIGN, SIDECAR_VERSION, _narrow
from searchlib._whoosh.terms import TermDict

__all__ = ["BUCKET_POSTINGS", "save_merged"]

BUCKET_POSTINGS = 1_000_000
"""Postings handled at a time (a range of terms): ~60 bytes of temporaries each, plus positions."""

I64 = npt.NDArray[np.int64]


def _let_go(sources: list[_Source]) -> None:
    """After a range: the sources' pages read so far leave this process (see :mod:`.pages`)."""
    for mapping in {id(src.mapping): src.mapping for src in sources}.values():
        drop_pages(mapping)


def _dtype_for(name: str, top: int) -> np.dtype[Any]:
    """The dtype :func:`.sidecar._narrow` gives array ``name`` whose largest value is ``top``."""
    return _narrow(name, np.array([top], dtype=np.int64)).dtype


class _Source:
    """One part's view of a field: its terms mapped into the union, its live postings."""

    def __init__(self, fp: Any, live: npt.NDArray[np.bool_] | None, newnum: I64) -> None:
        self.fp = fp
        self.live = live
        self.newnum = newnum
        self.offsets: I64 = np.asarray(fp.offsets, dtype=np.int64)
        self.terms: list[str] = fp.terms
        self.tmap: I64 = np.zeros(0, dtype=np.int64)  # source term -> union term
        self.text = fp.freqs is not None
        self.mapping = mapping_of(fp.docs)  # the source sidecar's map (None: arrays in memory)

    def slice(self, lo: int, hi: int) -> tuple[int, int, int, int]:
        """(first term, end term, first posting, end posting) of this source within union terms [lo, hi)."""
        t0 = int(np.searchsorted(self.tmap, lo))
        t1 = int(np.searchsorted(self.tmap, hi))
        return t0, t1, int(self.offsets[t0]), int(self.offsets[t1])

    def kept(self, a: int, b: int) -> npt.NDArray[np.bool_] | None:
        if self.live is None:
            return None
        return self.live[np.asarray(self.fp.docs[a:b], dtype=np.int64)]


class _Writer:
    """Appends arrays to the data file at aligned offsets, recording the manifest's layout."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.at = 0
        self.layout: dict[str, list[Any]] = {}
        self.packed: dict[str, list[int]] = {}  # a text field's packed positions: [width, count]

    def reserve(self, name: str, dtype: np.dtype[Any], length: int) -> int:
        at = self.at
        self.layout[name] = [dtype.str, at, int(length)]
        self.at += dtype.itemsize * int(length)
        self.at += -self.at % ALIGN
        return at

    def put(self, at: int, values: npt.NDArray[Any]) -> None:
        if len(values):
            self.f.seek(at)
            self.f.write(np.ascontiguousarray(values).tobytes())

    def add(self, name: str, values: npt.NDArray[Any]) -> None:
        self.put(self.reserve(name, values.dtype, len(values)), values)


def _buckets(counts: I64, bucket: int) -> list[tuple[int, int]]:
    """Ranges of union terms holding about ``bucket`` postings each."""
    if not len(counts):
        return []
    cum = np.cumsum(counts)
    wanted = np.arange(1, -(-int(cum[-1]) // bucket), dtype=np.int64) * bucket
    cuts = np.unique(np.concatenate(([0], np.searchsorted(cum, wanted, side="right"), [len(counts)])))
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))


def _field(
    w: _Writer, name: str, parts: list[Part], newnums: list[I64], bucket: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[Any]]:
    """Write one field's arrays; returns its term dictionary (blob, starts) for the end of the file."""
    sources = [_Source(cols.fields[name], live, newnum) for (cols, live), newnum in zip(parts, newnums, strict=True)]
    text = name in TEXT_FIELDS
    union = sorted(set().union(*(src.terms for src in sources)))
    index = {t: i for i, t in enumerate(union)}
    estimate = np.zeros(len(union), dtype=np.int64)
    for src in sources:
        src.tmap = np.fromiter((index[t] for t in src.terms), dtype=np.int64, count=len(src.terms))
        estimate[src.tmap] += src.offsets[1:] - src.offsets[:-1]  # (a source's terms are distinct)
    del index
    ranges = _buckets(estimate, bucket)
    # pass 1: live postings per union term, live positions, largest values
    live_counts = np.zeros(len(union), dtype=np.int64)
    positions = top_doc = top_freq = top_pos = 0
    for lo, hi in ranges:
        for src in sources:
            t0, t1, a, b = src.slice(lo, hi)
            if a == b:
                continue
            keep = src.kept(a, b)
            sizes = src.offsets[t0 + 1 : t1 + 1] - src.offsets[t0:t1]
            docs = np.asarray(src.fp.docs[a:b], dtype=np.int64)
            if keep is None:
                live_counts[src.tmap[t0:t1]] += sizes
                new_docs = src.newnum[docs]
            else:
                local = np.repeat(np.arange(t0, t1, dtype=np.int64), sizes)[keep]
                live_counts[lo:hi] += np.bincount(src.tmap[local] - lo, minlength=hi - lo)
                new_docs = src.newnum[docs[keep]]
            if len(new_docs):
                top_doc = max(top_doc, int(new_docs.max()))
            if text:
                freqs = np.asarray(src.fp.freqs[a:b])
                pos_off = src.fp.pos_range(a, b)
                if keep is not None:
                    freqs = freqs[keep]
                    picked = gather(pos_off[:-1][keep], pos_off[1:][keep])
                    pos = src.fp.positions[picked]  # (packed or not: only these are read)
                else:
                    pos = src.fp.positions[int(pos_off[0]) : int(pos_off[-1])]
                if len(freqs):
                    top_freq = max(top_freq, int(freqs.max()))
                if len(pos):
                    top_pos = max(top_pos, int(pos.max()))
                positions += len(pos)
        _let_go(sources)
    present = live_counts > 0
    terms = [t for t, keep_term in zip(union, present.tolist(), strict=True) if keep_term]
    del union
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(live_counts[present], out=offsets[1:])
    total = int(offsets[-1])
    w.add(f"{name}.off", offsets)
    docs_dtype = _dtype_for(f"{name}.docs", top_doc)
    docs_at = w.reserve(f"{name}.docs", docs_dtype, total)
    if text:
        freqs_dtype = _dtype_for(f"{name}.freqs", top_freq)
        freqs_at = w.reserve(f"{name}.freqs", freqs_dtype, total)
        posblk_dtype = _dtype_for(f"{name}.posblk", positions)
        posblk_at = w.reserve(f"{name}.posblk", posblk_dtype, total // POS_BLOCK + 1)
        width = width_for(top_pos)
        pos_at = w.reserve(f"{name}.pos", np.dtype(np.uint64), packed_words(positions, width))
        packer = PackedWriter(w.put, pos_at, width, positions)  # bit-packed as sidecar.save packs them
        w.packed[name] = [width, positions]
    # pass 2: each range's postings in (term, source) order, written at their places
    done_postings = done_positions = 0
    for lo, hi in ranges:
        tids, docs_parts, freq_parts, start_parts, end_parts, pos_parts = [], [], [], [], [], []
        pos_base = 0
        for src in sources:
            t0, t1, a, b = src.slice(lo, hi)
            if a == b:
                continue
            keep = src.kept(a, b)
            sizes = src.offsets[t0 + 1 : t1 + 1] - src.offsets[t0:t1]
            local = np.repeat(src.tmap[t0:t1], sizes)
            docs = np.asarray(src.fp.docs[a:b], dtype=np.int64)
            if keep is not None:
                local, docs = local[keep], docs[keep]
            tids.append(local)
            docs_parts.append(src.newnum[docs])
            if text:
                freqs = np.asarray(src.fp.freqs[a:b])
                pos_off = src.fp.pos_range(a, b)
                first, last = int(pos_off[0]), int(pos_off[-1])
                starts, ends = pos_off[:-1] - first, pos_off[1:] - first
                if keep is not None:
                    freqs, starts, ends = freqs[keep], starts[keep], ends[keep]
                freq_parts.append(freqs)
                start_parts.append(starts + pos_base)
                end_parts.append(ends + pos_base)
                pos_parts.append(np.asarray(src.fp.positions[first:last]))
                pos_base += last - first
        if not tids:
            continue
        all_tids = np.concatenate(tids)
        order = np.argsort(all_tids, kind="stable")  # sources in order: each term's documents stay ascending
        out_docs = np.concatenate(docs_parts)[order]
        w.put(docs_at + done_postings * docs_dtype.itemsize, out_docs.astype(docs_dtype))
        if text:
            s = np.concatenate(start_parts)[order]
            e = np.concatenate(end_parts)[order]
            w.put(
                freqs_at + done_postings * freqs_dtype.itemsize, np.concatenate(freq_parts)[order].astype(freqs_dtype)
            )
            # where postings done_postings .. done_postings + len(s) start: those at a block's start are kept
            starts = np.zeros(len(s) + 1, dtype=np.int64)
            np.cumsum(e - s, out=starts[1:])
            first = -(-done_postings // POS_BLOCK)  # the first block starting in this range
            picked = starts[first * POS_BLOCK - done_postings :: POS_BLOCK] + done_positions
            w.put(posblk_at + first * posblk_dtype.itemsize, picked.astype(posblk_dtype))
            out_pos = np.concatenate(pos_parts)[gather(s, e)]
            packer.write(out_pos)
            done_positions += len(out_pos)
        done_postings += len(out_docs)
        _let_go(sources)
    if text and done_postings == 0:
        w.put(posblk_at, np.zeros(1, dtype=posblk_dtype))
    if text:
        packer.close()
    assert done_postings == total and (not text or done_positions == positions)
    return TermDict.pack(terms)


def _facets(w: _Writer, merged: Merged) -> list[int]:
    """Write the merged facet table (as :meth:`.facettable.FacetTable.arrays` orders it) a chunk at a time."""
    for label, terms in (("facets.names", merged.names), ("facets.sources", merged.sources)):
        blob, starts = TermDict.pack(terms)
        w.add(label, blob)
        w.add(f"{label}.start", _narrow(f"{label}.start", starts))
    starts_at = w.reserve("facets.start", merged.starts_dtype, merged.doc_count + 1)
    ids_at = w.reserve("facets.ids", merged.ids_dtype, merged.mentions)
    source_at = w.reserve("facets.source", merged.source_dtype, merged.doc_count)
    docs = mentions = 0
    w.put(starts_at, np.zeros(1, dtype=merged.starts_dtype))
    for counts, ids, sources in merged.chunks():
        ends = mentions + np.cumsum(counts)
        w.put(starts_at + (docs + 1) * merged.starts_dtype.itemsize, ends.astype(merged.starts_dtype))
        w.put(ids_at + mentions * merged.ids_dtype.itemsize, ids.astype(merged.ids_dtype))
        w.put(source_at + docs * merged.source_dtype.itemsize, sources.astype(merged.source_dtype))
        docs += len(counts)
        mentions += len(ids)
    assert docs == merged.doc_count and mentions == merged.mentions
    return [len(merged.names), len(merged.sources)]


def save_merged(
    folder: Path, prefix: str, parts: list[Part], *, durable: bool = False, bucket: int = BUCKET_POSTINGS
) -> int:
    """Write the sidecar of the segment made of ``parts``' live documents, in order; returns its document count.

    The same files :func:`.sidecar.save` writes for ``columnar.concat(parts)``, made without
    holding the merged arrays: memory stays at a range of ``bucket`` postings.
    """
    newnums, base = renumbered(parts)

    def kept(values: Any, live: npt.NDArray[np.bool_] | None) -> npt.NDArray[Any]:
        return np.asarray(values) if live is None else np.asarray(values)[live]

    tag = f".{os.getpid()}.{threading.get_ident()}.tmp"
    data_path = folder / f"{prefix}.cols.bin"
    tmp = data_path.with_name(data_path.name + tag)
    term_counts: dict[str, int] = {}
    try:
        with open(tmp, "wb") as f:
            w = _Writer(f)
            dates = np.concatenate([kept(cols.dates, live) for cols, live in parts]).astype(np.int32)
            w.add("dates", dates)
            for name in TEXT_FIELDS:
                lengths = np.concatenate([kept(cols.lengths[name], live) for cols, live in parts]).astype(np.uint32)
                w.add(f"{name}.len", _narrow(f"{name}.len", lengths))
            dictionaries = []
            for name in (*TEXT_FIELDS, *KEYWORD_FIELDS):
                blob, starts = _field(w, name, parts, newnums, bucket)
                term_counts[name] = len(starts) - 1
                dictionaries.append((name, blob, starts))
            for name, blob, starts in dictionaries:
                w.add(f"{name}.terms", blob)
                w.add(f"{name}.tstart", _narrow(f"{name}.tstart", starts))
            facet_sizes = _facets(w, Merged(facet_parts(parts)))
            f.truncate(w.at)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, data_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    manifest = {
        "version": SIDECAR_VERSION,
        "pos_block": POS_BLOCK,
        "doc_count": base,
        "size": w.at,
        "arrays": w.layout,
        "term_counts": term_counts,
        "packed": w.packed,
        "facets": facet_sizes,
    }
    body = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    manifest_path = folder / f"{prefix}.cols.json"
    tmp = manifest_path.with_name(manifest_path.name + tag)
    with open(tmp, "wb") as f:
        f.write(body)
        f.flush()
        if durable:
            os.fsync(f.fileno())
    os.replace(tmp, manifest_path)
    return base
