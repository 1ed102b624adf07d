"""Readers: the article text format, JSON Lines, directories, globs, gzip, bad records."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import searchlib
from searchlib import Article, IngestProblem
from searchlib.ingest import iter_files, parse_jsonl, parse_text


def _text(data: str | bytes) -> list[object]:
    raw = data.encode() if isinstance(data, str) else data
    return list(parse_text(io.BytesIO(raw), "f.txt"))


def test_example_article_is_read_whole(example_path: Path) -> None:
    [article] = list(searchlib.read_articles([example_path]))
    assert isinstance(article, Article)
    assert article.date == dt.date(2024, 5, 6)
    assert article.title.startswith("Hamas warned that the IDF’s evacuation")
    assert article.body.startswith("Hamas warned") and article.body.endswith("Gallant said.")
    assert "Kerem Shalom attack caused ceasefire talks to falter" in article.body.split("\n\n")


def test_many_articles_per_file_and_bad_dates_are_reported_with_lines() -> None:
    records = _text(
        "date 2024-05-06 First lead.\n\nMore.\n"
        "date 2024-02-30 Impossible date.\n"
        "date 2024-05-07 Second lead.\n"
        "date 2024-05-08\n\n"
        "date 2024-5-9 Short month form.\n"
    )
    assert [r.body if isinstance(r, Article) else str(r) for r in records] == [
        "First lead.\n\nMore.",
        "f.txt:4: impossible date '2024-02-30'",
        "Second lead.",
        "f.txt:6: article has an empty body",
        "Short month form.",
    ]


def test_text_before_first_date_and_invalid_utf8_are_skipped_not_fatal() -> None:
    records = _text(b"preamble\ndate 2024-05-06 Good one.\ndate 2024-05-07 Bad \xff byte.\ndate 2024-05-08 Fine.\n")
    articles = [r for r in records if isinstance(r, Article)]
    problems = [str(r) for r in records if isinstance(r, IngestProblem)]
    assert [a.body for a in articles] == ["Good one.", "Fine."]
    assert problems == [
        "f.txt:3: invalid UTF-8 at byte 20 of the line",
        "f.txt:1: text before the first 'date YYYY-MM-DD' line was skipped",
    ]


def test_jsonl_fields_and_problems() -> None:
    lines = [
        {
            "id": "w1",
            "date": "2024-05-06",
            "title": "T",
            "body": "Body one.",
            "entities": ["Hamas"],
            "source": "S",
            "url": "https://example.com/1",
        },
        {"date": "2024-05-07T10:00:00Z", "text": "Body two."},
        {"body": "no date"},
        {"date": "2024-05-08", "body": 5},
        {"date": "2024-05-08", "body": "x", "entities": "Hamas"},
        [1, 2],
    ]
    raw = "\n".join(json.dumps(x) for x in lines) + "\n\n{broken\n"
    records = list(parse_jsonl(io.BytesIO(raw.encode()), "w.jsonl"))
    first, second = records[0], records[1]
    assert isinstance(first, Article) and isinstance(second, Article)
    assert (first.id, first.title, first.entity_names, first.source) == ("w1", "T", ("Hamas",), "S")
    assert second.date == dt.date(2024, 5, 7) and second.entities is None
    assert [str(p) for p in records[2:]] == [
        "w.jsonl:3: missing 'date' (a string YYYY-MM-DD)",
        "w.jsonl:4: 'body' must be a string, not int",
        "w.jsonl:5: 'entities' must be a list, not str",
        "w.jsonl:6: expected a JSON object, got list",
        "w.jsonl:8: invalid JSON at column 2: Expecting property name enclosed in double quotes",
    ]


def test_directories_globs_and_gzip(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("date 2024-01-01 A.\n")
    with gzip.open(tmp_path / "sub" / "b.jsonl.gz", "wt") as f:
        f.write(json.dumps({"date": "2024-01-02", "body": "B."}) + "\n")
    (tmp_path / "sub" / "ignored.csv").write_text("x")
    bodies = sorted(r.body for r in searchlib.read_articles([tmp_path]) if isinstance(r, Article))
    assert bodies == ["A.", "B."]
    globbed = [r for r in searchlib.read_articles([str(tmp_path / "**" / "*.gz")]) if isinstance(r, Article)]
    assert [a.body for a in globbed] == ["B."]
    missing = list(iter_files([tmp_path / "nope.txt", str(tmp_path / "*.none")]))
    assert all(isinstance(m, IngestProblem) for m in missing) and len(missing) == 2


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    data = gzip.compress(("".join(f"date 2024-01-{d:02d} Article {d}.\n" for d in range(1, 29)) * 50).encode())
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(data[: len(data) // 2])
    records = list(searchlib.read_articles([path]))
    assert any(isinstance(r, IngestProblem) and "truncated" in r.reason for r in records)


def test_ingest_report_counts_and_strict_mode(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("date 2024-01-01 One.\ndate 2024-01-02 Two.\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("date 2024-01-03 Three.\ndate 2024-02-31 Bad.\n")
    ix = searchlib.Index.in_memory()
    report = ix.ingest([good, bad])
    assert (report.files, report.read, report.added, report.skipped) == (2, 3, 3, 1)
    assert report.problems[0].line == 2 and report.problems[0].path == str(bad)
    again = ix.ingest([good, bad])
    assert (again.added, again.unchanged) == (0, 3) and len(ix) == 3
    with pytest.raises(searchlib.IngestError) as info:
        searchlib.Index.in_memory().ingest([bad], strict=True)
    assert info.value.line == 2 and info.value.path == str(bad)


def test_progress_callback_sees_every_file(tmp_path: Path) -> None:
    for n in range(3):
        (tmp_path / f"{n}.txt").write_text(f"date 2024-01-0{n + 1} Article {n}.\n")
    events: list[searchlib.IngestProgress] = []
    searchlib.Index.in_memory().ingest(tmp_path, progress=events.append)
    assert [e.files_done for e in events] == [1, 2, 3]
    assert events[-1].bytes_done == events[-1].bytes_total > 0


_body = st.lists(
    st.text(
        st.characters(codec="utf-8", exclude_characters="\x00\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
        min_size=1,
        max_size=40,
    ).filter(lambda s: s.strip() and not s.lstrip().startswith("date")),
    min_size=1,
    max_size=4,
)


@given(day=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)), paragraphs=_body)
def test_text_format_round_trips(day: dt.date, paragraphs: list[str]) -> None:
    body = "\n\n".join(p.strip() for p in paragraphs)
    raw = f"date {day.isoformat()} {body}\n".encode()
    [article] = _text(raw)
    assert isinstance(article, Article)
    assert article.date == day
    assert article.body == body


@given(
    day=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    body=st.text(min_size=1, max_size=200).filter(lambda s: s.strip() and "\x00" not in s),
    title=st.one_of(st.none(), st.text(min_size=1, max_size=30).filter(lambda s: s.strip() and "\x00" not in s)),
    source=st.one_of(st.none(), st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and "\x00" not in s)),
)
def test_jsonl_round_trips(day: dt.date, body: str, title: str | None, source: str | None) -> None:
    obj = {"date": day.isoformat(), "body": body, "title": title, "source": source, "id": "x1"}
    records = list(parse_jsonl(io.BytesIO(json.dumps(obj).encode()), "r.jsonl"))
    assert len(records) == 1
    article = records[0]
    if isinstance(article, IngestProblem):  # bodies of only whitespace-like characters
        assert "body" in article.reason
        return
    assert (article.date, article.id, article.source) == (day, "x1", source.strip() if source else None)
    assert article.title == (title.strip() if title else searchlib.models.derive_title(article.body))
    assert " ".join(article.body.split()) == " ".join(body.split())


def test_directory_walk_skips_plain_json_but_explicit_json_is_read(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"articles": 3}\n')
    (tmp_path / "feed.json").write_text(json.dumps({"date": "2024-01-01", "body": "A."}) + "\n")
    assert list(searchlib.read_articles([tmp_path])) == []
    [article] = list(searchlib.read_articles([tmp_path / "feed.json"]))
    assert isinstance(article, Article) and article.body == "A."
