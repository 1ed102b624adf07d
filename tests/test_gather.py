"""``ranges.gather``: many index ranges concatenated by numpy equal the Python loop's."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from searchlib._whoosh import columnar, facettable, phrases, ranges, sidecar_merge


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 12)), max_size=40))
def test_gather_concatenates_the_ranges(pairs: list[tuple[int, int]]) -> None:
    starts = np.array([s for s, _ in pairs], dtype=np.int64)
    ends = np.array([s + n for s, n in pairs], dtype=np.int64)
    expected = [i for s, n in pairs for i in range(s, s + n)]
    found = ranges.gather(starts, ends)
    assert found.dtype == np.int64 and found.tolist() == expected
    # one implementation for phrases, merges and facet tables
    assert phrases.gather is columnar.gather is sidecar_merge.gather is facettable.gather is ranges.gather
