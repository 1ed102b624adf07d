"""An article's checksum (stored in every index, to skip unchanged re-ingests) never changes.

``schema.checksum`` writes the fields with ``ensure_ascii=True`` when every string is ASCII
without DEL, ~3x faster; the digest must stay that of ``json.dumps(..., ensure_ascii=False)``
for every article, ASCII or not, with quotes, backslashes, control characters and DEL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

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


def test_a_del_character_takes_the_exact_path() -> None:
    plain = Article(date="2024-05-06", body="strike at the port", title="Strike")
    deleted = Article(date="2024-05-06", body="strike at the port\x7f", title="Strike")
    assert schema._plain_ascii(plain) and not schema._plain_ascii(deleted)
    assert schema.checksum(deleted) == _reference(deleted) != schema.checksum(plain)
