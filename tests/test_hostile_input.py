"""Hostile input files: every good record is indexed, every bad one is reported with its line.

Each case writes one file into ``tmp_path`` and states which articles in it are good (by a
marker word unique to the article) and which 1-based lines hold bad records. The same cases
are checked one by one, all together in one directory ingest, and in strict mode.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import Article, IngestError, IngestProblem
from searchlib.ingest import parse_jsonl, parse_text


@attrs.frozen
class Case:
    name: str
    filename: str
    content: bytes
    good: tuple[str, ...]  # marker words, one per good article
    bad_lines: tuple[int, ...]  # 1-based lines of the bad records
    reason: str = ""  # a word every problem's reason contains


def _jsonl(*records: object) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def _gz(data: bytes, keep: float = 1.0) -> bytes:
    packed = gzip.compress(data)
    return packed[: int(len(packed) * keep)]


def _art(day: str, marker: str, extra: str = "") -> bytes:
    return f"date {day} Lead sentence about {marker}.\n\nSecond paragraph {extra}.\n\n".encode()


def _obj(marker: str, **fields: object) -> dict[str, object]:
    return {"date": "2024-03-04", "body": f"A wire story about {marker}.", **fields}


@pytest.fixture(autouse=True)
def _private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Whoosh's temp files (column spill-over of in-memory indexes) inside tmp_path."""
    folder = tmp_path / "tempdir"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def _cases() -> list[Case]:
    cases = [
        Case(
            "invalid_utf8_in_body",
            "utf8_body.txt",
            _art("2024-01-01", "mkutfa")
            + b"date 2024-01-02 Lead about mkutfbad.\n\nbroken \xff\xfe bytes here\n\n"  # lines 5-8
            + _art("2024-01-03", "mkutfc"),
            ("mkutfa", "mkutfc"),
            (7,),
            "UTF-8",
        ),
        Case(
            "invalid_utf8_in_header",
            "utf8_header.txt",
            _art("2024-01-01", "mkutha")
            + b"date 2024-01-02 Lead \xc3\x28 about mkuthbad.\n\nplain body\n\n"  # line 5
            + _art("2024-01-03", "mkuthc"),
            ("mkutha", "mkuthc"),
            (5,),
            "UTF-8",
        ),
        Case(
            "nul_in_text",
            "nul.txt",
            _art("2024-01-01", "mknula")
            + b"date 2024-01-02 Lead about mknulbad.\nNUL\x00here\n\n"
            + _art("2024-01-03", "mknulc"),
            ("mknula", "mknulc"),
            (6,),
            "NUL",
        ),
        Case(
            "nul_in_jsonl",
            "nul.jsonl",
            _jsonl(_obj("mkjnula")) + b'{"date": "2024-01-01", "body": "x\x00y mkjnulbad"}\n' + _jsonl(_obj("mkjnulc")),
            ("mkjnula", "mkjnulc"),
            (2,),
            "NUL",
        ),
        Case("empty_text", "empty.txt", b"", (), ()),
        Case("empty_jsonl", "empty.jsonl", b"", (), ()),
        Case("whitespace_only", "blank.txt", b"  \n\n\t\n   \r\n", (), ()),
        Case("whitespace_only_jsonl", "blank.jsonl", b"  \n\n\t\n", (), ()),
        Case(
            "impossible_dates_text",
            "dates.txt",
            _art("2024-02-30", "mkdbad1") + _art("2024-02-29", "mkdgood") + _art("2024-13-01", "mkdbad2"),
            ("mkdgood",),
            (1, 9),
            "date",
        ),
        Case(
            "impossible_dates_jsonl",
            "dates.jsonl",
            _jsonl(
                {"date": "2024-02-30", "body": "mkjdbad1"},
                _obj("mkjdgood"),
                {"date": "2024-13-01", "body": "mkjdbad2"},
            ),
            ("mkjdgood",),
            (1, 3),
            "date",
        ),
        Case(
            "extreme_years",
            "years.txt",
            _art("0001-01-01", "mkyearone") + _art("9999-12-31", "mkyearmax"),
            ("mkyearone", "mkyearmax"),
            (),
        ),
        Case(
            "extreme_years_jsonl",
            "years.jsonl",
            _jsonl({"date": "0001-01-01", "body": "mkjyearone"}, {"date": "9999-12-31", "body": "mkjyearmax"}),
            ("mkjyearone", "mkjyearmax"),
            (),
        ),
        Case(
            "text_before_first_date",
            "preamble.txt",
            b"\n\nSome stray preamble mkpreamble\nmore stray\n"
            + _art("2024-01-01", "mkprea")
            + _art("2024-01-02", "mkpreb"),
            ("mkprea", "mkpreb"),
            (3,),
            "before",
        ),
        Case(
            "truncated_jsonl",
            "trunc.jsonl",
            _jsonl(_obj("mktra"), _obj("mktrb")) + json.dumps(_obj("mktrbad")).encode()[:25],
            ("mktra", "mktrb"),
            (3,),
            "JSON",
        ),
        Case(
            "wrong_json_types",
            "types.jsonl",
            _jsonl(
                _obj("mktypa"),
                {"date": "2024-01-01", "body": 42},
                _obj("mktypbad2", entities="Acme Corp"),
                {"date": 20240101, "body": "mktypbad3"},
                [_obj("mktypbad4")],
                _obj("mktypbad5", title=["not", "a", "string"]),
                "just a string",
                None,
                _obj("mktypb"),
            ),
            ("mktypa", "mktypb"),
            (2, 3, 4, 5, 6, 7, 8),
        ),
        Case(
            "deeply_nested_json",
            "nested.jsonl",
            _jsonl(_obj("mknesta"))
            + b"[" * 100_000
            + b"]" * 100_000
            + b"\n"
            + b'{"a":' * 50_000
            + b"1"
            + b"}" * 50_000
            + b"\n"
            + _jsonl(_obj("mknestb", extra={"a": {"b": {"c": [1, [2, [3]]]}}})),
            ("mknesta", "mknestb"),
            (2, 3),
        ),
        Case(
            "long_line_without_spaces",
            "longline.txt",
            _art("2024-01-01", "mklonga")
            + b"date 2024-01-02 Lead about mklongb.\n"
            + b"y" * 900_000  # under the default max_article_chars
            + b"\nend mklongc\n\n",
            ("mklonga", "mklongb"),
            (),
        ),
        Case(
            "crlf_and_bom",
            "crlf.txt",
            b"\xef\xbb\xbf" + _art("2024-01-01", "mkcrlfa").replace(b"\n", b"\r\n") + _art("2024-01-02", "mkcrlfb"),
            ("mkcrlfa", "mkcrlfb"),
            (),
        ),
        Case(
            "empty_body",
            "emptybody.txt",
            b"date 2024-01-01\n\n   \n" + _art("2024-01-02", "mkebgood"),
            ("mkebgood",),
            (1,),
            "empty",
        ),
    ]
    cases += [
        Case("gzip_ok", "ok.jsonl.gz", _gz(_jsonl(_obj("mkgzoka"), _obj("mkgzokb"))), ("mkgzoka", "mkgzokb"), ()),
        Case("not_gzip", "fake.jsonl.gz", b"this is not gzip at all\n" * 20, (), (1,), "corrupt"),
    ]
    return cases


