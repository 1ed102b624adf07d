"""Where a posting's positions start, derived from sampled offsets and the frequencies (sidecar version 6).

:class:`FieldPostings` keeps every ``POS_BLOCK``-th posting's position offset; every other start
is its block's sample plus the frequencies before it in the block. Checked against the full
running sum, for any ascending choice of postings (both ways :meth:`pos_starts` computes them),
any range (:meth:`pos_range`), and the sidecar's save/load round trip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib._whoosh import columnar, sidecar
from searchlib._whoosh.columnar import POS_BLOCK, FieldPostings


def _field(freqs: list[int], *, sampled: bool) -> tuple[FieldPostings, np.ndarray]:
    f = np.array(freqs, dtype=np.uint8)
    full = np.zeros(len(f) + 1, dtype=np.int64)
    np.cumsum(f, out=full[1:])
    positions = np.zeros(int(full[-1]), dtype=np.uint16)
    offsets = np.array([0, len(f)], dtype=np.int64)
    docs = np.arange(len(f), dtype=np.uint32)
    if sampled:
        fp = FieldPostings(["w"], offsets, docs, f, None, positions, pos_blocks=full[::POS_BLOCK].astype(np.uint32))
    else:
        fp = FieldPostings(["w"], offsets, docs, f, full, positions)
    return fp, full


freq_lists = st.lists(st.integers(1, 255), min_size=1, max_size=5 * POS_BLOCK)


@settings(max_examples=80, deadline=None)
@given(freq_lists, st.data(), st.booleans())
def test_starts_of_any_postings_equal_the_running_sum(freqs: list[int], data: st.DataObject, sampled: bool) -> None:
    fp, full = _field(freqs, sampled=sampled)
    n = len(freqs)
    chosen = sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=n)))
    pidx = np.array(chosen, dtype=np.int64)
    assert np.array_equal(fp.pos_starts(pidx), full[pidx])
    a = data.draw(st.integers(0, n))
    b = data.draw(st.integers(a, n))
    assert np.array_equal(fp.pos_range(a, b), full[a : b + 1])
    assert fp.has_positions and len(fp.pos_blocks) == n // POS_BLOCK + 1


def test_sparse_postings_far_apart_take_the_per_block_sums() -> None:
    rng = np.random.default_rng(3)
    freqs = rng.integers(1, 200, size=40 * POS_BLOCK).tolist()
    fp, full = _field(freqs, sampled=True)
    ends = [POS_BLOCK * 8 - 1, POS_BLOCK * 8]  # the last of a block, the first of the next
    pidx = np.array([5, *ends, POS_BLOCK * 30 + POS_BLOCK // 2, len(freqs) - 1], dtype=np.int64)
    assert np.array_equal(fp.pos_starts(pidx), full[pidx])  # (span >> POS_BLOCK * len: one sum per block)
    assert np.array_equal(fp.pos_starts(pidx[1:3]), full[pidx[1:3]])


def test_a_saved_field_keeps_every_pos_block_th_offset_and_reads_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    doc_count = 3 * POS_BLOCK + 5
    freqs = rng.integers(1, 9, size=doc_count).astype(np.uint32)
    fp, full = _field(freqs.tolist(), sampled=False)
    cols = columnar.ColumnsBuilder().finish(doc_count)  # no postings; the text fields are set below
    for name in columnar.TEXT_FIELDS:
        cols.fields[name] = fp
        cols.lengths[name] = freqs
    sidecar.save(tmp_path, "seg", cols)
    loaded = sidecar.load(tmp_path, "seg")
    assert loaded is not None
    got = loaded.fields["body"]
    assert got.pos_offsets is None and np.array_equal(np.asarray(got.pos_blocks, dtype=np.int64), full[::POS_BLOCK])
    assert np.array_equal(got.pos_range(0, doc_count), full)
    assert sidecar.damage(loaded) is None
