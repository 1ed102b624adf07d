# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Typed Cython kernels that read bit-packed positions (``searchlib/_whoosh/packing.py``).

``setup.py`` compiles this file into ``searchlib._packing_kernels_c`` with its sha256 appended,
used only when that digest matches the source installed (``searchlib/_compiled.py``). Each
kernel equals :func:`searchlib._whoosh.packing.unpack` on the same values (tests/test_packing.py
compares them): value ``i`` is the ``width`` bits at bit ``i * width`` of the little-endian
u64 ``words``, one word read or two when it straddles. numpy needs ~10 array passes for that
(12 ms a million values); a loop in C needs one (about 1 ms), so a phrase that reads a common
word's positions costs about what it did when they were u16.
"""

from libc.stdint cimport int64_t, uint64_t


cdef inline int64_t _value(const uint64_t* words, uint64_t bit, int width, uint64_t mask) noexcept nogil:
    """The ``width`` bits at ``bit``: one word read, two when the value straddles them."""
    cdef uint64_t word = bit >> 6
    cdef uint64_t shift = bit & 63
    cdef uint64_t value = words[word] >> shift
    if shift + width > 64:
        value |= words[word + 1] << (64 - shift)
    return <int64_t>(value & mask)


def unpack_range(const uint64_t[::1] words, int width, Py_ssize_t start, int64_t[::1] out):
    """Values ``start .. start + len(out) - 1`` into ``out``."""
    cdef Py_ssize_t i, n = out.shape[0]
    cdef uint64_t mask = ((<uint64_t>1) << width) - 1
    cdef uint64_t bit = (<uint64_t>start) * width
    cdef const uint64_t* at = &words[0]  # never empty: the pad word
    for i in range(n):
        out[i] = _value(at, bit, width, mask)
        bit += width


def unpack_at(const uint64_t[::1] words, int width, const int64_t[::1] index, int64_t[::1] out):
    """Values at ``index`` (each within the packed count) into ``out``."""
    cdef Py_ssize_t i, n = out.shape[0]
    cdef uint64_t mask = ((<uint64_t>1) << width) - 1
    cdef const uint64_t* at = &words[0]  # never empty: the pad word
    for i in range(n):
        out[i] = _value(at, (<uint64_t>index[i]) * width, width, mask)
