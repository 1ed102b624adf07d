"""The ranking-quality harness: TREC topics and qrels in, nDCG@10 / MAP / recall@100 out."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("ir_measures")

import searchlib
from benchmarks import bench_relevance as rel


def test_topics_in_trec_and_tsv_form(tmp_path: Path) -> None:
    trec = tmp_path / "t.txt"
    trec.write_text("<top>\n<num> Number: 7\n<title> wage  talks\n<desc> Description:\nx\n</top>\n")
    tsv = tmp_path / "t.tsv"
    tsv.write_text("8\tcentral bank\n")
    assert rel.read_topics(trec) == {"7": "wage talks"}
    assert rel.read_topics(tsv) == {"8": "central bank"}
    assert len(rel.read_topics(rel.QUICK / "topics.txt")) == 6


def test_measures_of_a_perfect_and_an_empty_run(tmp_path: Path) -> None:
    qrels = tmp_path / "q.txt"
    qrels.write_text("1 0 a 2\n1 0 b 1\n")
    table = rel.evaluate({"perfect": {"1": {"a": 2.0, "b": 1.0}}, "wrong": {"1": {"z": 1.0}}}, qrels)
    assert table["perfect"] == {"nDCG@10": 1.0, "MAP": 1.0, "R@100": 1.0}
    assert table["wrong"]["nDCG@10"] == 0.0


def test_searchlib_on_the_sample_collection(tmp_path: Path) -> None:
    docs = [a for a in searchlib.read_articles([searchlib.sample_corpus_path()]) if isinstance(a, searchlib.Article)]
    runs = rel._searchlib_runs(docs, rel.read_topics(rel.QUICK / "topics.txt"), tmp_path)
    table = rel.evaluate(runs, rel.QUICK / "qrels.txt")
    assert set(table) == set(rel.RANKINGS)
    assert table["searchlib"]["nDCG@10"] > 0.8 and table["searchlib"]["R@100"] == 1.0
