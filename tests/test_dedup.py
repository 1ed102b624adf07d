"""Near-duplicate detection: sketches, index-time grouping, collapsed search, listing groups."""

from __future__ import annotations

import heapq
import io
import random
import re
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import Article, Index, dedup
from searchlib.cli import main
from searchlib.repl import run_repl

PINNED = (
    10406947, 420015803, 622601117, 725608308, 1930260435, 2516304842, 2862059941,
    2868803862, 2991039333, 3125948913, 3335073082, 3471571907, 3726250434,
)  # fmt: skip
"""dedup.sketch of the pinned text below, computed by the code of main at 38db303 (index format 9)."""

BODY = (Path(__file__).parent / "data" / "article-2024-05-06.txt").read_text("utf-8").split(" ", 3)[3]


def test_sketch_similarity() -> None:
    a = dedup.sketch(BODY)
    assert a == dedup.sketch(BODY) and len(a) == dedup.SKETCH_SIZE and list(a) == sorted(a)
    assert dedup.similarity(a, a) == 1.0
    edited = BODY.replace("dangerous", "grave").replace("Hamas", "the group", 3) + " One more sentence here."
    assert dedup.similarity(a, dedup.sketch(edited)) >= dedup.THRESHOLD
    assert dedup.similarity(a, dedup.sketch(BODY[: len(BODY) // 2])) > 0.3  # half the text: a partial copy
    unrelated = "Dock workers in Gdansk walked out over pay. " * 3 + "The port authority said talks would resume."
    assert dedup.similarity(a, dedup.sketch(unrelated)) < 0.1
    assert dedup.sketch("") == () and dedup.similarity((), a) == 0.0
    assert dedup.similarity(dedup.sketch("Short note."), dedup.sketch("short NOTE")) == 1.0
    assert dedup.unpack(dedup.pack(a)) == a


def reference_similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Broder's bottom-k estimate as first written: shared hashes among the k smallest of the union."""
    if not a or not b:
        return 0.0
    k = min(dedup.SKETCH_SIZE, len(set(a) | set(b)))
    union_bottom = heapq.nsmallest(k, set(a) | set(b))
    return sum(1 for h in union_bottom if h in set(a) & set(b)) / k


_SKETCHES = st.lists(st.integers(0, 300), max_size=dedup.SKETCH_SIZE, unique=True).map(lambda v: tuple(sorted(v)))


@settings(max_examples=300, deadline=None)
@given(_SKETCHES, _SKETCHES)
def test_similarity_is_the_bottom_k_estimate(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    assert dedup.similarity(a, b) == reference_similarity(a, b) == dedup.similarity(b, a)


@pytest.mark.parametrize("same_writer", [True, False])
def test_copies_are_grouped_when_added(same_writer: bool) -> None:
    ix = Index.in_memory()
    original = Article(id="orig", date="2024-05-06", body=BODY)
    copy = Article(id="copy", date="2024-05-07", body="Updated. " + BODY.replace("dangerous", "grave"), source="B")
    other = Article(id="other", date="2024-05-07", body="Dock workers in Gdansk walked out over pay and hours today.")
    if same_writer:
        ix.add(original, copy, other)
    else:
        ix.add(original)
        ix.add(copy, other)
    [group] = ix.duplicates()
    assert [a.id for a in group.articles] == ["orig", "copy"] and group.original.id == "orig"
    collapsed = ix.search("Rafah", collapse_duplicates=True)
    assert collapsed.total == 1 and ix.search("Rafah").total == 2
    [hit] = collapsed.hits
    assert set(hit.copies) | {hit.article.id} == {"orig", "copy"}
    assert ix.duplicates("Gdansk") == () and len(ix.duplicates("Rafah")) == 1


def test_collapse_pages_by_group_and_sorts_by_date() -> None:
    ix = Index.in_memory()
    ix.add(*(Article(id=f"c{n}", date=f"2024-05-0{n + 1}", body=BODY) for n in range(4)))
    ix.add(
        *(Article(id=f"u{n}", date=f"2024-06-0{n + 1}", body=f"Rafah news item number {n} {'x' * n}") for n in range(3))
    )
    everything = ix.search("rafah", collapse_duplicates=True, limit=10)
    assert everything.total == 4 and len(everything.hits) == 4
    newest = ix.search("rafah", collapse_duplicates=True, sort="newest", limit=2)  # type: ignore[arg-type]
    assert [h.article.id for h in newest] == ["u2", "u1"] and newest.has_more
    oldest = ix.search("", collapse_duplicates=True, sort="oldest", limit=1)  # type: ignore[arg-type]
    assert oldest.hits[0].article.id == "c0" and len(oldest.hits[0].copies) == 3


def test_sample_corpus_copies_from_repl_and_cli(corpus_index: Index, tmp_path: Path) -> None:
    out = io.StringIO()
    run_repl(corpus_index, stdin=io.StringIO(":dups\n:collapse on\nQuillbright commission\n"), stdout=out)
    text = out.getvalue()
    assert "1. 2 copies of: Porto" in text and "wire-0011" in text and "wire-0012" in text
    assert "near-duplicate(s): " in text
    index = tmp_path / "ix"
    from searchlib import sample_corpus_path

    assert main(["index", str(index), str(sample_corpus_path()), "-q"], out=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["duplicates", str(index), "Quillbright"], out=out) == 0
    assert "wire-0012" in out.getvalue() and "wire-0011" not in out.getvalue()


def _reference_sketch(text: str) -> tuple[int, ...]:
    """The sketch as first written: a rolling hash over Python ints, bottom-k with heapq."""
    mask = (1 << 64) - 1
    words = [zlib.crc32(w.encode("utf-8", "replace")) for w in re.findall(r"\w+", text.lower())]
    if not words:
        return ()
    if len(words) < dedup.SHINGLE:
        return (dedup._mix(words),)
    base, golden = 1_000_003, 0x9E3779B97F4A7C15
    power = pow(base, dedup.SHINGLE - 1, 1 << 64)
    h = 0
    for w in words[: dedup.SHINGLE]:
        h = (h * base + w) & mask
    hashes = {(h * golden & mask) >> 32}
    for old, new in zip(words, words[dedup.SHINGLE :], strict=False):
        h = ((h - old * power) * base + new) & mask
        hashes.add((h * golden & mask) >> 32)
    return tuple(heapq.nsmallest(dedup.SKETCH_SIZE, hashes))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["strike", "Gdańsk", "port", "the", "U.S.", "talks", "x", "ÉTÉ", "9"]), max_size=300))
def test_vectorised_sketch_equals_the_reference(words: list[str]) -> None:
    text = " ".join(words)
    assert dedup.sketch(text) == _reference_sketch(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=[chr(c) for c in range(128)], max_size=12),  # every ASCII character
            st.sampled_from(["Word", "UPPER", "snake_case", "x1", "\u2019", "\u2014", "\u0130stanbul", "\u03a3A"]),
            st.text(max_size=6),  # any Unicode, surrogates included
        ),
        max_size=80,
    )
)
def test_sketch_equals_the_reference_on_any_text(pieces: list[str]) -> None:
    """ASCII texts take the translate-and-split path, others the regular expression: same words, same hashes."""
    for sep in ("", " ", "\n"):
        text = sep.join(pieces)
        assert dedup.sketch(text) == _reference_sketch(text)


