"""Term dictionaries looked up over stored bytes answer as the sorted list of terms does.

A version 5 sidecar keeps each field's sorted terms as NUL-joined UTF-8 plus each term's
start (``columnar.TermDict``); a version 4 one as the blob alone (starts found by a scan). A
query bisects the bytes instead of splitting the dictionary into Python strings. Here both
agree with a plain sorted list on every lookup, prefix range and decode, for any terms
(non-ASCII, empty, holding NUL).
"""

from __future__ import annotations

import bisect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib._whoosh import columnar

TERMS = st.text(alphabet=st.sampled_from(["a", "b", "é", "ß", "\x00", "z", "中", "\U0001f600"]), max_size=5)


def _dicts(terms: list[str]) -> list[columnar.TermDict]:
    blob, starts = columnar.TermDict.pack(terms)
    found = [columnar.TermDict.stored(blob, starts.astype(np.uint32), len(terms))]
    if not any("\x00" in t for t in terms):  # version 4 could not hold such terms (they stayed in its manifest)
        found.append(columnar.TermDict.scanned(blob, len(terms)))
    return found


@settings(max_examples=200, deadline=None)
@given(st.sets(TERMS, max_size=40), st.lists(TERMS, max_size=20))
def test_lookups_over_the_bytes_agree_with_the_sorted_list(terms: set[str], probes: list[str]) -> None:
    ordered = sorted(terms)
    for td in _dicts(ordered):
        assert len(td) == len(ordered)
        assert td.decode() == ordered
        assert [td.key(i).decode("utf-8") for i in range(len(td))] == ordered
        for probe in [*probes, *ordered]:
            assert td.find(probe) == (ordered.index(probe) if probe in terms else -1)
            lo, hi = td.prefix_range(probe)
            assert td.decode(lo, hi) == [t for t in ordered if t.startswith(probe)]
            assert lo == bisect.bisect_left(ordered, probe)
        fp = columnar.FieldPostings(td, np.zeros(len(ordered) + 1, dtype=np.int64), np.zeros(0, dtype=np.uint32))
        for probe in probes:
            assert fp.term_id(probe) == (ordered.index(probe) if probe in terms else -1)
            assert fp.with_prefix(probe) == [t for t in ordered if t.startswith(probe)]
        assert [fp.term(i) for i in range(len(ordered))] == ordered
        assert fp.terms == ordered


@pytest.mark.parametrize(
    ("blob", "starts", "count"),
    [(b"a\x00b", [0, 2, 4], 3), (b"a\x00b", [0, 2, 3], 2), (b"a\x00b", [1, 2, 4], 2), (b"", [0, 2], 1), (b"a", [0], 0)],
)
def test_stored_starts_that_do_not_fit_are_refused(blob: bytes, starts: list[int], count: int) -> None:
    with pytest.raises(ValueError, match="does not match its count"):
        columnar.TermDict.stored(np.frombuffer(blob, dtype=np.uint8), np.array(starts), count)


@pytest.mark.parametrize(("blob", "count"), [(b"a\x00b", 1), (b"a\x00b", 3), (b"a", 0)])
def test_a_version_4_blob_holding_another_number_of_terms_is_refused(blob: bytes, count: int) -> None:
    with pytest.raises(ValueError, match="does not match its count"):
        columnar.TermDict.scanned(np.frombuffer(blob, dtype=np.uint8), count)
