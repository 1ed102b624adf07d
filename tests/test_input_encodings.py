"""Encodings, binary files, NUL in JSON and the per-article size limit: read or reported, never silent."""

from __future__ import annotations

import codecs
import json
import random
from pathlib import Path

import pytest

import searchlib
from searchlib import Article, IngestError, IngestProblem
from searchlib.cli import main

TEXT = "date 2025-01-02 Talks resumed in Gdańsk on Tuesday.\n\nWorkers met again — ünïcödé.\n"
JSONL = json.dumps({"date": "2025-01-02", "body": "Talks resumed in Gdańsk — ünïcödé.", "id": "j1"}) + "\n"


def _records(path: Path, **kwargs: object) -> list[Article | IngestProblem]:
    return list(searchlib.read_articles([path], **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize(("name", "content"), [("a.txt", TEXT), ("a.jsonl", JSONL)])
def test_utf16_and_utf32_with_a_bom_are_decoded(tmp_path: Path, encoding: str, name: str, content: str) -> None:
    bom = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }[encoding]
    path = tmp_path / name
    path.write_bytes(bom + (content * 3).encode(encoding))
    records = _records(path)
    assert all(isinstance(r, Article) for r in records) and len(records) == 3
    article = records[0]
    assert isinstance(article, Article) and "Gdańsk" in article.body and "ünïcödé" in article.body
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path, strict=True)
        assert (report.read, report.skipped) == (len(records), 0)


def test_utf16_without_a_bom_is_reported_as_binary(tmp_path: Path) -> None:
    path = tmp_path / "nobom.txt"
    path.write_bytes(TEXT.encode("utf-16-le"))
    [problem] = _records(path)
    assert isinstance(problem, IngestProblem)
    assert (problem.path, problem.line) == (str(path), 1) and "binary" in problem.reason
    assert "UTF-16" in problem.reason
    with searchlib.Index.in_memory() as ix, pytest.raises(IngestError) as info:
        ix.ingest(path, strict=True)
    assert (info.value.path, info.value.line) == (str(path), 1)


@pytest.mark.parametrize("name", ["noise.txt", "noise.jsonl", "noise.txt.gz"])
def test_random_bytes_are_reported_as_binary(tmp_path: Path, name: str) -> None:
    noise = random.Random(7).randbytes(4096)
    path = tmp_path / name
    if name.endswith(".gz"):
        import gzip

        path.write_bytes(gzip.compress(noise))
    else:
        path.write_bytes(noise)
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path)
    assert (report.read, report.skipped) == (0, 1)
    [problem] = report.problems
    assert (problem.path, problem.line) == (str(path), 1) and "binary" in problem.reason


def test_a_text_file_with_one_bad_line_is_not_binary(tmp_path: Path) -> None:
    path = tmp_path / "one_bad.txt"
    path.write_bytes(
        TEXT.encode() + b"date 2025-01-03 Broken \xff bytes.\n\n" + TEXT.replace("01-02", "01-04").encode()
    )
    records = _records(path)
    assert [type(r).__name__ for r in records] == ["Article", "IngestProblem", "Article"]


def test_invalid_utf16_later_in_a_file_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad16.txt"
    good = (TEXT * 2).encode("utf-16-le")
    path.write_bytes(codecs.BOM_UTF16_LE + good + b"\x00\xd8\x41\x00\n\x00")  # a lone high surrogate
    records = _records(path)
    problems = [r for r in records if isinstance(r, IngestProblem)]
    assert len(problems) == 1 and "surrogate" in problems[0].reason and problems[0].line == 2 * TEXT.count("\n") + 1
    assert sum(isinstance(r, Article) for r in records) == 1  # the second article holds the bad line


def test_truncated_utf16_ends_with_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "cut16.jsonl"
    path.write_bytes(codecs.BOM_UTF16_LE + (JSONL * 2).encode("utf-16-le") + b"{")
    records = _records(path)
    assert [type(r).__name__ for r in records] == ["Article", "Article", "IngestProblem"]
    assert "UTF-16" in records[-1].reason  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"date": "2025-01-02", "body": "x\u0000y"}, "body"),
        ({"date": "2025-01-02", "text": "x\u0000y"}, "text"),
        ({"date": "2025-01-02", "body": "ok", "title": "t\u0000"}, "title"),
        ({"date": "2025-01-02", "body": "ok", "source": "\u0000"}, "source"),
        ({"date": "2025-01-02", "body": "ok", "entities": ["A\u0000B"]}, "entities"),
    ],
)
def test_nul_in_json_strings_is_a_bad_record(tmp_path: Path, obj: dict[str, object], field: str) -> None:
    path = tmp_path / "nul.jsonl"
    path.write_text(JSONL + json.dumps(obj) + "\n" + JSONL.replace("j1", "j2"), encoding="utf-8")
    assert "\\u0000" in path.read_text()
    records = _records(path)
    assert [type(r).__name__ for r in records] == ["Article", "IngestProblem", "Article"]
    problem = records[1]
    assert isinstance(problem, IngestProblem) and problem.line == 2 and "NUL" in problem.reason
    assert repr(field) in problem.reason
    with searchlib.Index.in_memory() as ix, pytest.raises(IngestError) as info:
        ix.ingest(path, strict=True)
    assert info.value.line == 2


def _long_text(chars: int) -> str:
    line = "word " * 19 + "\n"
    return "date 2025-01-05 A very long story.\n" + line * (chars // len(line) + 1)


@pytest.mark.parametrize("name", ["long.txt", "long.jsonl"])
def test_articles_over_the_limit_are_skipped_and_reported(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    body = _long_text(5_000)
    if name.endswith(".jsonl"):
        long = json.dumps({"date": "2025-01-05", "body": body}) + "\n"
        path.write_text(JSONL + long + JSONL.replace("j1", "j2"), encoding="utf-8")
    else:
        path.write_text(TEXT + body + "\n" + TEXT.replace("01-02", "01-06"), encoding="utf-8")
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path, max_article_chars=4_000)
        assert (report.read, report.skipped) == (2, 1)
        [problem] = report.problems
        assert "longer than 4,000 characters" in problem.reason and problem.line in (2, 4)
    with searchlib.Index.in_memory() as ix:
        assert ix.ingest(path, max_article_chars=None).read == 3
        assert ix.ingest(path, max_article_chars=6_000).unchanged == 3


def test_the_default_limit_skips_a_huge_article(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text(_long_text(searchlib.ingest.MAX_ARTICLE_CHARS + 10), encoding="utf-8")
    [problem] = _records(path)
    assert isinstance(problem, IngestProblem) and "max_article_chars" in problem.reason


@pytest.mark.parametrize(
    ("value", "error"), [("1000", TypeError), (True, TypeError), (0, ValueError), (2.5, TypeError)]
)
def test_max_article_chars_is_checked(tmp_path: Path, value: object, error: type[Exception]) -> None:
    with searchlib.Index.in_memory() as ix, pytest.raises(error, match="max_article_chars"):
        ix.ingest(tmp_path, max_article_chars=value)  # type: ignore[arg-type]


def test_cli_max_article_chars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(TEXT + _long_text(3_000), encoding="utf-8")
    main(["index", str(tmp_path / "ix"), str(src), "-q", "--max-article-chars", "2000"])
    out = capsys.readouterr().out
    assert "1 skipped" in out and "longer than 2,000 characters" in out
