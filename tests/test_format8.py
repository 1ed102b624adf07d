"""An index of format 8 (tests/data/format8-index, the last format with Whoosh text postings) and its upgrade.

Format 9 writes no Whoosh postings for the title, body and entity text: the columnar sidecar
holds them alone. Opening a format-8 index names ``searchlib upgrade``; the upgrade rebuilds
it from its stored articles (entities, checksums, sketches and groups kept), and the rebuilt
index has no Whoosh postings for those fields while every query, more like this and "did you
mean" still answer. See tests/data/format8-index.md for how the fixture was made.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

import searchlib
from searchlib import IncompatibleIndexError, Index
from searchlib.cli import main
from tests.test_format7 import stored_as_written

FIXTURE = Path(__file__).parent / "data" / "format8-index"
TEXT_FIELDS = {"title", "body", "entity_text"}


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "ix"
    shutil.copytree(FIXTURE, target)
    return target


def _postings_fields(path: Path) -> set[str]:
    """The fields Whoosh holds postings for (test-only look behind the engine boundary)."""
    ix = whoosh_index.open_dir(str(path))
    try:
        with ix.reader() as reader:
            return {field for field, _ in reader.all_terms()}
    finally:
        ix.close()


def test_the_fixture_has_whoosh_text_postings() -> None:
    assert _postings_fields(FIXTURE) >= TEXT_FIELDS


def test_opening_a_format_8_index_names_the_upgrade_command(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with pytest.raises(IncompatibleIndexError, match=r"format 8; this searchlib reads format 10.*searchlib upgrade"):
        Index.open(path)


def test_upgrade_keeps_everything_stored_and_drops_the_whoosh_text_postings(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    before = stored_as_written(path)
    report = Index.upgrade(path)
    assert (report.upgraded, report.articles, report.indexes) == (1, 20, (("ix", 8, 20),))
    assert stored_as_written(path) == before  # entities, checksums, sketches, groups, extracted flags
    fields = _postings_fields(path)
    assert not fields  # format 10: no Whoosh postings at all
    with Index.open(path) as ix:
        assert len(ix) == 20 and ix.get("b9b5cb02797715bd") is None
        assert {tuple(a.id for a in g.articles) for g in ix.duplicates()} == {
            ("ddb9dfb97f3f7c20", "wire-0011"),
            ("92e82e8b29593c02", "wire-0012"),
        }
        written = {i for i, (a, *_) in before.items() if "Gdańsk" in a.title + a.body}
        assert "added-at-8" in written and {h.article.id for h in ix.search("gdansk", limit=50)} == written
        assert ix.search('title:"harbour strike"').hits[0].article.id == "added-at-8"
        assert ix.search('entity:"Given Person"').total == 1
        similar = ix.more_like_this("wire-0011", limit=3, highlight=None)
        assert similar.hits and "ddb9dfb97f3f7c20" not in {h.article.id for h in similar}  # its copy left out
        assert ix.suggest("inflaton") == "inflation"
    assert searchlib.check_index(path).ok


@pytest.mark.parametrize("version", [8, 9])
def test_the_cli_upgrades_with_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str], version: int) -> None:
    """Both older fixtures (format 8: Whoosh text postings; 9: keyword postings) upgrade from the CLI."""
    path = tmp_path / "ix"
    shutil.copytree(FIXTURE.with_name(f"format{version}-index"), path)
    assert main(["search", str(path), "strike"], out=io.StringIO()) != 0
    assert f"searchlib upgrade {path}" in capsys.readouterr().err
    out = io.StringIO()
    assert main(["upgrade", "--workers", "2", str(path)], out=out) == 0
    assert f"format {version} -> 10, 20 article(s)" in out.getvalue()
    assert not _postings_fields(path)
    out = io.StringIO()
    assert main(["search", str(path), "gdansk"], out=out) == 0 and f"added-at-{version}" in out.getvalue()
