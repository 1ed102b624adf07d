"""A merge's keyword postings: the merged segment's ``.trm``/``.pst`` files.

Part of :func:`.merging.merge_segments` (see :mod:`.merging`): each source's term table is read
in key order (no hash lookups), its posting blocks decoded once, document numbers renumbered,
and each merged list written a block at a time, the bytes Whoosh's own block writer writes, in
(field, term) order, as a fresh build does (:func:`.postings._write_postings`).
"""

from __future__ import annotations

import heapq
import io
import itertools
import mmap
import pickle
import struct
import zlib
from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from whoosh.codec import whoosh3
from whoosh.filedb.filetables import OrderedHashReader
from whoosh.filedb.filetables import _lengths as _RECORD
from whoosh.util.numeric import length_to_byte

from searchlib._whoosh.columns_merge import _read

if TYPE_CHECKING:
    from searchlib._whoosh.merging import _Source

_MAGIC = whoosh3.WHOOSH3_HEADER_MAGIC
_BATCH = 4_096
"""Terms whose bytes are joined into one write."""
_CACHED = 1 << 20
"""One-posting terms' bytes kept per merge, to reuse for other terms of the same document (~100 MB at most)."""


def _decode_blocks(post: Any, offset: int, fixedsize: int | None) -> tuple[list[int], list[float], list[bytes]]:
    """A term's postings from a Whoosh 3 posting file: (document numbers, weights, values)."""
    ids: list[int] = []
    weights: list[float] = []
    values: list[bytes] = []
    at = offset + 4  # the block header magic
    while True:
        (length,) = struct.unpack_from("!i", post, at)
        last = length < 0
        length = -length if last else length
        start = at + 4
        end = start + length
        block = io.BytesIO(post[start:end])
        info = pickle.load(block)  # the block's info tuple, then its data
        count, comp = info[0], info[3]
        raw = block.read()
        block_ids, block_weights, block_values = pickle.loads(zlib.decompress(raw) if comp else raw)
        ids.extend(itertools.accumulate(block_ids))
        if block_weights is None:
            weights.extend(itertools.repeat(1.0, count))
        elif isinstance(block_weights, float):
            weights.extend(itertools.repeat(block_weights, count))
        else:
            weights.extend(block_weights)
        if block_values is None:
            pass
        elif isinstance(block_values, tuple):
            values.extend(block_values)
        elif fixedsize:
            values.extend(block_values[i : i + fixedsize] for i in range(0, len(block_values), fixedsize))
        if last:
            return ids, weights, values
        at = end


_Posting = tuple[str, bytes, int, list[int], list[float], list[bytes]]


def _term_postings(src: _Source, schema: Any, order: int) -> Iterator[_Posting]:
    """A source's live postings per (field, term), in key order, renumbered for the merged segment."""
    trm = src.storage.open_file(src.name(whoosh3.W3Codec.TERMS_EXT))
    table = _read(src.storage, src.name(whoosh3.W3Codec.TERMS_EXT))
    post = _read(src.storage, src.name(whoosh3.W3Codec.POSTS_EXT))
    try:
        tindex = OrderedHashReader(trm, src.storage.file_length(src.name(whoosh3.W3Codec.TERMS_EXT)))
        unmap = {num: name for name, num in tindex.extras["fieldmap"].items()}
        start, end = tindex.startofdata, tindex.endofdata
        newnum = src.newnum.tolist()
        live = None if src.live is None else src.live.tolist()
        fixed: dict[str, int | None] = {}
        info_size = whoosh3.W3TermInfo._struct.size
        seen: dict[bytes, tuple[list[int], list[float], list[bytes]]] = {}
        for keybytes, valbytes in _table_items(table, start, end):
            fieldname = unmap[struct.unpack("!H", keybytes[:2])[0]]
            if fieldname not in fixed:
                fixed[fieldname] = schema[fieldname].format.fixed_value_size()
            if valbytes[0]:  # inlined postings (Whoosh 3 writes none: its inline limit is 1)
                ids_, weights_, values_ = pickle.loads(valbytes[info_size:])
                ids, weights, values = list(ids_), list(weights_), list(values_)
            else:
                offset, length = struct.unpack_from("!qi", valbytes, info_size)
                raw = post[offset : offset + length]
                if raw in seen:  # the same bytes as an earlier term's: one posting of one document
                    ids, weights, values = seen[raw]
                else:
                    ids, weights, values = _decode_blocks(raw, 0, fixed[fieldname])
                    if len(ids) == 1 and len(seen) < _CACHED:
                        seen[raw] = (ids, weights, values)
            if live is not None:
                keep = [i for i, d in enumerate(ids) if live[d]]
                if not keep:
                    continue
                if len(keep) != len(ids):
                    ids = [ids[i] for i in keep]
                    weights = [weights[i] for i in keep]
                    values = [values[i] for i in keep] if values else values
            yield fieldname, keybytes[2:], order, [newnum[d] for d in ids], weights, values
    finally:
        trm.close()
        for mapped in (table, post):
            if isinstance(mapped, mmap.mmap):
                mapped.close()