CASES = _cases()
GOOD_CASES = [c for c in CASES if not c.bad_lines]
BAD_CASES = [c for c in CASES if c.bad_lines]


def _write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / case.filename
    path.write_bytes(case.content)
    return path


def _problems(report: searchlib.IngestReport) -> list[tuple[str, int | None]]:
    return sorted((p.path, p.line) for p in report.problems)


def _assert_searchable(ix: searchlib.Index, markers: tuple[str, ...]) -> None:
    for marker in markers:
        results = ix.search(marker, highlight=None)
        assert results.total == 1, f"{marker} found {results.total} times"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_hostile_file(tmp_path: Path, case: Case) -> None:
    path = _write(tmp_path, case)
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path)
        assert report.read == len(case.good) == len(ix)
        assert report.skipped == len(case.bad_lines)
        assert _problems(report) == [(str(path), line) for line in case.bad_lines]
        for problem in report.problems:
            assert case.reason.lower() in problem.reason.lower(), problem
        _assert_searchable(ix, case.good)
        for word in re.findall(rb"mk\w+bad\w*", case.content):
            assert ix.search(word.decode(), highlight=None).total == 0


def test_all_hostile_files_in_one_directory(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "nested").mkdir(parents=True)
    paths = [_write(folder if i % 2 else folder / "nested", case) for i, case in enumerate(CASES)]
    with searchlib.Index.create(tmp_path / "ix") as ix:
        report = ix.ingest(folder)
        assert report.files == len(CASES)
        expected = sorted((str(p), line) for p, c in zip(paths, CASES, strict=True) for line in c.bad_lines)
        assert _problems(report) == expected
        assert len(ix) == sum(len(c.good) for c in CASES)
        _assert_searchable(ix, tuple(m for c in CASES for m in c.good))
    with searchlib.Index.open(tmp_path / "ix") as again:
        assert len(again) == sum(len(c.good) for c in CASES)


