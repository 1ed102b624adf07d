"""News analytics: co-occurring entities with significance, and timelines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from searchlib import Article, DateBucket, Index, render_sparkline
from searchlib.cli import main
from searchlib.repl import run_repl


@pytest.fixture
def tiny() -> Index:
    ix = Index.in_memory()
    ix.add(
        Article(id="1", date="2024-01-05", body="x", entities=["Hamas", "Qatar", "Egypt"]),
        Article(id="2", date="2024-03-09", body="x", entities=["Hamas", "Qatar"]),
        Article(id="3", date="2024-03-10", body="x", entities=["Egypt", "Jordan"]),
        Article(id="4", date="2024-04-01", body="x", entities=["Egypt"]),
    )
    return ix


def test_related_entities_rank_by_significance_and_exclude_the_query(tiny: Index) -> None:
    related = tiny.related_entities("entity:Hamas")
    assert [(r.name, r.count, r.background) for r in related] == [("Qatar", 2, 2), ("Egypt", 1, 3)]
    qatar, egypt = related
    assert qatar.score == pytest.approx((1.0 - 0.5) * (1.0 / 0.5))
    assert egypt.score == 0.0  # no more common with Hamas than in the archive
    assert tiny.related_entities("", entities=["Hamas"], min_count=2) == (related[0],)
    early = tiny.related_entities("entity:Hamas", date_to="2024-02")  # only article 1 matches
    assert [(r.name, r.count, round(r.score, 3)) for r in early] == [("Qatar", 1, 1.0), ("Egypt", 1, 0.333)]


def test_timeline_is_zero_filled_and_matches_search_totals(tiny: Index) -> None:
    timeline = tiny.timeline("entity:Egypt")
    assert [(p.value, p.count) for p in timeline.points] == [
        ("2024-01", 1),
        ("2024-02", 0),
        ("2024-03", 1),
        ("2024-04", 1),
    ]
    assert timeline.total == tiny.search("entity:Egypt").total and timeline.peak is not None
    by_day = tiny.timeline("", bucket=DateBucket.DAY, date_from="2024-03-09", date_to="2024-03-11")
    assert [p.count for p in by_day.points] == [1, 1, 0]
    assert tiny.timeline("entity:Nobody").points == ()
    yearly = tiny.timeline("", bucket=DateBucket.YEAR, date_from="2023", date_to="2024")
    assert [(p.value, p.count) for p in yearly.points] == [("2023", 0), ("2024", 4)]


def test_sparkline() -> None:
    assert render_sparkline([0, 1, 2, 4]) == " ▃▅█"
    assert render_sparkline([]) == "" and render_sparkline([0, 0]) == "  "


def test_the_issue_questions_from_the_repl(corpus_index: Index) -> None:
    out = io.StringIO()
    script = ':date 2024-05\n:related entity:Hamas\n:date off\n"Halina Wrzosek"\n:timeline\n'
    run_repl(corpus_index, stdin=io.StringIO(script), stdout=out)
    text = out.getvalue()
    assert "Related to 'entity:Hamas'" in text and "Cairo " in text and "Hamas  " not in text
    assert "2025-01 " in text and "(8 articles, by month)" in text


def test_cli_related_and_timeline_png(tmp_path: Path, example_path: Path) -> None:
    pytest.importorskip("matplotlib")
    index = tmp_path / "ix"
    assert main(["index", str(index), str(example_path), "-q"], out=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["related", str(index), "entity:Hamas", "-n", "3"], out=out) == 0
    assert len(out.getvalue().splitlines()) == 4
    png = tmp_path / "t.png"
    out = io.StringIO()
    assert main(["timeline", str(index), "rafah", "--bucket", "day", "--png", str(png)], out=out) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "2024-05-06" in out.getvalue()