def _table_items(table: Any, pos: int, end: int) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of a Whoosh hash file's records in file order (``HashReader._ranges`` over mapped bytes)."""
    unpack = _RECORD.unpack_from
    size = _RECORD.size
    while pos < end:
        keylen, datalen = unpack(table, pos)
        keypos = pos + size
        datapos = keypos + keylen
        yield table[keypos:datapos], table[datapos : datapos + datalen]
        pos = datapos + datalen


_TERMINFO = whoosh3.W3TermInfo._struct
_BLOCK_LIMIT = 128  # W3Codec's defaults: postings per block, zlib level
_COMPRESSION = 3


def _term_bytes(
    offset: int, ids: list[int], weights: list[float], values: list[bytes], lengths: array[int], fixedsize: int | None
) -> tuple[bytes, bytes]:
    """One term's posting blocks and its term-table value, as ``W3PostingsWriter`` writes them.

    The same bytes as ``start_term`` / :func:`.postings._write_postings` / ``finish_term`` (and
    Whoosh's ``add_posting`` path): blocks of 128 postings, each a pickled info tuple and the
    zlib-compressed pickle of delta-coded ids, minified weights and values; the term info
    sums the blocks' statistics. Without the writer objects' per-call overhead (a merge writes
    one term per id, group and near-duplicate key of every article).
    """
    if len(ids) == 1:
        blocks, packed = _one_posting(ids[0], weights[0], tuple(values), lengths, fixedsize)
        return blocks, packed + struct.pack("!qi", offset, len(blocks))
    out = [_MAGIC]
    size = 4
    total_weight: float = 0
    df = maxlength = 0
    maxweight: float = 0
    minlength: int | None = None
    minid: int | None = None
    maxid = 0
    count = len(ids)
    nlengths = len(lengths)
    for start in range(0, count, _BLOCK_LIMIT):
        end = min(start + _BLOCK_LIMIT, count)
        block_ids = ids[start:end]
        block_weights = array("f", weights[start:end])
        block_lengths = [n for d in block_ids if d < nlengths and (n := lengths[d])] if nlengths else []
        low = min(block_lengths) if block_lengths else None
        high = max(block_lengths) if block_lengths else 0
        top = max(0, max(weights[start:end]))
        total_weight += sum(block_weights)
        df += end - start
        minlength = low if minlength is None else min(minlength, low)  # type: ignore[type-var]
        maxlength = max(maxlength, high)
        maxweight = max(maxweight, top)
        if minid is None:
            minid = block_ids[0]
        maxid = block_ids[-1]
        deltas = _deltas(block_ids)
        if all(w == 1.0 for w in block_weights):
            mini_weights: Any = None
        elif all(w == block_weights[0] for w in block_weights):
            mini_weights = block_weights[0]
        else:
            mini_weights = tuple(block_weights)
        block_values = [v for v in values[start:end] if v]
        if fixedsize is None or fixedsize < 0:
            mini_values: Any = tuple(block_values)
        elif fixedsize == 0:
            mini_values = None
        else:
            mini_values = b"".join(block_values)
        data = zlib.compress(pickle.dumps((deltas, mini_weights, mini_values), 2), _COMPRESSION)
        info = pickle.dumps(
            (end - start, block_ids[-1], top, _COMPRESSION, length_to_byte(low), length_to_byte(high)), 2
        )
        length = len(info) + len(data)
        out += [struct.pack("!i", -length if end == count else length), info, data]
        size += 4 + length
    packed = _TERMINFO.pack(
        0,
        total_weight,
        df,
        0 if minlength is None else length_to_byte(minlength),
        length_to_byte(maxlength),
        maxweight,
        0xFFFFFFFF if minid is None else minid,
        maxid,
    )
    return b"".join(out), packed + struct.pack("!q", offset) + struct.pack("!i", size)