@pytest.mark.parametrize("case", BAD_CASES, ids=[c.name for c in BAD_CASES])
def test_strict_raises_with_path_and_line_and_commits_nothing(tmp_path: Path, case: Case) -> None:
    path = _write(tmp_path, case)
    with searchlib.Index.create(tmp_path / "ix") as ix:
        with pytest.raises(IngestError) as info:
            ix.ingest(path, strict=True)
        assert info.value.path == str(path)
        assert info.value.line == min(case.bad_lines)
        assert f"{path}:{info.value.line}" in str(info.value)
        assert len(ix) == 0  # the uncommitted batch was discarded
        with ix.writer() as w:  # and the lock was released
            w.add(Article(date="2024-01-01", body="after strict failure"))
        assert len(ix) == 1


@pytest.mark.parametrize("case", GOOD_CASES, ids=[c.name for c in GOOD_CASES])
def test_strict_accepts_clean_files(tmp_path: Path, case: Case) -> None:
    path = _write(tmp_path, case)
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path, strict=True)
        assert report.skipped == 0 and report.read == len(case.good)


def test_truncated_gzip_keeps_complete_lines_and_reports_the_cut(tmp_path: Path) -> None:
    total = 400
    data = _jsonl(*(_obj(f"mkgz{i:04d}", pad=f"padding {i} " * 40) for i in range(total)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(_gz(data, keep=0.5))
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path)
        assert 0 < report.read < total
        assert len(report.problems) == 1
        [problem] = report.problems
        assert problem.path == str(path)
        assert problem.line == report.read + 1  # the first line that could not be read
        assert "truncated" in problem.reason
        _assert_searchable(ix, tuple(f"mkgz{i:04d}" for i in range(report.read)))
        with pytest.raises(IngestError) as info:
            ix.ingest(path, strict=True)
        assert info.value.path == str(path) and info.value.line == report.read + 1


def test_truncated_gzip_text_format(tmp_path: Path) -> None:
    data = b"".join(_art("2024-01-01", f"mkgzt{i:04d}", "filler " * 30) for i in range(300))
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(_gz(data, keep=0.6))
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path)
        assert 0 < report.read < 300
        [problem] = report.problems
        assert problem.path == str(path) and problem.line is not None
        # every article read is complete: its last line came before the cut
        assert problem.line > report.read * 4
        _assert_searchable(ix, tuple(f"mkgzt{i:04d}" for i in range(report.read)))


def test_symlink_loops_inside_a_directory(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    sub = root / "sub"
    sub.mkdir(parents=True)
    (sub / "good.txt").write_bytes(_art("2024-01-01", "mkloopgood"))
    os.symlink(root, sub / "back")  # a directory loop
    os.symlink(root / "self.txt", root / "self.txt")  # a file link to itself
    os.symlink(sub / "good.txt", root / "alias.txt")  # the same file twice
    started = time.perf_counter()
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(root)
        assert time.perf_counter() - started < 10
        assert len(ix) == 1 and report.read == 1
        _assert_searchable(ix, ("mkloopgood",))
        assert all(p.path != str(sub / "good.txt") for p in report.problems)
        direct = ix.ingest(root / "self.txt")
        assert [(p.path, p.line) for p in direct.problems] == [(str(root / "self.txt"), None)]


def test_right_to_left_and_emoji_text(tmp_path: Path) -> None:
    body_ar = "date 2024-01-01 وصل الوفد إلى القاهرة لإجراء محادثات 🕊️ mkarabic\n\nنص إضافي\n\n"
    body_he = "date 2024-01-02 המשלחת הגיעה לירושלים לשיחות 🇮🇱👨‍👩‍👧 mkhebrew\n\n"
    mixed = "date 2024-01-03 Emoji only line follows mkemoji\n\n😀😀😀 🧪\u200f\u202e reversed\n\n"
    path = tmp_path / "rtl.txt"
    path.write_text(body_ar + body_he + mixed, "utf-8")
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path)
        assert report.read == 3 and report.skipped == 0
        _assert_searchable(ix, ("mkarabic", "mkhebrew", "mkemoji", "القاهرة", "לירושלים"))
        hit = ix.search("القاهرة").hits[0]
        assert "🕊️" in hit.article.body
        assert any(hit.article.body[s.offset :].startswith(s.text) for s in hit.snippets)
        assert "👨‍👩‍👧" in ix.search("mkhebrew").hits[0].article.body


