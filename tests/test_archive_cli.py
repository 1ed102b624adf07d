"""Archives from the command line (index --shard-by, search, stats, related, timeline) and `check`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import searchlib
from searchlib import Article, Index, check_index
from searchlib.archive import Archive
from searchlib.archive.manifest import read_manifest, write_manifest
from searchlib.cli import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_cli_builds_and_searches_a_month_archive(tmp_path: Path, corpus_index: Index) -> None:
    target = str(tmp_path / "arch")
    code, text = run("index", target, str(searchlib.sample_corpus_path()), "--shard-by", "month", "-q")
    assert code == 0 and "in 7 shard(s)" in text
    code, text = run("search", target, '"wage talks" OR strike', "--json", "-n", "3", "--from", "2025-03")
    assert code == 0
    got = json.loads(text)
    with Index.in_memory() as one:
        one.ingest(searchlib.sample_corpus_path())
        want = one.search('"wage talks" OR strike', limit=3, date_from="2025-03")
    assert got["total"] == want.total
    assert [round(h["score"], 6) for h in got["hits"]] == [round(h.score, 6) for h in want.hits]
    code, text = run("stats", target)
    assert code == 0 and "61" in text
    assert run("timeline", target, "strike")[0] == 0
    assert run("related", target, "entity:HRB")[0] == 0
    # Indexing into an existing archive adds to it (unchanged articles are skipped).
    code, text = run("index", target, str(searchlib.sample_corpus_path()), "-q")
    assert code == 0 and "61 unchanged" in text


def test_scheduler_on_a_plain_index_is_never_silently_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``index --scheduler`` without ``--shard-by`` would build one index locally: refused.

    Reading a plain index with ``--scheduler`` searches it here, with a warning saying so (no
    cluster is contacted: the address below is never dialled).
    """
    target = tmp_path / "plain"
    unreachable = "tcp://192.0.2.1:8786"
    code, _ = run("index", str(target), str(searchlib.sample_corpus_path()), "--scheduler", unreachable, "-q")
    assert code == 2 and not target.exists()
    assert "--shard-by" in capsys.readouterr().err
    assert run("index", str(target), str(searchlib.sample_corpus_path()), "-q")[0] == 0
    code, text = run("search", str(target), "strike", "--json", "--scheduler", unreachable)
    assert code == 0 and json.loads(text)["total"] > 0
    assert "is an index, not an archive: --scheduler is ignored" in capsys.readouterr().err


def test_check_an_archive(tmp_path: Path) -> None:
    root = tmp_path / "a"
    with Archive.create(root, shard_by="year", executor="serial") as archive:
        archive.add(Article(id="x", date="2023-01-01", body="Ferry."), Article(id="y", date="2024-01-01", body="Port."))
    report = check_index(root)
    assert report.ok and report.documents == 2, report.summary()
    # A misrouted copy and a half-done move are found; repair finishes the move.
    with Index.open(root / "shards" / "2024") as shard:
        shard.add(Article(id="x", date="2024-03-03", body="Ferry again."))
    manifest = read_manifest(root)
    write_manifest(root, attrs_evolve(manifest, moving={"x": "2024"}, generation=manifest.generation + 1))
    report = check_index(root)
    assert not report.ok and any("half-done" in p for p in report.problems), report.summary()
    assert check_index(root, repair=True).repairs
    after = check_index(root)
    assert after.ok, after.summary()
    with Archive.open(root, executor="serial") as archive:
        assert archive.get("x").date.year == 2024  # type: ignore[union-attr]
        assert archive.search("ferry").total == 1
    (root / "shards" / "1999").mkdir()
    code, text = run("check", str(root))
    assert code == 3 and "not in the manifest" in text


def attrs_evolve(value: object, **changes: object) -> object:
    import attrs

    return attrs.evolve(value, **changes)  # type: ignore[misc]
