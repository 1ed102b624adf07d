"""The indexer's compiled kernels (``_ingest_kernels.pyx``) give exactly what the pure-Python path does.

``dedup.sketch`` and ``TextPostings.add`` run a typed Cython kernel for ASCII text when it is
built (``SEARCHLIB_COMPILE=1 python setup.py build_ext --inplace``) and their own Python
otherwise. These tests run both on generated and corpus text and compare values and arrays;
without the build they skip, unless ``SEARCHLIB_COMPILE=1`` says it was built (``.ci/run``):
then they fail. The pure path's own behaviour is tested with the kernel switched off, and the
guard that never uses a stale build either way.
"""

from __future__ import annotations

import importlib
from array import array
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import _compiled, dedup
from searchlib._whoosh import textcolumns
from searchlib.sample import sample_corpus_path
from tests.conftest import require_compiled


@pytest.fixture(scope="module")
def kernels() -> ModuleType:
    return require_compiled(_compiled.ingest_kernels(), "indexing kernels")


def pure_sketch(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, ...]:
    with monkeypatch.context() as m:
        m.setattr(dedup, "_compiled_sketch", _compiled._no_kernel)
        return dedup.sketch(text)


def postings(texts: list[str], kernel: object) -> tuple[list[str], list[Any], Any]:
    """The field's arrays from ``texts`` added through ``kernel`` (or the pure path)."""
    saved = textcolumns.token_ids
    textcolumns.token_ids = kernel  # type: ignore[assignment]
    try:
        tp = textcolumns.TextPostings(bucket_tokens=50)  # several term ranges
        lengths_in = [tp.add(i, text) for i, text in enumerate(texts)]
        fp, lengths = tp.finish(len(texts))
    finally:
        textcolumns.token_ids = saved
    assert lengths.tolist() == lengths_in
    arrays = [fp.offsets, fp.docs, fp.freqs, fp.pos_offsets, fp.positions]
    return list(fp.terms), arrays, lengths


_ASCII = st.text(alphabet="abcXYZ019_. ,'-\n\t.", max_size=200)
_MIXED = st.text(alphabet="abXY1_. ,\u2026\u2014\u201cé\u0301ßİ²\u00a0Ⓐ", max_size=120)
_WORD_LIST = ["the", "U.S", "a", "Gdańsk", "3.5", "...", "x.", ".y", "Run", "running", "of"]
_WORDS = st.lists(st.sampled_from(_WORD_LIST), max_size=40)


@settings(max_examples=300, deadline=None)
@given(text=_ASCII | _MIXED | _WORDS.map(" ".join))
def test_compiled_sketch_equals_the_pure_one(kernels: ModuleType, text: str) -> None:
    with pytest.MonkeyPatch.context() as m:
        expected = pure_sketch(text, m)
    got = kernels.sketch(text)
    assert got is None or got == expected
    if all(c.isascii() or not (c.isalnum() or c == "_") for c in text):
        assert got == expected  # declined only for non-ASCII words


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(_ASCII | _MIXED | _WORDS.map(" ".join), max_size=8))
def test_compiled_token_ids_build_the_same_arrays(kernels: ModuleType, texts: list[str]) -> None:
    terms, arrays, lengths = postings(texts, kernels.token_ids)
    terms_pure, arrays_pure, lengths_pure = postings(texts, _compiled._no_kernel)
    assert terms == terms_pure
    assert lengths.tolist() == lengths_pure.tolist()
    for got, expected in zip(arrays, arrays_pure, strict=True):
        assert got.tolist() == expected.tolist()


