"""Bit-packed positions (sidecar version 7): packing, random access, streaming, the phrase kernel."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import _compiled
from searchlib._whoosh import kernels, packing
from searchlib._whoosh.columnar import POS_BLOCK
from searchlib._whoosh.packing import PackedPositions, PackedWriter, pack, packed_words, unpack, width_for
from tests.conftest import require_compiled


@st.composite
def packed_values(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    width = draw(st.integers(1, 32))
    count = draw(st.integers(0, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    values = np.random.default_rng(seed).integers(0, 1 << width, size=count, dtype=np.uint64)
    if count and draw(st.booleans()):
        values[draw(st.integers(0, count - 1))] = (1 << width) - 1  # the widest value, at any bit offset
    return values, width


@settings(max_examples=200, deadline=None)
@given(packed_values(), st.data())
def test_any_range_and_gather_unpacks_what_was_packed(case: tuple[np.ndarray, int], data: st.DataObject) -> None:
    values, width = case
    words = pack(values, width)
    assert words.dtype == np.uint64 and len(words) == packed_words(len(values), width)
    packed = PackedPositions(words, width, len(values))
    expected = values.astype(np.int64)
    assert np.array_equal(np.asarray(packed), expected)
    a = data.draw(st.integers(0, len(values)))
    b = data.draw(st.integers(a, len(values)))
    assert np.array_equal(packed[a:b], expected[a:b])
    index = np.array(data.draw(st.lists(st.integers(0, max(len(values) - 1, 0)), max_size=20)) if len(values) else [])
    assert np.array_equal(unpack(words, width, index.astype(np.int64)), expected[index.astype(np.int64)])


@settings(max_examples=150, deadline=None)
@given(packed_values(), st.sampled_from([1, 2, 3, 1 << 13]))
def test_pack_writes_the_bits_of_every_value_in_place(case: tuple[np.ndarray, int], groups: int) -> None:
    """Packed a few groups at a time (``PACK_GROUPS``), the words are value ``i``'s bits at bit ``i * width``."""
    values, width = case
    total = sum(int(v) << (i * width) for i, v in enumerate(values.tolist()))
    want = [(total >> (64 * k)) & ((1 << 64) - 1) for k in range(packed_words(len(values), width))]
    old = packing.PACK_GROUPS
    packing.PACK_GROUPS = groups
    try:
        assert pack(values, width).tolist() == want
    finally:
        packing.PACK_GROUPS = old


@pytest.fixture(scope="module")
def readers() -> ModuleType:
    return require_compiled(_compiled.packing_kernels(), "packing kernels")


@settings(max_examples=200, deadline=None)
@given(packed_values(), st.data())
def test_the_compiled_readers_equal_numpy(
    readers: ModuleType, case: tuple[np.ndarray, int], data: st.DataObject
) -> None:
    values, width = case
    words = pack(values, width)
    a = data.draw(st.integers(0, len(values)))
    b = data.draw(st.integers(a, len(values)))
    out = np.full(b - a, -1, dtype=np.int64)
    readers.unpack_range(words, width, a, out)
    assert np.array_equal(out, unpack(words, width, np.arange(a, b, dtype=np.int64)))
    index = np.array(data.draw(st.lists(st.integers(0, max(len(values) - 1, 0)), max_size=20)) if len(values) else [])
    index = index.astype(np.int64)
    at = np.full(len(index), -1, dtype=np.int64)
    readers.unpack_at(words, width, index, at)
    assert np.array_equal(at, unpack(words, width, index))


def test_the_compiled_readers_are_skipped_in_pure_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_compiled.PURE_ENV, "1")
    assert _compiled.packing_kernels() is None


@settings(max_examples=100, deadline=None)
@given(packed_values(), st.lists(st.integers(0, 150), max_size=6))
def test_streaming_runs_write_the_bytes_pack_writes(case: tuple[np.ndarray, int], cuts: list[int]) -> None:
    """A merge writes its positions a range of terms at a time: the file must not depend on the cuts."""
    values, width = case
    out = bytearray(packed_words(len(values), width) * 8)

    def put(at: int, words: np.ndarray) -> None:
        out[at : at + words.nbytes] = words.tobytes()

    writer = PackedWriter(put, 0, width, len(values))
    at = 0
    for cut in sorted(min(c, len(values)) for c in cuts):
        writer.write(values[at:cut])
        at = max(at, cut)
    writer.write(values[at:])
    writer.close()
    assert bytes(out) == pack(values, width).tobytes()


def test_width_and_bounds_are_checked() -> None:
    assert [width_for(t) for t in (0, 1, 2, 2047, 2048, 2**32 - 1)] == [1, 1, 2, 11, 12, 32]
    with pytest.raises(ValueError, match="32 bits"):
        width_for(2**32)
    packed = PackedPositions.of(np.array([5, 1, 7], dtype=np.uint16))
    assert (packed.width, len(packed), packed.max()) == (3, 3, 7)
    with pytest.raises(IndexError):
        packed[np.array([3])]
    with pytest.raises(ValueError, match="words"):
        PackedPositions(packed.words[:-1], 3, 3)
    writer = PackedWriter(lambda at, words: None, 0, 3, 2)
    with pytest.raises(ValueError, match="more positions"):
        writer.write(np.arange(3))
    writer.write(np.arange(1))
    with pytest.raises(ValueError, match="missing"):
        writer.close()


@pytest.mark.parametrize("width", [1, 5, 11, 17, 31, 32])
def test_the_numba_phrase_kernel_reads_packed_positions_as_plain_ones(width: int) -> None:
    fast = kernels.load()
    if fast is None:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(width)
    docs, freqs, positions = [], [], []
    top = (1 << width) - 1
    for word in range(2):  # two words' postings over documents 0..39; word 1 follows word 0 half the time
        for doc in range(40):
            if word == 0:
                found = np.unique(rng.integers(0, max(top, 1), size=min(5, top + 1)))
            else:
                first = positions[doc]
                found = np.unique(np.concatenate([first[::2] + 1, rng.integers(0, top + 1, size=2)]))
                found = found[found <= top]
            docs.append(doc)
            freqs.append(len(found))
            positions.append(found)
    flat = np.concatenate(positions).astype(np.uint32)
    freq = np.array(freqs, dtype=np.uint32)
    starts = np.concatenate([[0], np.cumsum(freq)])
    blocks = np.ascontiguousarray(starts[::POS_BLOCK][: len(docs) // POS_BLOCK + 1]).astype(np.uint32)
    doc_arr = np.array(docs, dtype=np.uint32)
    los, his = np.array([0, 40], dtype=np.int64), np.array([40, 80], dtype=np.int64)
    cand = np.arange(40, dtype=np.int64)
    plain = fast.phrase_segment(doc_arr, freq, blocks, flat, 0, los, his, cand)
    packed = PackedPositions.of(flat)
    assert packed.width == width_for(int(flat.max()))
    got = fast.phrase_segment(doc_arr, freq, blocks, packed.words, packed.width, los, his, cand)
    assert np.array_equal(got, plain) and plain.sum() > 0
