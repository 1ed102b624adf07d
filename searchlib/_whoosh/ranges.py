"""Index ranges gathered into one array: the positions of many postings, the entities of many documents."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["gather"]

I64 = npt.NDArray[np.int64]


def gather(starts: I64, ends: I64) -> I64:
    """The concatenated index ranges ``[starts[i], ends[i])`` as one array (no Python loop).

    Used to pick the positions of many postings at once (phrase matching, merges).
    """
    counts = ends - starts
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    shift: I64 = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    result: I64 = np.arange(total, dtype=np.int64) + shift
    return result
