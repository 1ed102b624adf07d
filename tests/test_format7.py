"""An index of format 7 (tests/data/format7-index, built before accent folding) and its upgrade.

Format 8 folded accents, so a format-7 index's terms are stale (and format 9 keeps the text
postings in the columnar sidecar only): opening it raises an error
naming ``searchlib upgrade``, and the upgrade rebuilds it from its stored articles keeping
their entities, checksums and near-duplicate groups. Crash and fault injection: test_upgrade.py.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest

import searchlib
from searchlib import AliasTable, Article, IncompatibleIndexError, Index
from searchlib._whoosh import upgrade as wu
from searchlib._whoosh.store import DurableStorage
from searchlib.cli import main

FIXTURE = Path(__file__).parent / "data" / "format7-index"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "ix"
    shutil.copytree(FIXTURE, target)
    return target


def stored_as_written(path: Path) -> dict[str, tuple[Any, ...]]:
    """Every live article of the index at ``path`` as stored, read with Whoosh (any format)."""
    ix = DurableStorage(str(path)).open_index()
    try:
        with ix.reader() as reader:
            return {row[0].id: row for row in wu._stored(reader)}
    finally:
        ix.close()


def test_opening_a_format_7_index_names_the_upgrade_command(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    expected = r"format 7; this searchlib reads format 10.*searchlib upgrade"
    with pytest.raises(IncompatibleIndexError, match=expected) as caught:
        Index.open(path)
    assert caught.value.path == path and str(path) in str(caught.value)


def test_upgrade_keeps_articles_entities_checksums_and_groups(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    AliasTable().merge("Wire Service", into="Example Wire").save(path)  # the index's alias table goes along
    aliases = (path / "aliases.json").read_bytes()
    before = stored_as_written(path)
    report = Index.upgrade(path)
    assert (report.upgraded, report.articles, report.indexes) == (1, 20, (("ix", 7, 20),))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]  # no build or old copy left behind
    assert (path / "aliases.json").read_bytes() == aliases
    after = stored_as_written(path)
    assert after == before  # articles with their entities, checksums, sketches, groups, extracted flags
    with Index.open(path) as ix:
        assert len(ix) == 20
        groups = {tuple(a.id for a in g.articles) for g in ix.duplicates()}
        assert groups == {("ddb9dfb97f3f7c20", "wire-0011"), ("92e82e8b29593c02", "wire-0012")}
        assert ix.search('entity:"Given Person"').total == 1
        assert ix.search("", collapse_duplicates=True, limit=50, highlight=None).total == 18
        results = ix.search("strike", limit=50, highlight=None)
        assert results.total == len(results.hits) > 0
        assert all("strike" in (h.article.title + h.article.body).lower() for h in results.hits)
        # re-analysed: accents fold now ("Gdańsk" is written in the fixture's articles)
        written = {i for i, (a, *_) in before.items() if "Gdańsk" in a.title + a.body}
        assert written and {h.article.id for h in ix.search("gdansk", limit=50)} == written
        with ix.writer() as w:  # and it is written to like any index
            w.add(Article(id="new", date="2025-08-01", body="A strike at the harbour in Gdansk."))
        assert {h.article.id for h in ix.search("Gdańsk", limit=50)} == written | {"new"}
    assert searchlib.check_index(path).ok
    again = Index.upgrade(path)
    assert again.upgraded == 0 and "nothing to do" in again.summary()


def test_the_cli_upgrades(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _copy(tmp_path)
    assert main(["search", str(path), "strike"], out=io.StringIO()) != 0
    assert f"searchlib upgrade {path}" in capsys.readouterr().err
    out = io.StringIO()
    assert main(["upgrade", "--workers", "2", str(path)], out=out) == 0
    assert "format 7 -> 10, 20 article(s)" in out.getvalue()
    out = io.StringIO()
    assert main(["search", str(path), "strike"], out=out) == 0 and "strike" in out.getvalue().lower()
    out = io.StringIO()
    assert main(["upgrade", "--json", str(path)], out=out) == 0
    assert '"upgraded": 0' in out.getvalue()


@pytest.mark.parametrize("version", [0, 6, 99])
def test_formats_that_cannot_be_upgraded_say_what_to_do(tmp_path: Path, version: int) -> None:
    path = _copy(tmp_path)
    marker = path / "searchlib.json"
    marker.write_text(marker.read_text("utf-8").replace('"format": 7', f'"format": {version}'), "utf-8")
    advice = "newer searchlib" if version > 9 else "re-index the articles"
    with pytest.raises(IncompatibleIndexError, match=advice):
        Index.upgrade(path)
    with pytest.raises(IncompatibleIndexError, match="newer searchlib" if version > 9 else "rebuild the index"):
        Index.open(path)