def test_sketch_equals_the_reference_on_the_sample_corpus() -> None:
    corpus = Path(dedup.__file__).parent / "sample_corpus"
    texts = [p.read_text("utf-8") for p in sorted(corpus.iterdir())]
    assert len(texts) >= 5
    for text in texts:
        for part in text.split("\n\n"):
            assert dedup.sketch(part) == _reference_sketch(part)


def test_sketch_values_are_those_stored_by_earlier_versions() -> None:
    """Pinned: hashes an index of format 9 stores for this text (a change would hide copies across versions)."""
    text = "Dock workers in Gdansk walked out on Monday, the union said; talks resume on Friday at 10am."
    assert dedup.sketch(text) == PINNED
    assert dedup.sketch(text.upper()) == PINNED


def test_vectorised_sketch_equals_the_reference_on_long_random_text() -> None:
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(50)]
    for n in (4, 5, 6, 64, 65, 70, 1000, 5000):
        text = " ".join(rng.choices(vocabulary, k=n))
        assert dedup.sketch(text) == _reference_sketch(text)


def test_sketch_values_hold_when_the_word_cache_starts_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedup, "_CRC_MAX", 3)  # cleared while one text's words are looked up
    monkeypatch.setattr(dedup, "_CRC", dedup._CrcCache())
    for text in (BODY, BODY[:300], "One two three four five six seven", "a b"):
        assert dedup.sketch(text) == _reference_sketch(text)
    assert len(dedup._CRC) <= 3
