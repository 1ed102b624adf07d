"""An index built before the columnar core (format 7, tests/data/format7-index) works as it is.

The columnar arrays are derived from Whoosh's segments on first use, so an existing index
needs no rebuild: it opens, searches with the new engine, keeps its duplicate groups and
given entities, passes the integrity check with its new sidecar files, and merges them away
with the segments.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import searchlib
from searchlib import Article, Index

FIXTURE = Path(__file__).parent / "data" / "format7-index"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "ix"
    shutil.copytree(FIXTURE, target)
    return target


def test_a_format_7_index_searches_on_the_new_core(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with Index.open(path) as ix:
        assert len(ix) == 20
        groups = {tuple(a.id for a in g.articles) for g in ix.duplicates()}
        assert groups == {("ddb9dfb97f3f7c20", "wire-0011"), ("92e82e8b29593c02", "wire-0012")}
        results = ix.search("strike", limit=50, highlight=None)
        assert results.total == len(results.hits) > 0
        assert all("strike" in (h.article.title + h.article.body).lower() for h in results.hits)
        assert ix.search('entity:"Given Person"').total == 1
        collapsed = ix.search("", collapse_duplicates=True, limit=50, highlight=None)
        assert collapsed.total == 18
    assert any(p.name.endswith(".cols.json") for p in path.iterdir())  # the sidecars were written
    report = searchlib.check_index(path)
    assert report.ok, report.problems


def test_sidecars_of_merged_segments_are_removed(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with Index.open(path) as ix:
        ix.search("strike")
        before = {p.name.split(".")[0] for p in path.iterdir() if ".cols." in p.name}
        assert len(before) == 2
        with ix.writer() as w:
            w.add(Article(id="new", date="2025-08-01", body="A strike at the harbour."))
            w.commit(optimize=True)
        assert ix.search("strike harbour").total >= 1
        after = {p.name.split(".")[0] for p in path.iterdir() if ".cols." in p.name}
        assert after and after.isdisjoint(before)
    assert searchlib.check_index(path).ok
