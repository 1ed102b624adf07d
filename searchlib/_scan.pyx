# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The candidate-span scanner of the entity extractor, written for C: one pass over the text.

``searchlib._spans.scan`` finds a text's candidate name spans with regular expressions (the
span regex ``SPAN``, the sentence openings ``_SENTENCE_OPENING``, the place preposition
before a span ``_PREP_BEFORE``); this module does the same in one typed loop over the
string's code points, with no regex engine and no match objects, and returns exactly the same
list (``tests/test_entity_scan.py`` compares them on every corpus and on random text). The
compiled extractor (``_spans_c``, built by ``setup.py``) uses it; the pure-Python extractor
keeps the regexes. Any change to the regexes in ``_spans.py`` must be made here too (the
comparison test fails until it is).

Each character class below is the one Python's ``re`` uses for a ``str`` pattern: ``\\w`` is
``isalnum()`` or "_", ``\\d`` is ``isdecimal()``, ``\\s`` is ``isspace()``, the capitals of
``_UPPER`` are ``isupper()`` below U+2000.
"""

OPENERS = frozenset()
"""Sentence openers that never start a span alone ("The", "He"): ``_spans`` sets it (``_skip_openers``)."""
JOINERS = frozenset()
"""Connectors and particles between a span's words ("of", "van"): ``_spans`` sets it."""

cdef int _MAX_OPENER = 0


def configure(openers, joiners):
    """Set the word lists (``_spans`` passes its own, so that both scanners read the same ones)."""
    global OPENERS, JOINERS, _MAX_OPENER
    OPENERS = frozenset(openers)
    JOINERS = frozenset(joiners)
    _MAX_OPENER = max([len(w) for w in OPENERS] or [0])


cdef inline bint _word(Py_UCS4 c):
    """``\\w``."""
    if c < 128:
        return (c >= 97 and c <= 122) or (c >= 65 and c <= 90) or (c >= 48 and c <= 57) or c == 95
    return c.isalnum()


cdef inline bint _alnum(Py_UCS4 c):
    """``[^\\W_]``."""
    if c < 128:
        return (c >= 97 and c <= 122) or (c >= 65 and c <= 90) or (c >= 48 and c <= 57)
    return c.isalnum()


cdef inline bint _decimal(Py_UCS4 c):
    """``\\d``."""
    if c < 128:
        return c >= 48 and c <= 57
    return c.isdecimal()


cdef inline bint _space(Py_UCS4 c):
    """``\\s``."""
    if c < 128:
        return c == 32 or (c >= 9 and c <= 13) or (c >= 28 and c <= 31)
    return c.isspace()


cdef inline bint _blank(Py_UCS4 c):
    """``[^\\S\\n]``: white space other than a line break."""
    return c != 10 and _space(c)


cdef inline bint _upper(Py_UCS4 c):
    """``[{_UPPER}]``: a capital below U+2000."""
    if c < 128:
        return c >= 65 and c <= 90
    return c < 0x2000 and c.isupper()


cdef inline bint _ascii_upper(Py_UCS4 c):
    """``[A-Z]``."""
    return c >= 65 and c <= 90


cdef inline bint _tail(Py_UCS4 c):
    """``[\\w’'\\-]``."""
    return _word(c) or c == 0x2019 or c == 39 or c == 45


cdef inline bint _quote(Py_UCS4 c):
    """``['’]``."""
    return c == 39 or c == 0x2019


cdef inline Py_ssize_t _word_tail(str text, Py_ssize_t n, Py_ssize_t p):
    """The end of ``(?:[\\w’'\\-]*[^\\W_])?(?:['’]s?)?`` matched from ``p``."""
    cdef Py_ssize_t r = p, q = p
    cdef Py_UCS4 c
    while r < n:
        c = text[r]
        if not _tail(c):
            break
        r += 1
        if _alnum(c):
            q = r
    if q < n and _quote(text[q]):
        q += 1
        if q < n and text[q] == u"s":
            q += 1
    return q


cdef inline Py_ssize_t _dotted(str text, Py_ssize_t n, Py_ssize_t p):
    """The number of ``[A-Z]\\.`` pairs from ``p``."""
    cdef Py_ssize_t k = 0
    while p + 1 < n and _ascii_upper(text[p]) and text[p + 1] == u".":
        p += 2
        k += 1
    return k


cdef inline Py_ssize_t _cap(str text, Py_ssize_t n, Py_ssize_t p):
    """The end of ``_CAP`` matched at ``p``, or -1."""
    cdef Py_UCS4 c
    if p >= n:
        return -1
    c = text[p]
    if _ascii_upper(c) and p + 1 < n and text[p + 1] == u"." and _dotted(text, n, p + 2) > 0:
        return p + 2 + 2 * _dotted(text, n, p + 2)
    if _upper(c):
        return _word_tail(text, n, p + 1)
    if (c == u"a" or c == u"e") and p + 3 < n and text[p + 1] == u"l" and text[p + 2] == u"-" and _ascii_upper(text[p + 3]):
        return _word_tail(text, n, p + 3)
    return -1