def test_ten_thousand_tiny_articles(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    path.write_text("".join(f"date 2024-01-01 Tiny note mk{i:05d}.\n\n" for i in range(10_000)))
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path)
        assert report.read == report.added == len(ix) == 10_000
        _assert_searchable(ix, ("mk00000", "mk04321", "mk09999"))
        assert ix.search("tiny", limit=0, highlight=None).total == 10_000


def test_twenty_megabyte_article(tmp_path: Path) -> None:
    word = "q" * 79
    line = (word + " ") * 12 + "\n"
    path = tmp_path / "huge.txt"
    path.write_text("date 2024-01-01 A huge mkhugehead story.\n" + line * 21_000 + "closing mkhugetail\n")
    assert path.stat().st_size > 20_000_000
    started = time.perf_counter()
    with searchlib.Index.in_memory(extractor=searchlib.NoExtractor()) as ix:
        report = ix.ingest(path, max_article_chars=None)
        assert report.read == 1
        _assert_searchable(ix, ("mkhugehead", "mkhugetail"))
        article = ix.search("mkhugetail", highlight=None).hits[0].article
        assert len(article.body) > 20_000_000
    assert time.perf_counter() - started < 8


def test_unreadable_paths_are_problems_not_crashes(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_bytes(_art("2024-01-01", "mkreadable"))
    missing = tmp_path / "missing.txt"
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest([missing, good, str(tmp_path / "nomatch*.jsonl")])
        assert {(p.path, p.line) for p in report.problems} == {
            (str(missing), None),
            (str(tmp_path / "nomatch*.jsonl"), None),
        }
        _assert_searchable(ix, ("mkreadable",))


# --- property tests -----------------------------------------------------------------------

SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]

_HEADER_LIKE = re.compile(r"^\s*date[ \t]+\d{4}-\d{1,2}-\d{1,2}", re.MULTILINE)
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=300,
)
_NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() != "")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _ingest_bytes(filename: str, data: bytes, extractor: searchlib.EntityExtractor | None = None) -> list[Article]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / filename
        path.write_bytes(data)
        with searchlib.Index.in_memory(extractor=extractor) as ix:
            report = ix.ingest(path, strict=True)
            assert report.read == 1
            return [h.article for h in ix.search("", limit=10, highlight=None)]


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(
    day=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    body=_TEXT.filter(lambda s: s.strip() != "" and not _HEADER_LIKE.search(s)),
)
def test_text_format_round_trip(day: dt.date, body: str) -> None:
    data = f"date {day.isoformat()} {body}\n".encode()
    [got] = _ingest_bytes("a.txt", data)
    assert got.date == day
    assert _norm(got.body) == _norm(body)
    expected = Article(date=day, body=got.body)
    assert got.id == expected.id and got.title == expected.title
    assert got.source is None and got.url is None


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(
    day=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    body=_TEXT.filter(lambda s: s.strip() != ""),
    title=st.none() | _NAME,
    source=st.none() | _NAME,
    url=st.none() | _NAME,
    doc_id=st.none() | _NAME,
    entities=st.none() | st.lists(_NAME, max_size=4),
    ascii_only=st.booleans(),
)
def test_jsonl_round_trip(
    day: dt.date,
    body: str,
    title: str | None,
    source: str | None,
    url: str | None,
    doc_id: str | None,
    entities: list[str] | None,
    ascii_only: bool,
) -> None:
    record: dict[str, object] = {"date": day.isoformat(), "body": body}
    for key, value in (("title", title), ("source", source), ("url", url), ("id", doc_id), ("entities", entities)):
        if value is not None:
            record[key] = value
    data = (json.dumps(record, ensure_ascii=ascii_only) + "\n").encode()
    [got] = _ingest_bytes("a.jsonl", data, extractor=searchlib.NoExtractor())
    assert got.date == day
    assert _norm(got.body) == _norm(body)
    if title is not None:
        assert got.title == title.strip()
    if doc_id is not None:
        assert got.id == doc_id.strip()
    assert got.source == (source.strip() or None if source is not None else None)
    assert got.url == (url.strip() or None if url is not None else None)
    # as a hit shows them: through the index's alias table (built in: "GREAT BRITAIN" shows as "United Kingdom")
    written = Article(date=day, body="x", entities=entities)
    want_entities = (searchlib.AliasTable().show(written).entities or ()) if entities is not None else ()
    assert got.entities == want_entities


