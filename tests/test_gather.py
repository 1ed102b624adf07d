"""``columnar.gather``: many index ranges concatenated by numpy equal the Python loop's."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from searchlib._whoosh import columnar, phrases


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 12)), max_size=40))
def test_gather_concatenates_the_ranges(ranges: list[tuple[int, int]]) -> None:
    starts = np.array([s for s, _ in ranges], dtype=np.int64)
    ends = np.array([s + n for s, n in ranges], dtype=np.int64)
    expected = [i for s, n in ranges for i in range(s, s + n)]
    found = columnar.gather(starts, ends)
    assert found.dtype == np.int64 and found.tolist() == expected
    assert phrases.gather is columnar.gather  # one implementation for phrases and merges
