# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Typed Cython kernels for the indexer's per-article hot path.

``setup.py`` compiles this file, when asked (``SEARCHLIB_COMPILE=1``), into the extension
``searchlib._ingest_kernels_c`` and appends the sha256 of this source as ``SOURCE_SHA256``;
``searchlib/_compiled.py`` uses it only when that digest matches the source installed. The
pure-Python definitions it must equal are :func:`searchlib.dedup.sketch` and
``TextPostings.add`` in ``searchlib/_whoosh/textcolumns.py`` (tests/test_ingest_kernels.py
compares them on generated and real text). Each kernel returns None for a text it does not
handle (see each): the caller then runs the pure path.

* :func:`sketch`: the words (``[A-Za-z0-9_]`` runs, lower-cased), their CRC-32s, the 5-word
  shingles' rolling hashes and the sorted distinct bottom 64 (kept by insertion into a sorted
  array of 64), in one pass over the bytes with no Python object per word.
* :func:`token_ids`: the analysis tokens (word characters with single inner dots, as written),
  each looked up in a field's ``word -> term id + 1`` dict (0: not indexed); the nonzero ids
  are appended to an ``array("I")`` and ``(count, first position)`` returned.
* :func:`count_postings` and :func:`place_postings`: a segment's text-field tokens sorted by
  term with a counting sort (two passes, no comparison sort), equal to ``TextPostings.finish``'s
  numpy path (tests/test_ingest_kernels.py).
* :func:`collapsed_ascii`: an ASCII body with its whitespace runs collapsed, as the bytes
  ``models.derive_id`` hashes.
* :func:`term_hash`: a term's 64-bit polynomial hash (``termsets.term_hash``), for a writer's
  look-ups of ids and near-duplicate keys in the committed index.
