"""Sidecars written by older code are brought to the current version without a rebuild.

An index of the current format whose segments' sidecars are of an older version (3 or 4:
readable, but a new process's first query splits or scans term dictionaries; 5: every
posting's position offset stored, 36% more sidecar at 100k) is reported by
``check_index``; ``check --repair`` and ``Index.upgrade`` / ``searchlib upgrade`` rewrite
them in place (same arrays), and searches answer as before. Also: an upgrade totals the
index's size once.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from test_format7 import FIXTURE
from test_sidecar_build import _articles, _as_version_3, _as_version_4, _as_version_5, _as_version_6, _as_version_7

from searchlib import Index, IndexLockedError, NoExtractor, check_index
from searchlib._whoosh import sidecar
from searchlib._whoosh import upgrade as wu
from searchlib.cli import main

QUERIES = ["storm OR Gdańsk", "harb*", '"Anna Weber"', "title:council", '"storm vote"']


def _versions(path: Path) -> list[int]:
    return sorted(json.loads(m.read_text("utf-8"))["version"] for m in path.glob("MAIN_*.cols.json"))


def _answers(path: Path) -> list[list[tuple[str, float]]]:
    with Index.open(path) as ix:
        return [[(h.article.id, h.score) for h in ix.search(q, limit=100, highlight=None)] for q in QUERIES]


@pytest.fixture
def old(tmp_path: Path) -> tuple[Path, list[list[tuple[str, float]]]]:
    """A five-segment index with one sidecar each of versions 3, 4, 5, 6 and 7, and its answers.

    (Made older here, so without the Whoosh ``facets`` column older versions had: searches only;
    tests/test_sidecar7.py reads a real version 7 index's facets.)
    """
    path = tmp_path / "ix"
    with Index.create(path, extractor=NoExtractor()) as ix:
        for start in (0, 30, 60, 90, 120):
            ix.add(*_articles(start, 30, 5))
    expected = _answers(path)
    prefixes = sorted(p.name.split(".")[0] for p in path.glob("MAIN_*.cols.json"))
    _as_version_3(path, prefixes[0])
    _as_version_4(path, prefixes[1])
    _as_version_5(path, prefixes[2])
    _as_version_6(path, prefixes[3])
    _as_version_7(path, prefixes[4])
    assert _versions(path) == [3, 4, 5, 6, 7]
    assert _answers(path) == expected  # still read as they are
    return path, expected


def test_check_reports_older_sidecars_and_repair_rewrites_them(old: tuple[Path, list[list[tuple[str, float]]]]) -> None:
    path, expected = old
    report = check_index(path)
    assert not report.ok and any("5 segment sidecar(s) written by older code" in p for p in report.problems)
    repaired = check_index(path, repair=True)
    assert repaired.repairs == ("rewrote 5 sidecar(s) in version 8",)
    assert _versions(path) == [8, 8, 8, 8, 8]
    assert check_index(path).ok
    assert _answers(path) == expected


def test_upgrade_of_a_current_index_rewrites_older_sidecars(old: tuple[Path, list[list[tuple[str, float]]]]) -> None:
    path, expected = old
    report = Index.upgrade(path)
    assert (report.upgraded, report.sidecars) == (0, 5)
    assert "rewrote 5 segment sidecar(s)" in report.summary()
    assert _versions(path) == [8, 8, 8, 8, 8]
    assert _answers(path) == expected
    out = io.StringIO()
    assert main(["upgrade", str(path), "--json"], out=out) == 0
    assert json.loads(out.getvalue())["sidecars"] == 0
    assert Index.upgrade(path).summary().endswith("nothing to do")


def test_older_sidecars_are_not_rewritten_under_an_open_writer(old: tuple[Path, list[list[tuple[str, float]]]]) -> None:
    path, _ = old
    with Index.open(path) as ix, ix.writer():
        with pytest.raises(IndexLockedError, match="sidecars"):
            Index.upgrade(path)
        assert _versions(path) == [3, 4, 5, 6, 7]
    assert Index.upgrade(path).sidecars == 5
    with Index.open(path) as ix, ix.writer():
        assert Index.upgrade(path).sidecars == 0  # nothing to rewrite: no lock needed


@pytest.mark.parametrize("cli", [False, True])
def test_an_upgrade_totals_the_index_size_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: bool) -> None:
    path = tmp_path / "ix"
    shutil.copytree(FIXTURE, path)
    sizes: list[Path] = []
    real = wu._size

    def counted(folder: Path) -> int:
        sizes.append(folder)
        return real(folder)

    monkeypatch.setattr(wu, "_size", counted)
    if cli:
        assert main(["upgrade", str(path)], out=io.StringIO()) == 0
    else:
        assert Index.upgrade(path, workers=None).articles == 20
    assert sizes == [path.resolve()]
    assert _versions(path) and set(_versions(path)) == {sidecar.SIDECAR_VERSION}