cdef inline Py_ssize_t _blanks(str text, Py_ssize_t n, Py_ssize_t p):
    """The end of ``[^\\S\\n]*`` from ``p``."""
    while p < n and _blank(text[p]):
        p += 1
    return p


cdef inline Py_ssize_t _joiner(str text, Py_ssize_t n, Py_ssize_t p):
    """The end of ``(?:of[^\\S\\n]+the|{_JOINER})[^\\S\\n]+`` at ``p``, or -1."""
    cdef Py_ssize_t k, q
    if p + 1 < n and text[p] == u"o" and text[p + 1] == u"f":
        k = _blanks(text, n, p + 2)
        if k > p + 2 and k + 2 < n and text[k] == u"t" and text[k + 1] == u"h" and text[k + 2] == u"e":
            q = _blanks(text, n, k + 3)
            if q > k + 3:
                return q
    k = p
    while k < n and not _space(text[k]) and k - p < 6:
        k += 1
    if k == p or k >= n or not _blank(text[k]) or text[p:k] not in JOINERS:
        return -1
    return _blanks(text, n, k)


cdef inline bint _numbered(str text, Py_ssize_t p):
    """``(?<=Radio)|(?<=Channel)|(?<=Formula)`` at ``p``."""
    return (
        (p >= 5 and text[p - 5:p] == u"Radio")
        or (p >= 7 and (text[p - 7:p] == u"Channel" or text[p - 7:p] == u"Formula"))
    )


cdef inline Py_ssize_t _num(str text, Py_ssize_t n, Py_ssize_t p):
    """The end of ``_NUM?`` at ``p``."""
    cdef Py_ssize_t q
    if p >= n or not _blank(text[p]) or not _numbered(text, p):
        return p
    q = _blanks(text, n, p)
    if q >= n or not _decimal(text[q]):
        return p
    while q < n and _decimal(text[q]):
        q += 1
    while q + 1 < n and (text[q] == u"." or text[q] == u",") and _decimal(text[q + 1]):
        q += 2
        while q < n and _decimal(text[q]):
            q += 1
    return q


cdef object _token(str text, Py_ssize_t n, Py_ssize_t p):
    """The ``_TOKEN`` after a span (after blanks), or None."""
    cdef Py_ssize_t q = _blanks(text, n, p), k
    cdef Py_UCS4 c
    if q >= n:
        return None
    c = text[q]
    k = _dotted(text, n, q)
    if k >= 2:
        return text[q:q + 2 * k]
    if _alnum(c) and not _decimal(c):
        return text[q:_word_tail(text, n, q + 1)]
    if _decimal(c):
        k = q + 1
        while k < n and (_decimal(text[k]) or text[k] == u"," or text[k] == u"."):
            k += 1
        return text[q:k]
    if not _word(c) and not _space(c):
        return text[q:q + 1]
    return None


cdef inline bint _fold_is(Py_UCS4 c, Py_UCS4 lower):
    """``c`` matches the ASCII letter ``lower`` under ``(?i:)`` (Python's re: "ı", "İ" for i; "ſ" for s)."""
    cdef long code = <long>c, low = <long>lower
    if code == low or code == low - 32:
        return True
    if lower == u"i":
        return c == 0x130 or c == 0x131
    if lower == u"s":
        return c == 0x17F
    return False


_PREPS = ("in", "from", "to", "near", "across", "outside", "inside", "into", "toward", "towards", "at")


cdef bint _prep(str text, Py_ssize_t s):
    """``_PREP_BEFORE.search(text, max(s - 12, 0) if s > 12 else 0, s)`` for a span at ``s``.

    Only when a blank precedes the span (``_PREP_HINT``; a line break never counts).
    """
    cdef Py_ssize_t lo = s - 12 if s > 12 else 0, q = s, b, m, i
    cdef str prep
    cdef bint same
    if s < 1 or not _blank(text[s - 1]):
        return False
    while q > lo and _blank(text[q - 1]):
        q -= 1
    for prep in _PREPS:
        m = len(prep)
        b = q - m
        if b < lo:
            continue
        same = True
        for i in range(m):
            if not _fold_is(text[b + i], prep[i]):
                same = False
                break
        if not same:
            continue
        if b - 1 >= lo and text[b - 1] in u"([\"'“‘" and not (b >= 2 and _tail(text[b - 2])):
            return True
        if not (b >= 1 and _tail(text[b - 1])):
            return True
    return False


