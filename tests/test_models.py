"""Value types: validation at construction, derived titles and ids, frozen-ness."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import Article, DateBucket, Entity, EntityKind, Snippet, Span
from searchlib.models import derive_id, derive_title


def test_article_derives_title_and_stable_id() -> None:
    a = Article(date="2024-05-06", body="Hamas warned of escalation. Talks could stall.\n\nMore text.")
    b = Article(date=dt.date(2024, 5, 6), body="Hamas  warned of escalation. Talks could stall.\n\nMore text.")
    assert a.title == "Hamas warned of escalation."
    assert a.id == b.id == derive_id(dt.date(2024, 5, 6), a.body)
    assert Article(date="2024-05-07", body=a.body).id != a.id


def test_title_is_shortened_at_a_word_boundary() -> None:
    body = "word " * 100
    title = derive_title(body, max_chars=40)
    assert len(title) <= 40 and title.endswith("…") and " wor…" not in title


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"date": "2024-02-30", "body": "x"}, ValueError),
        ({"date": 20240506, "body": "x"}, TypeError),
        ({"date": "2024-05-06", "body": "   "}, ValueError),
        ({"date": "2024-05-06", "body": b"bytes"}, TypeError),
        ({"date": "2024-05-06", "body": "x", "entities": "Hamas"}, TypeError),
        ({"date": "2024-05-06", "body": "x", "id": ""}, ValueError),
    ],
)
def test_article_rejects_bad_values(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        Article(**kwargs)  # type: ignore[arg-type]


def test_entities_are_deduplicated_case_insensitively_and_kept_as_given() -> None:
    a = Article(date="2024-05-06", body="x", entities=["Yoav  Gallant", "yoav gallant", Entity("IDF", "org")])
    assert a.entities == (Entity("Yoav Gallant"), Entity("IDF", EntityKind.ORG))
    assert Article(date="2024-05-06", body="x", entities=[]).entities == ()


def test_values_are_frozen_and_evolve() -> None:
    a = Article(date="2024-05-06", body="x", id="one")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.title = "y"  # type: ignore[misc]
    assert attrs.evolve(a, title="y").title == "y"


def test_span_and_snippet_validation() -> None:
    with pytest.raises(ValueError):
        Span(3, 2)
    with pytest.raises(ValueError):
        Snippet("abc", (Span(1, 5),))
    assert Snippet("hostage talks", (Span(8, 13),)).matches == ("talks",)


@pytest.mark.parametrize(
    ("bucket", "label"), [(DateBucket.DAY, "2024-05-06"), (DateBucket.MONTH, "2024-05"), (DateBucket.YEAR, "2024")]
)
def test_date_bucket_labels(bucket: DateBucket, label: str) -> None:
    assert bucket.label(dt.date(2024, 5, 6)) == label


_ASCII_WITH_SPACES = st.text(alphabet=st.sampled_from([*"ab Z.9", *(chr(c) for c in (*range(9, 14), *range(28, 33)))]))


@settings(max_examples=300)
@given(st.text() | _ASCII_WITH_SPACES | st.text(alphabet=st.characters(max_codepoint=127)))
def test_derive_id_normalises_whitespace_as_the_regex_did(text: str) -> None:
    """derive_id splits on str.split's whitespace: the same runs ``\\s+`` matches (ids never change).

    ASCII bodies take the compiled ``collapsed_ascii`` kernel when it is built, others Python.
    """
    import hashlib
    import re

    normal = re.sub(r"\s+", " ", text).strip()
    digest = hashlib.sha1(f"2024-05-06\n{normal}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
    assert derive_id(dt.date(2024, 5, 6), text) == digest


_SENTENCES = st.text(alphabet=st.sampled_from([*"ab .!?\"'”)", "\n", "\t", "\u00a0", "\u2028"]))


@settings(max_examples=300)
@given(st.text() | _ASCII_WITH_SPACES | _SENTENCES)
def test_derive_title_collapses_whitespace_as_the_regex_did(text: str) -> None:
    """derive_title's lead sentence, as first defined with ``\\s+`` runs replaced (titles never change)."""
    import re

    from searchlib.models import _SENTENCE_END, TITLE_MAX_CHARS

    lead = re.sub(r"\s+", " ", text.strip().split("\n\n", 1)[0]).strip()
    match = _SENTENCE_END.search(lead)
    if match:
        lead = lead[: match.start()].strip()
    if len(lead) > TITLE_MAX_CHARS:
        cut = lead[: TITLE_MAX_CHARS - 1]
        space = cut.rfind(" ")
        lead = (cut[:space] if space > TITLE_MAX_CHARS // 2 else cut).rstrip(" ,;:-") + "…"
    assert derive_title(text) == lead