def test_both_paths_agree_on_the_sample_corpus(kernels: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [part for path in sorted(sample_corpus_path().iterdir()) for part in path.read_text("utf-8").split("\n\n")]
    for text in texts:
        assert dedup.sketch(text) == pure_sketch(text, monkeypatch)
    terms, arrays, _ = postings(texts, kernels.token_ids)
    terms_pure, arrays_pure, _ = postings(texts, _compiled._no_kernel)
    assert terms == terms_pure and len(terms) > 100
    for got, expected in zip(arrays, arrays_pure, strict=True):
        assert np.array_equal(got, expected)


def sorted_by_term(texts: list[str], *, counting_sort: bool, gap: int) -> tuple[list[str], list[Any]]:
    """The field's arrays from ``texts`` (every ``gap``-th document), sorted by the counting sort or numpy's."""
    with pytest.MonkeyPatch.context() as m:
        if not counting_sort:
            m.setattr(textcolumns, "count_postings", _compiled._no_kernel)
        tp = textcolumns.TextPostings(bucket_tokens=7)  # numpy's path: many term ranges
        for i, text in enumerate(texts):
            tp.add(i * gap, text)
        fp, _ = tp.finish(len(texts) * gap)
    return list(fp.terms), [fp.offsets, fp.docs, fp.freqs, fp.pos_offsets, fp.positions]


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(_ASCII | _MIXED | _WORDS.map(" ".join), max_size=12), gap=st.integers(1, 3))
def test_counting_sort_equals_numpys_sort(kernels: ModuleType, texts: list[str], gap: int) -> None:
    terms, arrays = sorted_by_term(texts, counting_sort=True, gap=gap)
    assert (terms, [a.tolist() for a in arrays]) == (
        (got := sorted_by_term(texts, counting_sort=False, gap=gap))[0],
        [a.tolist() for a in got[1]],
    )
    for got_array, dtype in zip(arrays, [np.int64, np.uint32, np.uint32, np.int64, np.uint32], strict=True):
        assert got_array.dtype == dtype


def test_counting_sort_refuses_inconsistent_streams(kernels: ModuleType) -> None:
    keys, docs = np.array([0, 1, 0], dtype=np.uint32), np.array([0, 4], dtype=np.uint32)
    tokens, postings_at = np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)
    assert kernels.count_postings(keys, docs, np.array([2, 1], dtype=np.uint32), tokens, postings_at)
    assert tokens.tolist() == [2, 1] and postings_at.tolist() == [2, 1]  # term 0 in documents 0 and 4
    with pytest.raises(ValueError, match="hold 4 tokens, not 3"):
        kernels.count_postings(keys, docs, np.array([2, 2], dtype=np.uint32), tokens, postings_at)
    counts = np.array([2, 1], dtype=np.uint32)
    with pytest.raises(ValueError, match="term 2 is not below 2"):
        kernels.count_postings(np.array([0, 2, 0], dtype=np.uint32), docs, counts, tokens, postings_at)
    out = np.zeros(3, dtype=np.uint32)
    with pytest.raises(ValueError, match="differ in length"):
        kernels.place_postings(keys, keys[:2], docs, counts, tokens, postings_at, out, out, out[:1])
    docs_out, freqs_out = np.zeros(3, dtype=np.uint32), np.zeros(3, dtype=np.uint32)
    for token_at, posting_at in [([0, 3], [0, 2]), ([0, 2], [0, 3]), ([-1, 2], [0, 2])]:  # past the arrays
        with pytest.raises(ValueError, match="starts are not those count_postings gave"):
            kernels.place_postings(
                keys, keys, docs, counts, np.array(token_at), np.array(posting_at), out, docs_out, freqs_out
            )


@settings(max_examples=300, deadline=None)
@given(text=_ASCII | _MIXED | st.text(alphabet="a \x1c\x1d\x1e\x1f\x0b\x0c\r\x85\u2003"))
def test_collapsed_ascii_is_the_split_and_join(kernels: ModuleType, text: str) -> None:
    from searchlib import models

    assert models._collapsed_ascii is kernels.collapsed_ascii  # derive_id uses it
    expected = " ".join(text.split()).encode()
    assert kernels.collapsed_ascii(text) == (expected if text.isascii() else None)