cdef Py_ssize_t _opening(str text, Py_ssize_t n, Py_ssize_t p):
    """The end of the next ``_SENTENCE_OPENING`` match searched from ``p``, or -1."""
    cdef Py_UCS4 c
    cdef Py_ssize_t i = p, j
    while i < n:
        c = text[i]
        if c == u"\n":
            j = i + 1
        elif c == u"." or c == u"!" or c == u"?" or c == u":" or c == u";":
            if c == u"." and i >= 3 and _ascii_upper(text[i - 3]) and text[i - 2] == u"." and _ascii_upper(text[i - 1]):
                if i < 4 or not _word(text[i - 4]):
                    i += 1
                    continue  # "U.S."
            if c == u"." and i >= 2 and (
                (text[i - 2] == u"M" and text[i - 1] == u"r")
                or (text[i - 2] == u"M" and text[i - 1] == u"s")
                or (text[i - 2] == u"D" and text[i - 1] == u"r")
                or (text[i - 2] == u"S" and text[i - 1] == u"t")
            ):
                if i < 3 or not _word(text[i - 3]):
                    i += 1
                    continue  # "Mr."
            if c == u"." and i >= 3 and text[i - 3] == u"M" and text[i - 2] == u"r" and text[i - 1] == u"s":
                if i < 4 or not _word(text[i - 4]):
                    i += 1
                    continue  # "Mrs."
            j = i + 1
            while j < n and text[j] in u"\"'”’)]":
                j += 1
            if j >= n or not _space(text[j]):
                i += 1
                continue
        else:
            i += 1
            continue
        while j < n and not _word(text[j]):
            j += 1
        return j
    return -1


def scan(source):
    """Every candidate span of ``source``: ``_spans.scan(source)``, computed in one pass.

    A list of (start, stop, span, the token after it or None, whether a place preposition
    precedes it, whether it opens a sentence). Any ``str``, a subclass too, as the regexes take.
    """
    if not isinstance(source, str):
        raise TypeError(f"expected a str, got {type(source).__name__}")
    cdef str text = <str>source
    cdef Py_ssize_t n = len(text), pos = 0, s, e, r, j, opening, searched
    cdef Py_UCS4 c
    cdef list out = []
    cdef bint opener
    opening = 0
    while opening < n and not _word(text[opening]):
        opening += 1  # _NOT_WORD.match(text).end(): the text's first word opens a sentence
    searched = -2  # the first regex opening is searched for lazily
    cdef Py_ssize_t first = opening
    while pos < n:
        c = text[pos]
        s = pos
        pos += 1
        if not (_upper(c) or c == u"a" or c == u"e"):
            continue
        if s >= 1 and (_word(text[s - 1]) or text[s - 1] == u"-"):
            continue
        if s >= 2 and _quote(text[s - 1]) and _word(text[s - 2]):
            continue
        # the first word
        if _ascii_upper(c) and s + 1 < n and text[s + 1] == u"." and _dotted(text, n, s + 2) > 0:
            e = s + 2 + 2 * _dotted(text, n, s + 2)
        elif _upper(c):
            e = _word_tail(text, n, s + 1)
        elif s + 3 < n and text[s + 1] == u"l" and text[s + 2] == u"-" and _ascii_upper(text[s + 3]):
            e = _word_tail(text, n, s + 3)
        else:
            continue
        if _upper(c):  # a lone sentence opener ("The", "He") never starts a span
            r = s + 1
            while r < n and _tail(text[r]):
                r += 1
            if r - s <= _MAX_OPENER and text[s:r] in OPENERS:
                j = _blanks(text, n, r)
                if not (
                    j > r
                    and j < n
                    and (
                        _upper(text[j])
                        or (
                            (text[j] == u"a" or text[j] == u"e")
                            and j + 2 < n
                            and text[j + 1] == u"l"
                            and text[j + 2] == u"-"
                        )
                        or _joiner(text, n, j) > 0
                    )
                ):
                    continue
        e = _num(text, n, e)
        while True:
            j = _blanks(text, n, e)
            if j == e:
                break
            r = _joiner(text, n, j)
            while r > 0:
                j = r
                r = _joiner(text, n, j)
            r = _cap(text, n, j)
            if r < 0:
                break
            e = _num(text, n, r)
        # does a sentence open at s?
        if s == first:
            opener = True
        else:
            if searched == -2:
                opening = _opening(text, n, 0)
                searched = 0
            while 0 <= opening < s:
                opening = _opening(text, n, opening)
            opener = opening == s
        out.append((s, e, text[s:e], _token(text, n, e), _prep(text, s), opener))
        pos = e
    return out
