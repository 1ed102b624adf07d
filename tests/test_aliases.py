"""The index's alias table: learned acronyms and user curation, the same for every way of building."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchlib import AliasTable, Article, Entity, EntityKind, IncompatibleIndexError, Index
from searchlib import query as q
from searchlib.cli import main


def _corpus(folder: Path) -> Path:
    """Articles where an acronym is defined in some and used bare in others, one long form misspelt."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(40):
        if i % 10 == 3:
            body = f"The Nordic Grain Exchange (NGE) opened on day {i}. Wheat rose."
        elif i == 7:
            body = "The Nordik Grain Exchnage (NGE) opened late. Oats fell."  # the one misspelling
        elif i % 10 == 5:
            body = f"The NGE said barley was steady on day {i}, as U.S. buyers waited."
        else:
            body = f"Traders in Oslo met Ines Varga on day {i}; the United States sent a delegate."
        records.append({"id": f"a{i:02d}", "date": f"2024-03-{i % 28 + 1:02d}", "body": body})
    path = folder / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


def _snapshot(ix: Index) -> list[tuple[str, tuple[str, ...]]]:
    hits = ix.search("", limit=1000, highlight=None).hits
    return sorted((h.article.id, h.article.entity_names) for h in hits)


def _facets(ix: Index) -> list[tuple[str, int]]:
    return [(f.value, f.count) for f in ix.facets(size=20).entities]


def test_workers_one_two_and_reopen_agree(tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in")
    with Index.create(tmp_path / "one") as one, Index.create(tmp_path / "two") as two:
        one.ingest(source, workers=1)
        two.ingest(source, workers=2)
        expected = _snapshot(one)
        assert _snapshot(two) == expected
        assert _facets(two) == _facets(one)
        facets = _facets(one)
    with Index.open(tmp_path / "two") as again:
        assert _snapshot(again) == expected
        assert _facets(again) == facets
    names = dict(expected)
    assert "Nordic Grain Exchange" in names["a05"]  # a later bare "NGE" shows the learned long form
    assert "Nordic Grain Exchange" in names["a07"]  # the misspelt definition is never canonical
    assert ("Nordic Grain Exchange", 9) in facets  # 4 + 1 misspelt definitions + 4 bare uses


def test_learned_aliases_apply_to_a_later_article_and_queries(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.ingest(_corpus(tmp_path / "in"))
    with Index.open(tmp_path / "ix") as ix:
        ix.add(Article(id="late", date="2024-04-01", body="Later the NGE closed early."))
        assert ix.get("late").entity_names == ("Nordic Grain Exchange",)  # type: ignore[union-attr]
        by_long = ix.search('entity:"Nordic Grain Exchange"', limit=100).total
        assert by_long == ix.search("entity:NGE", limit=100).total == 10
        assert ix.search('entity:"Nordik Grain Exchnage"').total == by_long
        usa = ix.search("entity:USA").total
        assert usa == ix.search('entity:"United States"').total > 0
        assert ix.search("", entities=["USA"]).total == usa
        assert ix.search("entity:U.S.").total == usa


def test_curation_merge_rename_block_is_persisted(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add(
            Article(id="1", date="2024-01-01", body="Ines Varga met Oslo Bors officials."),
            Article(id="2", date="2024-01-02", body="Mrs I. Varga spoke to the Oslo Stock Exchange later."),
            Article(id="3", date="2024-01-03", body="Bad Tag appeared beside Ines Varga."),
        )
        ix.merge_entities("Oslo Bors", "Oslo Stock Exchange")
        ix.rename_entity("Ines Varga", "Ines K. Varga")
        ix.block_entity("Bad Tag")
    with Index.open(tmp_path / "ix") as ix:
        assert ix.search('entity:"Oslo Bors"').total == ix.search('entity:"Oslo Stock Exchange"').total == 2
        assert ix.search('entity:"Ines K. Varga"').total == ix.search('entity:"Ines Varga"').total == 2
        names = [f.value for f in ix.facets().entities]
        assert "Ines K. Varga" in names and "Oslo Stock Exchange" in names
        assert "Bad Tag" not in names and "Oslo Bors" not in names and "Ines Varga" not in names
        assert ix.get("3").entity_names == ("Ines K. Varga",)  # type: ignore[union-attr]
        stats = ix.stats()
        assert stats.blocked == 1 and stats.aliases >= 2
        ix.unblock_entity("Bad Tag")
        assert "Bad Tag" in [f.value for f in ix.facets().entities]


def test_cli_entities_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add(
            Article(id="1", date="2024-01-01", body="The Nordic Grain Exchange (NGE) met Bad Tag in Oslo."),
            Article(id="2", date="2024-01-01", body="Prices in Olso fell, the misspelt story said."),
        )
    index = str(tmp_path / "ix")
    assert main(["entities", "merge", index, "Olso", "Oslo"]) == 0
    assert main(["entities", "rename", index, "NGE", "Grain Exchange of the North"]) == 0
    assert main(["entities", "block", index, "Bad Tag"]) == 0
    assert main(["entities", "list", index]) == 0
    listing = capsys.readouterr().out
    assert "learned  NGE -> Nordic Grain Exchange" in listing and "blocked  bad tag" in listing
    assert main(["stats", index]) == 0
    assert "1 blocked" in capsys.readouterr().out
    with Index.open(tmp_path / "ix") as ix:
        assert ix.get("1").entity_names == ("Grain Exchange of the North", "Oslo")  # type: ignore[union-attr]
        assert ix.search("entity:Oslo").total == 2


def test_table_resolution_rules() -> None:
    table = AliasTable().learn({("ngx", "Nordic Grain Exchange"): 3, ("ngx", "Nordik Grain Exchange"): 1})
    assert table.resolve("NGX") == table.resolve("Nordik Grain Exchange") == "Nordic Grain Exchange"
    assert table.resolve("U.S.") == table.resolve("US") == table.resolve("usa") == "United States"
    assert {"U.S.", "US", "USA", "United States"} <= set(table.names_for("U.S."))
    ents = (Entity("Nordik Grain Exchange", EntityKind.ORG, ("NGX",)), Entity("NGX", EntityKind.OTHER))
    [folded] = table.apply(ents)
    assert folded.name == "Nordic Grain Exchange" and folded.kind is EntityKind.ORG
    rewritten = table.rewrite(q.parse("entity:NGX wheat"))
    assert isinstance(rewritten, q.And) and isinstance(rewritten.children[0], q.Or)
    assert {t.text for t in rewritten.children[0].children} >= {"NGX", "Nordic Grain Exchange"}  # type: ignore[union-attr]
    assert AliasTable.from_json(table.to_json()) == table


def test_a_damaged_alias_file_names_the_file_and_position(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix"):
        pass
    (tmp_path / "ix" / "aliases.json").write_text('{"format": 1,\n "learned": [}', "utf-8")
    with pytest.raises(IncompatibleIndexError, match=r"aliases.json: line 2 column"):
        Index.open(tmp_path / "ix")