def test_word_table_caches_every_ascii_spelling(kernels: ModuleType) -> None:
    """Thousands of spellings (the table grows from 1,024 slots), long ones (kept apart), one per value."""
    words = [f"w{i}" for i in range(3000)] + [f"long_word_{i:06d}_beyond_sixteen" for i in range(600)] + ["U.S", "3.5"]
    ids: dict[str, int] = {}

    def missing(word: str) -> int:
        ids[word] = value = len(ids) % 7  # some not indexed (0)
        return value

    table, out, plain = kernels.WordTable(), array("I"), array("I")
    text = " ".join(words)
    for _ in range(2):  # second time: every token from the table
        kernels.token_ids(text, ids, missing, out, table)
    assert len(table) == len(set(words)) == len(ids)
    kernels.token_ids(text, ids, missing, plain)  # without the table: the dict alone
    assert out.tolist() == plain.tolist() * 2 == [ids[w] for w in words if ids[w]] * 2
    mixed, plain_mixed = array("I"), array("I")
    kernels.token_ids("Gdańsk " + text, ids, missing, mixed, table)  # ASCII tokens of a non-ASCII text: the table
    kernels.token_ids("Gdańsk " + text, ids, missing, plain_mixed)
    assert mixed.tolist() == plain_mixed.tolist() and len(table) == len(set(words))  # (Gdańsk: the dict alone)
    ids["w1"] = 99  # (values never change in use: the table answers what it was given)
    assert kernels.token_ids("w1", ids, missing, out, table) == (1, 0) and out[-1] == 1


def test_kernels_decline_only_what_they_do_not_handle(kernels: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    out = array("I")
    assert kernels.sketch("Gdańsk port") is None  # a non-ASCII word: the pure path lower-cases and encodes it
    assert kernels.sketch("Port \u2026 \u201cquoted\u201d") == pure_sketch(
        "Port \u2026 \u201cquoted\u201d", monkeypatch
    )
    assert kernels.token_ids("Gdan\u0301sk port", {}, lambda w: 1, out) is None  # a combining mark
    assert len(out) == 0
    assert kernels.token_ids("Gdańsk port\u2026", {}, lambda w: 1, out) == (2, 0)


def test_token_ids_count_positions_from_the_first_kept_token(kernels: ModuleType) -> None:
    ids = {"the": 0, "of": 0}
    out = array("I")

    def missing(word: str) -> int:
        ids[word] = len(ids) + 1
        return ids[word]

    assert kernels.token_ids("the the U.S. of Steel..x", ids, missing, out) == (3, 2)
    assert [w for w, v in ids.items() if v] == ["U.S", "Steel", "x"]
    assert kernels.token_ids("the of", ids, missing, out) == (0, 0)


def test_pure_path_without_kernel_matches_kept_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    from searchlib import analysis

    monkeypatch.setattr(textcolumns, "token_ids", _compiled._no_kernel)
    tp = textcolumns.TextPostings()
    text = "The U.S. economy grew 3.5 percent, the Gdańsk port said."
    kept, first = analysis.kept_terms(text)
    assert tp.add(0, text) == len(kept)
    fp, _ = tp.finish(1)
    assert sorted(set(kept)) == list(fp.terms)
    assert sorted(fp.positions.tolist()) == list(range(first, first + len(kept)))


def test_a_stale_or_missing_build_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> ModuleType:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", missing)
    assert _compiled.ingest_kernels() is None
    assert _compiled.ingest_kernel("sketch") is _compiled._no_kernel
    monkeypatch.undo()
    monkeypatch.setenv(_compiled.PURE_ENV, "1")
    assert _compiled.ingest_kernels() is None
    monkeypatch.undo()
    stale = ModuleType("searchlib._ingest_kernels_c")
    stale.SOURCE_SHA256 = "0" * 64  # type: ignore[attr-defined]
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: stale if name == stale.__name__ else real(name))
    assert _compiled.ingest_kernels() is None  # built from another .pyx: the pure path runs


@settings(max_examples=300, deadline=None)
@given(key=st.binary(max_size=80) | st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_term_hash_kernel_is_the_polynomial_hash(kernels: ModuleType, key: bytes) -> None:
    from searchlib._whoosh import termsets

    assert termsets.term_hash is kernels.term_hash  # the writer's look-ups use it
    assert kernels.term_hash(key) == termsets._term_hash(key)
