"""An index whose segment sidecars are version 7 (tests/data/sidecar7-index): facets from its Whoosh column.

Sidecar version 8 keeps each document's facet values -- its source and entity names -- as ids
into the segment's tables (:mod:`searchlib._whoosh.facettable`). An index written before it
answers as the code that wrote it did (its ``facets`` column is read once per segment), and an
upgrade or a merge moves the values into the sidecar: answers unchanged throughout.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import searchlib
from searchlib import Article, Index, NoExtractor
from searchlib._whoosh import sidecar
from searchlib.export import to_jsonable

FIXTURE = Path(__file__).parent / "data" / "sidecar7-index"
EXPECTED = json.loads((Path(__file__).parent / "data" / "sidecar7-index.expected.json").read_text("utf-8"))


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "ix"
    shutil.copytree(FIXTURE, target)
    return target


def _versions(path: Path) -> list[int]:
    return sorted(json.loads(p.read_text("utf-8"))["version"] for p in path.glob("MAIN_*.cols.json"))


def _answers(ix: Index) -> dict[str, Any]:
    """What the fixture's script recorded, as JSON reads it back."""
    found = {
        "facets": to_jsonable(ix.facets("", size=50)),
        "facets_strike": to_jsonable(ix.facets("strike", size=50)),
        "facets_jordan": to_jsonable(ix.facets("entity:jordan OR grain", size=50)),
        "related_harbour": to_jsonable(ix.related_entities("harbour", size=20, min_count=1)),
        "entities": ix.stats().entities,
        "search_facets": to_jsonable(
            ix.search("port OR bank", limit=5, highlight=None, facets=True, facet_size=10).facets
        ),
    }
    result: dict[str, Any] = json.loads(json.dumps(found))
    return result


@pytest.fixture
def no_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    """A readable sidecar is never rebuilt from the stored articles (that would hide what is read)."""

    def refuse(reader: Any) -> Any:
        raise AssertionError("a readable sidecar was rebuilt")

    monkeypatch.setattr(sidecar, "build", refuse)


def test_the_fixture_keeps_facets_in_whoosh_columns() -> None:
    assert _versions(FIXTURE) == [7, 7]
    assert len(list(FIXTURE.glob("MAIN_*.facets.col"))) == 2
    assert EXPECTED["facets"]["entities"][0] == {"value": "Gdańsk", "count": 25}  # Gdańsk + Gdansk, first seen


@pytest.mark.usefixtures("no_rebuild")
def test_a_version_7_index_answers_as_the_code_that_wrote_it(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with Index.open(path) as ix:
        assert _answers(ix) == EXPECTED
    assert _versions(path) == [7, 7]  # reading rewrites nothing


@pytest.mark.usefixtures("no_rebuild")
def test_upgrade_moves_the_facets_into_version_8_sidecars(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    report = Index.upgrade(path)
    assert report.sidecars == 2 and report.upgraded == 0
    assert _versions(path) == [8, 8]
    for manifest in path.glob("MAIN_*.cols.json"):
        assert json.loads(manifest.read_text("utf-8"))["facets"][0] >= 8  # distinct entity strings
    with Index.open(path) as ix:
        assert _answers(ix) == EXPECTED
    assert searchlib.check_index(path).ok


@pytest.mark.usefixtures("no_rebuild")
def test_a_merge_of_version_7_segments_carries_their_facets(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    extra = Article(
        id="b001", date="2024-06-02", title="crane strike", body="A crane strike in Oslo.", source="Daily Wire"
    )
    with Index.open(path, extractor=NoExtractor()) as ix:
        with ix.writer() as w:
            w.add(extra)
            w.commit(optimize=True)
        assert ix.stats().segments == 1
        got = _answers(ix)
    assert _versions(path) == [8]
    assert not list(path.glob("MAIN_*.facets.col"))  # the merged segment's values are its sidecar's alone
    sources = {f["value"]: f["count"] for f in got["facets"]["sources"]}
    want = {f["value"]: f["count"] for f in EXPECTED["facets"]["sources"]}
    assert sources == {**want, "Daily Wire": want["Daily Wire"] + 1}
    assert got["facets"]["entities"] == EXPECTED["facets"]["entities"]  # b001 names no entity
    assert searchlib.check_index(path).ok


def test_a_writer_does_not_read_version_7_facets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit looks ids up in the committed segments: their facets are not read for it (only searches do)."""
    path = _copy(tmp_path)
    calls: list[Any] = []
    real = sidecar.column_facets
    monkeypatch.setattr(sidecar, "column_facets", lambda reader: calls.append(reader) or real(reader))
    extra = Article(id="b002", date="2024-06-03", title="ferry", body="A ferry to Oslo.")
    with Index.open(path, extractor=NoExtractor()) as ix:
        ix.add(extra)
        assert not calls
        assert ix.facets("ferry").sources is not None and len(calls) == 2  # a search reads each segment's, once


def test_a_version_8_segment_whose_sidecar_older_code_rewrote_keeps_its_facets(tmp_path: Path) -> None:
    """Older searchlib rebuilds a version 8 sidecar it cannot read in its own version 7, which has
    no facet table; the segment has no Whoosh ``facets`` column either: its stored articles say."""
    from test_sidecar_build import _as_version_7

    path = tmp_path / "ix"
    shutil.copytree(FIXTURE, path)
    assert Index.upgrade(path).sidecars == 2
    with Index.open(path, extractor=NoExtractor()) as ix, ix.writer() as w:
        w.commit(optimize=True)  # one segment written by this code: no Whoosh facets column
    assert not list(path.glob("MAIN_*.facets.col"))
    (prefix,) = [p.name.split(".")[0] for p in path.glob("MAIN_*.cols.json")]
    _as_version_7(path, prefix)
    assert _versions(path) == [7]
    with Index.open(path) as ix:
        assert _answers(ix) == EXPECTED