def _one_posting(
    doc: int, weight: float, values: tuple[bytes, ...], lengths: array[int], fixedsize: int | None
) -> tuple[bytes, bytes]:
    """:func:`_term_bytes` of a term with one posting (most ids, groups and near-duplicate keys).

    Returns the posting bytes and the term info without its extent (place and size in the
    file): both depend on the document, weight and value alone, so a merge reuses them for
    every term of that document with that weight and value (its id, group, near-duplicate
    keys...), see :func:`_write_keyword_postings`.
    """
    stored = array("f", [weight])[0]
    length = lengths[doc] if doc < len(lengths) else 0
    low = length or None
    value = [v for v in values if v]
    if fixedsize is None or fixedsize < 0:
        mini_values: Any = tuple(value)
    elif fixedsize == 0:
        mini_values = None
    else:
        mini_values = b"".join(value)
    mini_weight = None if stored == 1.0 else stored
    data = zlib.compress(pickle.dumps(((doc,), mini_weight, mini_values), 2), _COMPRESSION)
    top = max(0, weight)
    low_byte, high_byte = length_to_byte(low), length_to_byte(length)
    info = pickle.dumps((1, doc, top, _COMPRESSION, low_byte, high_byte), 2)
    block_length = len(info) + len(data)
    blocks = b"".join((_MAGIC, struct.pack("!i", -block_length), info, data))
    return blocks, _TERMINFO.pack(0, stored, 1, 0 if low is None else low_byte, high_byte, top, doc, doc)


def _deltas(ids: list[int]) -> tuple[int, ...]:
    """Whoosh's ``delta_encode``: the first id, then each id less the one before."""
    return (ids[0], *(b - a for a, b in itertools.pairwise(ids)))


def _write_keyword_postings(
    fieldwriter: Any, schema: Any, sources: list[_Source], lengths: dict[str, array[int]]
) -> None:
    streams = [_term_postings(src, schema, order) for order, src in enumerate(sources)]
    merged = heapq.merge(*streams, key=lambda p: (p[0], p[1], p[2]))
    current = None
    fixedsize: int | None = None
    stored = array("I")
    postfile = fieldwriter._postfile
    tindex = fieldwriter._tindex
    offset = postfile.tell()
    table = tindex.dbfile
    table_at = table.tell()
    index, buckets, hashfn = tindex.index, tindex.buckets, tindex.hashfn
    record = _RECORD.pack
    singles: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}
    post_out: list[bytes] = []  # written _BATCH terms at a time
    table_out: list[bytes] = []
    prefix = b""
    for (fieldname, tbytes), group in itertools.groupby(merged, key=lambda p: (p[0], p[1])):
        parts = list(group)
        if fieldname != current:
            if current is not None:
                fieldwriter.finish_field()
            fieldobj = schema[fieldname]
            fieldwriter.start_field(fieldname, fieldobj)
            prefix = struct.pack("!H", fieldwriter._fieldid)
            fixedsize = fieldobj.format.fixed_value_size()
            stored = lengths.get(fieldname, array("I")) if fieldobj.scorable else array("I")
            current = fieldname
        if len(parts) == 1:
            ids, weights, values = parts[0][3], parts[0][4], parts[0][5]
        else:
            ids = [d for p in parts for d in p[3]]
            weights = [w for p in parts for w in p[4]]
            values = [v for p in parts for v in p[5]]
        if len(ids) == 1:
            one = (ids[0], weights[0], tuple(values), stored[ids[0]] if ids[0] < len(stored) else 0, fixedsize)
            made = singles.get(one)
            if made is None:
                made = _one_posting(ids[0], weights[0], one[2], stored, fixedsize)
                if len(singles) < _CACHED:
                    singles[one] = made
            blocks, terminfo = made[0], made[1] + struct.pack("!qi", offset, len(made[0]))
        else:
            blocks, terminfo = _term_bytes(offset, ids, weights, values, stored, fixedsize)
        post_out.append(blocks)
        offset += len(blocks)
        # OrderedHashWriter.add without its tell() calls: keys come in increasing order
        key = prefix + tbytes
        index.append(table_at)
        entry = b"".join((record(len(key), len(terminfo)), key, terminfo))
        table_out.append(entry)
        h = hashfn(key)
        buckets[h & 255].append((h, table_at))
        table_at += len(entry)
        tindex.lastkey = key
        if len(post_out) >= _BATCH:
            postfile.write(b"".join(post_out))
            table.write(b"".join(table_out))
            post_out.clear()
            table_out.clear()
    postfile.write(b"".join(post_out))
    table.write(b"".join(table_out))
    if current is not None:
        fieldwriter.finish_field()