"""

from cpython cimport array
from cpython.dict cimport PyDict_GetItem
from cpython.ref cimport PyObject
from cpython.unicode cimport PyUnicode_Substring
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcmp, memcpy

cdef extern from "Python.h":
    int PyUnicode_IS_ASCII(object)
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index) nogil
    bint Py_UNICODE_ISALNUM(Py_UCS4 ch) nogil


cdef inline bint _is_mark(Py_UCS4 c) noexcept nogil:
    """A combining mark of analysis._MARKS (inside words there: the pure path's expression differs)."""
    return (
        0x300 <= c <= 0x36F or 0x1AB0 <= c <= 0x1AFF or 0x1DC0 <= c <= 0x1DFF
        or 0x20D0 <= c <= 0x20FF or 0xFE20 <= c <= 0xFE2F
    )


cdef inline bint _is_word(Py_UCS4 c) noexcept nogil:
    """``\\w`` of the re module on str: ``_`` or ``str.isalnum``."""
    if c < 128:
        return WORD_CHAR[c]
    return Py_UNICODE_ISALNUM(c)

cdef uint32_t CRC_TABLE[256]
cdef unsigned char WORD_CHAR[256]   # 1 for [A-Za-z0-9_]
cdef unsigned char LOWER[256]
cdef unsigned char ASCII_SPACE[256]  # 1 for what str.isspace() calls whitespace below 128

cdef void _init_tables():
    cdef uint32_t c
    cdef int n, k
    for n in range(256):
        c = n
        for k in range(8):
            if c & 1:
                c = 0xEDB88320 ^ (c >> 1)
            else:
                c = c >> 1
        CRC_TABLE[n] = c
        WORD_CHAR[n] = 1 if (48 <= n <= 57 or 65 <= n <= 90 or 97 <= n <= 122 or n == 95) else 0
        LOWER[n] = n + 32 if 65 <= n <= 90 else n
        ASCII_SPACE[n] = 1 if (9 <= n <= 13 or 28 <= n <= 32) else 0

_init_tables()

cdef uint64_t BASE = 1000003
cdef uint64_t GOLDEN = 0x9E3779B97F4A7C15ULL
cdef enum:  # compile-time constants: ``j % SHINGLE`` by a variable was an integer division per word
    SHINGLE = 5
    SKETCH_SIZE = 64


cdef inline void _keep_smallest(uint32_t* best, Py_ssize_t* size, uint32_t h) noexcept nogil:
    """Insert ``h`` into ``best`` (sorted, distinct, at most SKETCH_SIZE values) if it belongs there."""
    cdef Py_ssize_t lo = 0, hi = size[0], mid
    if hi == SKETCH_SIZE and h >= best[hi - 1]:
        return
    while lo < hi:  # first value >= h
        mid = (lo + hi) >> 1
        if best[mid] < h:
            lo = mid + 1
        else:
            hi = mid
    if lo < size[0] and best[lo] == h:
        return
    hi = size[0] if size[0] < SKETCH_SIZE else SKETCH_SIZE - 1
    while hi > lo:
        best[hi] = best[hi - 1]
        hi -= 1
    best[lo] = h
    if size[0] < SKETCH_SIZE:
        size[0] += 1


def sketch(str text not None):
    """``dedup.sketch(text)`` for a text whose words are ASCII, None for any other.

    Characters beyond ASCII that are not word characters (dashes, quotes, ellipses) separate
    words as the pure path's expression does; a text with any other non-ASCII character is
    left to the pure path (lower-casing and UTF-8 bytes of such words are not done here).
    """
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef bint ascii = PyUnicode_IS_ASCII(text)
    cdef const unsigned char* s = <const unsigned char*>data
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t i = 0, words = 0, size = 0, j
    cdef Py_UCS4 c
    cdef uint32_t crc
    cdef uint64_t h
    cdef uint64_t window[5]
    cdef uint32_t best[64]
    if not ascii:
        for i in range(n):
            c = PyUnicode_READ(kind, data, i)
            if c >= 128 and Py_UNICODE_ISALNUM(c):
                return None
        i = 0
    while i < n:
        c = s[i] if ascii else PyUnicode_READ(kind, data, i)
        if c >= 128 or not WORD_CHAR[c]:
            i += 1
            continue
        crc = 0xFFFFFFFF
        while True:
            crc = CRC_TABLE[(crc ^ LOWER[c]) & 0xFF] ^ (crc >> 8)
            i += 1
            if i >= n:
                break
            c = s[i] if ascii else PyUnicode_READ(kind, data, i)
            if c >= 128 or not WORD_CHAR[c]:
                break
        window[words % SHINGLE] = <uint32_t>(~crc)  # (crc ^ 0xFFFFFFFF made Python ints here: ~45 ns a word)
        words += 1
        if words >= SHINGLE:
            h = 0
            for j in range(words - SHINGLE, words):
                h = h * BASE + window[j % SHINGLE]
            _keep_smallest(best, &size, <uint32_t>((h * GOLDEN) >> 32))
    if words == 0:
        return ()
    if words < SHINGLE:
        h = 0
        for j in range(words):
            h = h * BASE + window[j]
        return (<uint32_t>((h * GOLDEN) >> 32),)
    return tuple([best[j] for j in range(size)])


cdef struct _Entry:
    uint64_t hash
    uint32_t value  # the token's term id + 1, 0 when it is not indexed
    uint32_t length  # bytes; 0: an empty slot
    unsigned char key[16]  # the bytes when length <= 16, else the arena offset (the first 8 bytes)


cdef class WordTable:
    """An ASCII token's bytes -> its value in a field's ``ids`` dict, without a Python string.

    :func:`token_ids` asks this open-addressing table first for an ASCII text's tokens (one
    cache line per look-up, short keys inline); a token it lacks is looked up in (or added
    to) ``ids`` as before and copied in. Values never change once given, so it is a cache
    of ``ids``: both paths give the same ids. 32 bytes a slot, at most half of them used
    (64-128 bytes a spelling), keys over 16 bytes in an arena besides.
    """

    cdef _Entry* entries
    cdef Py_ssize_t mask, used
    cdef bytearray arena  # keys longer than 16 bytes, back to back

    def __cinit__(self):
        self.mask = 1023
        self.used = 0
        self.entries = <_Entry*>calloc(self.mask + 1, sizeof(_Entry))
        if self.entries == NULL:
            raise MemoryError()
        self.arena = bytearray()

    def __dealloc__(self):
        free(self.entries)

    def __len__(self):
        return self.used

    cdef inline bint _same(self, const _Entry* e, const unsigned char* key, uint32_t length) noexcept:
        cdef uint64_t off
        if length <= 16:
            return memcmp(e.key, key, length) == 0
        memcpy(&off, e.key, 8)
        return memcmp((<const unsigned char*>(<char*>self.arena)) + off, key, length) == 0

    cdef inline _Entry* _find(self, uint64_t h, const unsigned char* key, uint32_t length) noexcept:
        """The entry holding ``key``, or the empty slot where it would go."""
        cdef Py_ssize_t slot = <Py_ssize_t>(h & <uint64_t>self.mask)
        cdef _Entry* e = &self.entries[slot]
        while e.length != 0:
            if e.hash == h and e.length == length and self._same(e, key, length):
                return e
            slot = (slot + 1) & self.mask
            e = &self.entries[slot]
        return e

    cdef int _add(self, uint64_t h, const unsigned char* key, uint32_t length, uint32_t value) except -1:
        cdef _Entry* e
        cdef uint64_t off
        if (self.used + 1) * 2 > self.mask + 1:
            self._grow()
        e = self._find(h, key, length)
        if length <= 16:
            memcpy(e.key, key, length)
        else:
            off = <uint64_t>len(self.arena)
            self.arena += (<const char*>key)[:length]  # (a MemoryError here leaves the slot empty)
            memcpy(e.key, &off, 8)
        e.hash = h
        e.value = value
        e.length = length  # last: the slot is taken only once whole
        self.used += 1
        return 0

    cdef int _grow(self) except -1:
        cdef Py_ssize_t old_size = self.mask + 1, j, slot
        cdef Py_ssize_t new_mask = old_size * 2 - 1
        cdef _Entry* old = self.entries
        cdef _Entry* grown = <_Entry*>calloc(new_mask + 1, sizeof(_Entry))
        if grown == NULL:
            raise MemoryError()
        for j in range(old_size):
            if old[j].length != 0:
                slot = <Py_ssize_t>(old[j].hash & <uint64_t>new_mask)
                while grown[slot].length != 0:
                    slot = (slot + 1) & new_mask
                grown[slot] = old[j]
        self.entries = grown
        self.mask = new_mask
        free(old)
        return 0


cdef enum:
    KEY_BUFFER = 64  # the longest ASCII token of a non-ASCII text looked up in a WordTable


cdef inline const unsigned char* _ascii_key(
    const unsigned char* s, bint ascii, int kind, void* data, Py_ssize_t start, Py_ssize_t end, unsigned char* buf
) noexcept:
    """Token ``text[start:end]``'s bytes if it is ASCII (in ``buf`` when the text is not), else NULL."""
    cdef Py_ssize_t j
    cdef Py_UCS4 c
    if ascii:
        return s + start
    if end - start > KEY_BUFFER:
        return NULL
    for j in range(end - start):
        c = PyUnicode_READ(kind, data, start + j)
        if c >= 128:
            return NULL
        buf[j] = <unsigned char>c
    return buf


def token_ids(str text not None, object ids, object missing, array.array out not None, WordTable table=None):
    """Append the term ids of ``text``'s indexed tokens to ``out``; ``(count, first position)``.

    ``ids`` (a dict, or a subclass) maps a token as written to its term id + 1 (0 when it is
    not indexed); ``missing(token)`` gives (and records) that value for a token not in it
    yet. A token is a run of word characters (``_`` or ``str.isalnum``) with single inner
    dots. None (and nothing appended) for a text holding combining marks (the pure path's
    expression keeps them inside words). With a ``table`` (the field's :class:`WordTable`),
    ASCII tokens (of any text) are looked up by their bytes there first (FNV-1a hashes).
    """
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef bint ascii = PyUnicode_IS_ASCII(text)
    cdef const unsigned char* s = <const unsigned char*>data
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t i = 0, start, raw = 0, first = -1, count = 0, j
    cdef PyObject* found
    cdef long value
    cdef uint64_t h
    cdef _Entry* entry
    cdef const unsigned char* key
    cdef unsigned char kbuf[KEY_BUFFER]
    cdef uint32_t* tids = <uint32_t*>malloc(((n + 1) // 2 + 1) * sizeof(uint32_t))  # a token and a gap: 2 chars
    if tids == NULL:
        raise MemoryError()
    try:
        if not ascii:
            for i in range(n):
                if _is_mark(PyUnicode_READ(kind, data, i)):
                    return None
            i = 0
        while i < n:
            if not _is_word(s[i] if ascii else PyUnicode_READ(kind, data, i)):
                i += 1
                continue
            start = i
            while True:
                while i < n and _is_word(s[i] if ascii else PyUnicode_READ(kind, data, i)):
                    i += 1
                if (
                    i + 1 < n
                    and (s[i] if ascii else PyUnicode_READ(kind, data, i)) == 46
                    and _is_word(s[i + 1] if ascii else PyUnicode_READ(kind, data, i + 1))
                ):  # a single dot between word characters
                    i += 1
                    continue
                break
            entry = NULL
            if table is not None:
                key = _ascii_key(s, ascii, kind, data, start, i, kbuf)
                if key != NULL:
                    h = 14695981039346656037ULL
                    for j in range(i - start):
                        h = (h ^ key[j]) * 1099511628211ULL
                    entry = table._find(h, key, <uint32_t>(i - start))
            if entry != NULL and entry.length != 0:
                value = entry.value
            else:
                word = PyUnicode_Substring(text, start, i)
                found = PyDict_GetItem(ids, word)
                if found == NULL:
                    value = missing(word)
                else:
                    value = <long><object>found
                if entry != NULL:
                    table._add(h, key, <uint32_t>(i - start), <uint32_t>value)
            if value:
                tids[count] = <uint32_t>value
                if first < 0:
                    first = raw
                count += 1
            raw += 1
        array.extend_buffer(out, <char*>tids, count)
    finally:
        free(tids)
    return count, (first if first >= 0 else 0)


def count_postings(
    const uint32_t[::1] keys, const uint32_t[::1] doc_list, const uint32_t[::1] counts,
    int64_t[::1] tokens, int64_t[::1] postings,
):
    """Add each term's tokens and postings to ``tokens[k]`` and ``postings[k]``; True.

    ``keys[t]`` is token ``t``'s term, the tokens in document order: ``counts[j]`` of them
    for document ``doc_list[j]`` (ascending). The first pass of :func:`place_postings`.
    """
    cdef Py_ssize_t nterms = tokens.shape[0], n = keys.shape[0], j, t = 0, end
    cdef uint32_t k
    cdef int64_t d
    cdef int64_t* last = _last_seen(nterms, postings.shape[0], n, doc_list.shape[0], counts)
    try:
        for j in range(doc_list.shape[0]):
            d = <int64_t>doc_list[j] + 1
            end = t + counts[j]
            while t < end:
                k = keys[t]
                if k >= nterms:
                    raise ValueError(f"token {t}'s term {k} is not below {nterms}")
                tokens[k] += 1
                if last[k] != d:
                    last[k] = d
                    postings[k] += 1
                t += 1
    finally:
        free(last)
    return True


def place_postings(
    const uint32_t[::1] keys, const uint32_t[::1] pos, const uint32_t[::1] doc_list, const uint32_t[::1] counts,
    int64_t[::1] token_at, int64_t[::1] posting_at,
    uint32_t[::1] out_pos, uint32_t[::1] out_docs, uint32_t[::1] out_freqs,
):
    """Sort the tokens by term in one counting pass: each term's documents, frequencies and positions.

    ``token_at[k]`` / ``posting_at[k]`` are where term ``k``'s positions / postings start (the
    running sums of :func:`count_postings`' counts; both advanced here). A term's tokens keep
    the order they came in -- documents ascending, positions ascending -- as numpy's stable
    sort by term keeps them (``TextPostings.finish``'s pure path), so the arrays are equal.
    """
    cdef Py_ssize_t nterms = token_at.shape[0], n = keys.shape[0], j, t = 0, end, p
    cdef uint32_t k
    cdef int64_t d
    cdef int64_t* last = _last_seen(nterms, posting_at.shape[0], n, doc_list.shape[0], counts)
    try:
        if pos.shape[0] != n or out_pos.shape[0] != n or out_docs.shape[0] != out_freqs.shape[0]:
            raise ValueError("positions, placed positions, documents and frequencies differ in length")
        for j in range(doc_list.shape[0]):
            d = <int64_t>doc_list[j] + 1
            end = t + counts[j]
            while t < end:
                k = keys[t]
                if k >= nterms:
                    raise ValueError(f"token {t}'s term {k} is not below {nterms}")
                if not (0 <= token_at[k] < n and 0 <= posting_at[k] <= out_docs.shape[0]):
                    raise ValueError(f"term {k}'s starts are not those count_postings gave")
                out_pos[token_at[k]] = pos[t]
                token_at[k] += 1
                if last[k] != d:
                    last[k] = d
                    p = posting_at[k]
                    if p == out_docs.shape[0]:
                        raise ValueError(f"term {k}'s starts are not those count_postings gave")
                    posting_at[k] = p + 1
                    out_docs[p] = <uint32_t>(d - 1)
                    out_freqs[p] = 1
                else:
                    out_freqs[posting_at[k] - 1] += 1
                t += 1
    finally:
        free(last)
    return True


cdef int64_t* _last_seen(Py_ssize_t nterms, Py_ssize_t nterms2, Py_ssize_t n, Py_ssize_t ndocs, const uint32_t[::1] counts) except NULL:
    """Zeroed per-term memory of the last document seen (+ 1), after checking the shapes agree."""
    cdef Py_ssize_t j, total = 0
    if nterms != nterms2:
        raise ValueError("the token and posting arrays are for different numbers of terms")
    if counts.shape[0] != ndocs:
        raise ValueError("one token count per document is needed")
    for j in range(ndocs):
        total += counts[j]
    if total != n:
        raise ValueError(f"the documents hold {total} tokens, not {n}")
    cdef int64_t* last = <int64_t*>calloc(nterms if nterms else 1, sizeof(int64_t))
    if last == NULL:
        raise MemoryError()
    return last


def collapsed_ascii(str text not None):
    """``" ".join(text.split()).encode()`` for an ASCII text (runs of whitespace as one space), None for any other.

    ``models.derive_id`` hashes every article's body so: one pass into a buffer instead of a
    Python string per word.
    """
    if not PyUnicode_IS_ASCII(text):
        return None
    cdef const unsigned char* s = <const unsigned char*>PyUnicode_DATA(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), i, w = 0
    cdef bint gap = False
    cdef unsigned char c
    cdef bytearray out = bytearray(n)
    cdef unsigned char* o = <unsigned char*>(<char*>out)
    for i in range(n):
        c = s[i]
        if ASCII_SPACE[c]:
            gap = w > 0
            continue
        if gap:
            o[w] = 32
            w += 1
            gap = False
        o[w] = c
        w += 1
    return (<char*>o)[:w]


cdef uint64_t TERM_MULTIPLIER = 0x100000001B3ULL  # FNV-1's 64-bit prime, as termsets._MULTIPLIER


def term_hash(bytes key not None):
    """``sum(key[i] * M**i) mod 2**64`` (``termsets.term_hash``'s pure definition): a writer hashes
    every new article's id and near-duplicate keys to look them up in the committed index."""
    cdef const unsigned char* s = <const unsigned char*>(<char*>key)
    cdef Py_ssize_t n = len(key), i
    cdef uint64_t total = 0, power = 1
    for i in range(n):
        total += s[i] * power
        power *= TERM_MULTIPLIER
    return total