_FRAGMENTS = [
    b"date 2024-01-01 ",
    b"date 2024-02-30 ",
    b"date 9999-12-31",
    b"date 0000-00-00 ",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"word ",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\xef\xbb\xbf",
    b'{"date": "2024-01-01", "body": "x"}',
    b'{"date": ',
    b'"body": 1}',
    b"[",
    b"]",
    b"{",
    b"}",
    b'"',
    b"\\u0000",
    b"\\ud800",
    b'{"date": "2024-01-01", "body": "\\ud800"}',
    b'{"date": "2024-01-01", "body": "a", "entities": [{"name": " "}]}',
    b'{"date": "2024-01-01", "text": "a", "entities": [{"name": "X", "kind": "nonsense"}]}',
    b'{"date": "2024-01-01T25:99", "body": "a", "id": 1e400}',
    b'{"date": "2024-01-01", "body": "a", "id": true}',
]
_HOSTILE_BYTES = st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from(_FRAGMENTS) | st.binary(max_size=8), max_size=40).map(b"".join),
)


def _check_records(parser: Callable[[io.BytesIO, str], object], data: bytes) -> None:
    lines = data.count(b"\n") + 1
    for record in parser(io.BytesIO(data), "fuzz"):  # type: ignore[operator]
        assert isinstance(record, (Article, IngestProblem)), record
        if isinstance(record, IngestProblem):
            assert record.path == "fuzz"
            assert record.line is None or 1 <= record.line <= lines + 1


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_OK)
@given(_HOSTILE_BYTES)
def test_parse_text_never_raises(data: bytes) -> None:
    _check_records(parse_text, data)


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_OK)
@given(_HOSTILE_BYTES)
def test_parse_jsonl_never_raises(data: bytes) -> None:
    _check_records(parse_jsonl, data)


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW_OK)
@given(_HOSTILE_BYTES)
def test_ingest_of_hostile_bytes_never_raises(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name in ("f.txt", "f.jsonl"):
            path = Path(folder) / name
            path.write_bytes(data)
            with searchlib.Index.in_memory() as ix:
                report = ix.ingest(path)
                assert len(ix) <= report.read
                assert ix.search("word", highlight=None).total <= len(ix)


# --- lone surrogates from JSON escapes ------------------------------------------------------


SURROGATE_FIELDS = [
    pytest.param({"body": "mksurr1 text \ud800 more"}, id="body"),
    pytest.param({"title": "Title \ud800"}, id="title"),
    pytest.param({"url": "https://example.com/\udfff"}, id="url"),
    pytest.param({"entities": ["Bad\ud800 Name"]}, id="untyped_entity"),
    pytest.param({"source": "Wire\ud800"}, id="source"),
    pytest.param({"entities": [{"name": "X\udfff", "kind": "person"}]}, id="typed_entity"),
    pytest.param({"id": "doc\ud800"}, id="id"),
]


@pytest.mark.parametrize("extra", SURROGATE_FIELDS)
def test_lone_surrogate_escapes_do_not_abort_the_ingest(tmp_path: Path, extra: dict[str, object]) -> None:
    """Regression: \\ud800 escapes in source, typed entities or id aborted the ingest (UnicodeEncodeError)."""
    path = tmp_path / "surrogates.jsonl"
    path.write_text(json.dumps({**_obj("mksurr1"), **extra}) + "\n" + json.dumps(_obj("mksurr2")) + "\n", "ascii")
    with searchlib.Index.in_memory() as ix:
        report = ix.ingest(path)
        _assert_searchable(ix, ("mksurr2",))
        if report.problems:
            assert [(p.path, p.line) for p in report.problems] == [(str(path), 1)]
        else:
            _assert_searchable(ix, ("mksurr1",))
            assert ix.search("mksurr1").total == 1  # with highlighting, too
