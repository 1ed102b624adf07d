"""An index of format 9 (tests/data/format9-index, the last format with Whoosh keyword postings) and its upgrade.

Format 10 writes no Whoosh postings at all: the keyword fields (id, entity, person, org,
place, source, group and the near-duplicate keys) live in the columnar sidecar with the text
fields. Opening a format-9 index names ``searchlib upgrade``; the upgrade rebuilds it from its
stored articles (entities, checksums, sketches and groups kept), and every id lookup, update,
deletion, near-duplicate group and entity count of the rebuilt index answers from the sidecar.
See tests/data/format9-index.md for how the fixture was made.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_format8 import _postings_fields

import searchlib
from searchlib import Article, IncompatibleIndexError, Index, NoExtractor
from tests.test_format7 import stored_as_written

FIXTURE = Path(__file__).parent / "data" / "format9-index"
KEYWORD_FIELDS = {"id", "entity", "person", "place", "source", "dupkey", "group", "date"}
COPIES = {("ddb9dfb97f3f7c20", "wire-0011"), ("92e82e8b29593c02", "wire-0012")}


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "ix"
    shutil.copytree(FIXTURE, target)
    return target


def test_the_fixture_has_whoosh_keyword_postings_only() -> None:
    fields = _postings_fields(FIXTURE)
    assert fields >= KEYWORD_FIELDS and not fields & {"title", "body", "entity_text"}


def test_opening_a_format_9_index_names_the_upgrade_command(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with pytest.raises(IncompatibleIndexError, match=r"format 9; this searchlib reads format 10.*searchlib upgrade"):
        Index.open(path)


def test_upgrade_keeps_everything_stored_and_drops_every_whoosh_posting(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    before = stored_as_written(path)
    report = Index.upgrade(path)
    assert (report.upgraded, report.articles, report.indexes) == (1, 20, (("ix", 9, 20),))
    assert stored_as_written(path) == before  # entities, checksums, sketches, groups, extracted flags
    assert not _postings_fields(path)
    with Index.open(path) as ix:
        assert len(ix) == 20 and ix.get("14853cb6cf76c73d") is None
        added = ix.get("added-at-9")
        assert added is not None and added.title == "Port strike in Gdańsk ends"
        assert [e.name for e in added.entities] == ["Anna Nowak", "Gdańsk"]  # as given, not re-extracted
        assert {tuple(a.id for a in g.articles) for g in ix.duplicates()} == COPIES
        assert ix.search('person:"Anna Nowak"').total == 1
        assert ix.search('source:"Baltic Wire"').total == ix.search(source="Baltic Wire").total == 1
        written = {i for i, (a, *_) in before.items() if "Gdańsk" in a.title + a.body}
        assert "added-at-9" in written and {h.article.id for h in ix.search("gdansk", limit=50)} == written
        related = {r.name: r.background for r in ix.related_entities("gdansk", min_count=1)}
        assert related.get("Anna Nowak") == 1
    assert searchlib.check_index(path).ok


def test_the_upgraded_index_updates_deletes_and_groups_through_the_sidecar(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    Index.upgrade(path)
    with Index.open(path, extractor=NoExtractor()) as ix:
        copy = ix.get("wire-0011")
        assert copy is not None
        with ix.writer() as w:
            assert w.delete("added-at-9") and not w.delete("added-at-9")  # one live copy, then none
            w.add(Article(id="wire-0012", date=copy.date, title="Replaced", body="A body replaced by an update."))
            w.add(Article(id="copy-of-0011", date=copy.date, title=copy.title, body=copy.body))  # grouped with it
        assert len(ix) == 20 and ix.get("added-at-9") is None
        assert ix.get("wire-0012").title == "Replaced"  # type: ignore[union-attr]
        groups = {tuple(a.id for a in g.articles) for g in ix.duplicates()}
        assert {frozenset(g) for g in groups} == {frozenset({"copy-of-0011", "ddb9dfb97f3f7c20", "wire-0011"})}
        with ix.writer() as w:
            w.commit(optimize=True)  # the merge concatenates the sidecars: no Whoosh postings to re-encode
        assert not _postings_fields(path)
        assert {tuple(a.id for a in g.articles) for g in ix.duplicates()} == groups
        assert ix.get("wire-0012").title == "Replaced"  # type: ignore[union-attr]
        assert len(ix) == 20
    assert searchlib.check_index(path).ok
