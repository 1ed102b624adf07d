"""check_index finds duplicate ids, orphan files and stale holder files, and repairs them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

import searchlib
from searchlib import Article, Index, check_index
from searchlib.cli import main


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "ix"
    with Index.create(p) as ix:
        ix.add(*(Article(id=str(n), date="2024-05-06", body=f"Article {n}.") for n in range(5)))
    return p


def test_a_healthy_index_is_ok(path: Path) -> None:
    report = check_index(path)
    assert report.ok and report.documents == 5 and report.segments == 1
    assert "no problems found" in report.summary()


def test_finds_and_repairs_duplicates_orphans_and_stale_holders(path: Path) -> None:
    # a duplicate written behind searchlib's back, as raw Whoosh would with add_document
    ix = whoosh_index.open_dir(str(path))
    with Index.open(path) as six, six.writer() as w:
        w.add(Article(id="tmp", date="2024-05-06", body="x"))
        w.cancel()
    raw = ix.writer()
    stored = next(f for f in ix.searcher().all_stored_fields() if f["id"] == "3")  # no Whoosh postings to ask
    raw.add_document(
        id="3", date=20240506, title=stored["title"], body="dup", meta=stored["meta"], body_text=b"dup", facets=b""
    )
    raw.commit(merge=False)
    (path / "MAIN_orphanxyz12345.seg").write_bytes(b"junk")
    (path / "WRITER.json").write_text(json.dumps({"pid": 1, "host": "h", "since": "t"}))

    report = check_index(path)
    assert not report.ok and report.documents == 6
    text = report.summary()
    assert "1 id(s) have more than one copy: 3" in text
    assert "orphan file(s)" in text and "MAIN_orphanxyz12345.seg" in text
    assert "stale WRITER.json" in text and "--repair" in text
    assert "missing or damaged columnar sidecar" in text  # raw Whoosh wrote a segment without one

    repaired = check_index(path, repair=True)
    assert len(repaired.repairs) == 4
    after = check_index(path)
    assert after.ok and after.documents == 5, after.summary()
    with Index.open(path) as six:
        assert six.get("3").body == "dup"  # type: ignore[union-attr]  # the latest copy is kept


def test_cli_check_exit_codes(path: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["check", str(path)], out=out) == 0 and "no problems found" in out.getvalue()
    (path / "MAIN_orphanxyz12345.seg").write_bytes(b"junk")
    assert main(["check", str(path)], out=io.StringIO()) == 3
    assert main(["check", str(path), "--repair"], out=io.StringIO()) == 0
    assert main(["check", str(tmp_path / "missing")], out=io.StringIO()) == 2


def test_check_of_a_missing_index_raises(tmp_path: Path) -> None:
    with pytest.raises(searchlib.IndexNotFoundError):
        check_index(tmp_path / "nope")
