"""The archive's one alias table: learned over every shard, curated at archive level, applied
by the archive so that it answers exactly as one index holding the same articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchlib import Article, Index
from searchlib.aliases import ALIAS_FILE, AliasTable
from searchlib.archive import Archive
from searchlib.archive import aliases as archive_aliases
from searchlib.archive.check import check_archive
from searchlib.cli import main
from searchlib.errors import IncompatibleIndexError, IndexLockedError


def _articles() -> list[Article]:
    """Acronyms defined in one month and used bare in others; the majority long form is in one
    month, a misspelt one alone in another month (where it is that shard's own favourite)."""
    rows = [
        ("d1", "2024-01-03", "The Nordic Grain Exchange (NGE) opened. Ines Varga met Oslo Bors officials."),
        ("d2", "2024-01-09", "The Nordic Grain Exchange (NGE) closed. Bad Tag appeared beside Ines Varga."),
        ("d3", "2024-02-02", "The Nordik Grain Exchnage (NGE) opened late. Oats fell."),
        ("u1", "2024-02-11", "The NGE said barley was steady, and U.S. buyers waited."),
        ("u2", "2024-03-05", "The NGE halted trading; the Oslo Stock Exchange followed."),
        ("u3", "2024-03-20", "Mrs I. Varga spoke to the Oslo Stock Exchange about the NGE."),
    ]
    return [Article(id=i, date=d, body=b) for i, d, b in rows]


def _same(archive: Archive, ix: Index) -> None:
    for query in ["", "entity:NGE", 'entity:"Nordic Grain Exchange"', 'entity:"Oslo Bors"', "barley OR oats"]:
        got = archive.search(query, limit=20, highlight=None, facets=True, facet_size=5)
        want = ix.search(query, limit=20, highlight=None, facets=True, facet_size=5)
        assert got.total == want.total
        assert [h.article for h in got.hits] == [h.article for h in want.hits]
        assert [h.score for h in got.hits] == pytest.approx([h.score for h in want.hits], rel=1e-6)
        assert got.facets == want.facets
        assert archive.related_entities(query) == ix.related_entities(query)
        assert archive.timeline(query) == ix.timeline(query)
    assert archive.search("", entities=["NGE"]).total == ix.search("", entities=["NGE"]).total
    for doc_id in ("d3", "u1", "u3"):
        assert archive.get(doc_id) == ix.get(doc_id)
    a, b = archive.stats(), ix.stats()
    assert (a.entities, a.aliases, a.blocked) == (b.entities, b.aliases, b.blocked)


def test_learned_table_spans_shards_as_one_index(tmp_path: Path) -> None:
    with Archive.create(tmp_path / "a", shard_by="month", executor="serial") as archive, Index.in_memory() as ix:
        archive.add(*_articles())
        ix.add(*_articles())
        assert len(archive.manifest.shards) == 3
        # The February shard alone would take its misspelling as NGE's long form; the archive
        # counts every shard's definitions, so the majority form wins there too.
        with Index.open(tmp_path / "a" / "shards" / archive.manifest.shards[1]) as february:
            assert february.aliases.best_long_form("NGE") == "Nordik Grain Exchnage"
        assert archive.aliases.best_long_form("NGE") == "Nordic Grain Exchange"
        assert archive.aliases.learned == ix.aliases.learned
        assert archive.get("u2").entity_names[0] == "Nordic Grain Exchange"  # type: ignore[union-attr]
        assert archive.search("entity:NGE").total == 6
        _same(archive, ix)


def test_curation_is_archive_level_persisted_and_locked(tmp_path: Path) -> None:
    root = tmp_path / "a"
    with Archive.create(root, shard_by="month", executor="serial") as archive, Index.in_memory() as ix:
        archive.add(*_articles())
        ix.add(*_articles())
        for target in (archive, ix):
            target.merge_entities("Oslo Bors", "Oslo Stock Exchange")
            target.rename_entity("Ines Varga", "Ines K. Varga")
            target.block_entity("Bad Tag")
        _same(archive, ix)
        names = [f.value for f in archive.facets(size=20).entities]
        assert "Ines K. Varga" in names and "Bad Tag" not in names and "Oslo Bors" not in names
        with archive.writer(), pytest.raises(IndexLockedError):
            archive.block_entity("Oats")
        shard_tables = [AliasTable.load(root / "shards" / s) for s in archive.manifest.shards]
        expected = archive.aliases
    # Curation lives in ROOT/aliases.json; each shard's own table keeps only what it learned.
    saved = json.loads((root / ALIAS_FILE).read_text("utf-8"))
    assert saved["learned"] == {} and saved["blocked"] == ["bad tag"]
    assert all(not (t.merged or t.renamed or t.blocked) for t in shard_tables)
    with Archive.open(root, executor="serial") as again, Index.in_memory() as ix:
        ix.add(*_articles())
        ix.merge_entities("Oslo Bors", "Oslo Stock Exchange")
        ix.rename_entity("Ines Varga", "Ines K. Varga")
        ix.block_entity("Bad Tag")
        assert again.aliases == expected
        _same(again, ix)
        again.unblock_entity("Bad Tag")
        ix.unblock_entity("Bad Tag")
        _same(again, ix)
        # A later article in a new shard is folded by definitions learned in the others.
        late = Article(id="late", date="2024-07-01", body="Later the NGE closed early.")
        again.add(late)
        ix.add(late)
        assert again.get("late").entity_names == ("Nordic Grain Exchange",)  # type: ignore[union-attr]
        _same(again, ix)


def test_cli_entities_on_an_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "a"
    with Archive.create(root, shard_by="month", executor="serial") as archive:
        archive.add(*_articles())
    assert main(["entities", "merge", str(root), "Oslo Bors", "Oslo Stock Exchange"]) == 0
    assert main(["entities", "block", str(root), "Bad Tag"]) == 0
    assert main(["entities", "list", str(root)]) == 0
    listing = capsys.readouterr().out
    assert "learned  NGE -> Nordic Grain Exchange — from Nordic Grain Exchange (2)" in listing
    assert "blocked  bad tag" in listing
    with Archive.open(root, executor="serial") as archive:
        assert archive.search('entity:"Oslo Bors"').total == 3
        assert "Bad Tag" not in [f.value for f in archive.facets(size=20).entities]


def test_a_damaged_archive_alias_file_names_the_file_and_position(tmp_path: Path) -> None:
    root = tmp_path / "a"
    with Archive.create(root, shard_by="month", executor="serial") as archive:
        archive.add(*_articles())
    (root / ALIAS_FILE).write_text('{"format": 1,\n "merged": {', "utf-8")
    with Archive.open(root, executor="serial") as archive, pytest.raises(IncompatibleIndexError) as caught:
        archive.search("entity:NGE")
    assert str(root / ALIAS_FILE) in str(caught.value) and "line 2 column" in str(caught.value)
    report = check_archive(root)
    assert not report.ok
    assert any(ALIAS_FILE in p and "line 2" in p for p in report.problems)


def _ingest_file(path: Path, articles: list[Article]) -> Path:
    rows = [{"id": a.id, "date": a.date.isoformat(), "body": a.body} for a in articles]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


@pytest.mark.parametrize("how", ["add", "ingest", "merge", "block"])
def test_another_handle_sees_alias_changes_from_the_manifest_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A search keys the alias table to the manifest's alias version: no ``stat`` of any shard's
    alias file, and still the table a writer (another handle) changed, whichever way it did."""
    root = tmp_path / "a"
    bare, defining = _articles()[3:], _articles()[:3]
    with Archive.create(root, shard_by="month", executor="serial") as writer:
        writer.add(*bare)
    with Archive.open(root, executor="serial") as writer, Archive.open(root, executor="serial") as reader:
        before = reader.search('entity:"Nordic Grain Exchange"').total, reader.search('entity:"Oslo Bors"').total
        assert before == (0, 0)

        def no_stat(path: Path) -> None:
            raise AssertionError(f"stat of {path}: the manifest's alias version should do")

        monkeypatch.setattr(archive_aliases, "_stamp", no_stat)
        version = reader.manifest.aliases
        if how == "add":
            writer.add(*defining)
        elif how == "ingest":
            writer.ingest(_ingest_file(tmp_path / "feed.jsonl", defining))
        elif how == "merge":
            writer.merge_entities("Oslo Bors", "Oslo Stock Exchange")
        else:
            writer.block_entity("Oslo Stock Exchange")
        assert reader.manifest.aliases == (version or 0) + 1
        if how in ("add", "ingest"):  # the bare NGE of three articles now folds into its long form
            assert reader.search('entity:"Nordic Grain Exchange"').total == 6
            assert reader.aliases.best_long_form("NGE") == "Nordic Grain Exchange"
        elif how == "merge":
            assert reader.search('entity:"Oslo Bors"').total == 2
        else:
            assert "Oslo Stock Exchange" not in [f.value for f in reader.facets(size=20).entities]
        assert reader.aliases == writer.aliases


def test_a_manifest_without_an_alias_version_falls_back_to_the_files(tmp_path: Path) -> None:
    """An archive whose manifest a searchlib without the alias version wrote: each search checks
    the alias files, so a shard's learned acronyms are seen as before."""
    root = tmp_path / "a"
    with Archive.create(root, shard_by="month", executor="serial") as archive:
        archive.add(*_articles()[3:])
    manifest = json.loads((root / "archive.json").read_text("utf-8"))
    del manifest["aliases"]
    (root / "archive.json").write_text(json.dumps(manifest), "utf-8")
    with Archive.open(root, executor="serial") as reader:
        assert reader.manifest.aliases is None
        assert reader.search('entity:"Nordic Grain Exchange"').total == 0
        shard = reader.manifest.shards[0]
        with Index.open(root / "shards" / shard) as ix:  # learns NGE's long form in that shard's file
            ix.add(*[a for a in _articles()[:3] if shard.replace("-", "") in a.date.isoformat().replace("-", "")])
        assert reader.manifest.aliases is None
        assert reader.aliases.best_long_form("NGE") is not None
