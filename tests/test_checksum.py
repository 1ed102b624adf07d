"""An article's checksum (stored in every index, to skip unchanged re-ingests) never changes.

``schema.checksum`` writes each string without non-ASCII characters or DEL with ``ensure_ascii=True``,
~3x faster; the digest must stay that of ``json.dumps([...], ensure_ascii=False)`` for every
article, ASCII or not, with quotes, backslashes, control characters and DEL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import Article, Entity, EntityKind
from searchlib._whoosh import schema

_TRICKY = st.sampled_from([*'ab Z.9"\\/', "\x7f", "\n", "\t", "\x00", "\x1f", "é", "–", "\u2028", "\ud800"])
_ASCII = st.characters(max_codepoint=127)
_TEXT = st.text(alphabet=_TRICKY, min_size=1) | st.text(min_size=1) | st.text(alphabet=_ASCII, min_size=1)


def _reference(article: Article) -> str:
    """The definition every stored checksum was computed with."""
    payload = json.dumps(
        [
            article.date.isoformat(),
            article.title,
            article.body,
            article.source,
            article.url,
            None if article.entities is None else [[e.name, e.kind.value, *e.aliases] for e in article.entities],
        ],
        ensure_ascii=False,
    )
    return hashlib.sha1(payload.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@settings(max_examples=400)
@given(
    body=_TEXT.filter(str.strip),
    title=_TEXT,
    source=st.none() | _TEXT,
    url=st.none() | _TEXT,
    names=st.none() | st.lists(st.lists(_TEXT.filter(str.strip), min_size=1, max_size=3), max_size=3),
)
def test_checksum_is_the_json_of_every_field_as_first_defined(
    body: str, title: str, source: str | None, url: str | None, names: list[list[str]] | None
) -> None:
    entities = None if names is None else [Entity(n[0], EntityKind.ORG, tuple(n[1:])) for n in names]
    article = Article(date=dt.date(2024, 5, 6), body=body, title=title, source=source, url=url, entities=entities)
    assert schema.checksum(article) == _reference(article)


@pytest.mark.parametrize("text", ["strike at the port", "strike at the port\x7f", 'a "quoted" \\ line\n', "Gdańsk…"])
def test_each_string_is_written_as_json_dumps_writes_it(text: str) -> None:
    assert schema._json_string(text) == json.dumps(text, ensure_ascii=False)
    assert schema._json_string(None) == "null"
