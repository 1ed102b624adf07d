"""Ranking quality: nDCG@10, MAP and recall@100 from TREC-style topics and relevance judgments.

Runs searchlib (with its ranking options) and the peers on the same documents and topics, and
scores every run with ir-measures. Documents are any files searchlib reads (article text
format or JSON Lines with ``id``); their searchlib ids are the doc ids of the qrels.

    python benchmarks/bench_relevance.py --docs DOCS --topics topics.txt --qrels qrels.txt
    python benchmarks/bench_relevance.py --quick   # the bundled sample collection

Topics: TREC ``<top>`` blocks (``<num>``, ``<title>``; the title is the query) or a TSV file of
``qid<TAB>query``. Every query runs as the OR of its words (no engine gets hand-tuned syntax).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import searchlib
from benchmarks import engines
from benchmarks.common import env_markdown, environment
from benchmarks.queries import Query
from searchlib.models import derive_id

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
QUICK = HERE / "relevance_data"
DEPTH = 100
PEERS = ("whoosh", "tantivy", "fts5", "bm25s")
RANKINGS = {
    "searchlib": searchlib.Ranking(),
    "searchlib (body only)": searchlib.Ranking(title_boost=0.0, entity_boost=0.0),
    "searchlib (k1=0.9, b=0.4)": searchlib.Ranking(k1=0.9, b=0.4),
}


def read_topics(path: Path) -> dict[str, str]:
    """qid -> query, from TREC ``<top>`` blocks or ``qid<TAB>query`` lines."""
    text = path.read_text("utf-8")
    if "<top>" in text:
        topics = {}
        for block in re.findall(r"<top>(.*?)</top>", text, re.S):
            num = re.search(r"<num>\s*(?:Number:)?\s*(\S+)", block)
            title = re.search(r"<title>\s*(?:Topic:)?\s*(.*?)\s*(?:<desc>|<narr>|$)", block, re.S)
            if num and title:
                topics[num.group(1)] = " ".join(title.group(1).split())
        return topics
    return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)


def _words(query: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", query.lower()))


def _corpus(docs: list[searchlib.Article], folder: Path) -> dict[str, str]:
    """Write ``docs`` in the suite's corpus layout; returns the suite's id -> the documents' id."""
    folder.mkdir(parents=True, exist_ok=True)
    mapping = {}
    with open(folder / "part-00000.jsonl", "w", encoding="utf-8") as out:
        for a in docs:
            out.write(json.dumps({"date": a.date.isoformat(), "body": a.body, "source": a.source}) + "\n")
            mapping[derive_id(a.date, a.body)] = a.id
    return mapping


def _searchlib_runs(
    docs: list[searchlib.Article], topics: dict[str, str], work: Path
) -> dict[str, dict[str, dict[str, float]]]:
    """One index, opened once per ranking option."""
    path = work / "searchlib"
    with searchlib.Index.create(path) as ix:
        ix.add(*docs)
    runs: dict[str, dict[str, dict[str, float]]] = {}
    for label, ranking in RANKINGS.items():
        with searchlib.Index.open(path, ranking=ranking) as ix:
            run: dict[str, dict[str, float]] = {}
            for qid, query in topics.items():
                results = ix.search(" OR ".join(_words(query)), limit=DEPTH, highlight=None)
                run[qid] = {h.article.id: h.score for h in results}
        runs[label] = run
    return runs


def _peer_runs(
    docs: list[searchlib.Article], topics: dict[str, str], work: Path
) -> tuple[dict[str, dict[str, dict[str, float]]], list[str]]:
    corpus = work / "corpus"
    mapping = _corpus(docs, corpus)
    engines.TOP_K = DEPTH  # the adapters return the top TOP_K ids
    runs: dict[str, dict[str, dict[str, float]]] = {}
    notes = []
    for name in PEERS:
        cls = engines.ENGINES[name]
        if cls.missing():
            notes.append(f"{name}: skipped (not installed: {', '.join(cls.missing())})")
            continue
        engine = cls()
        engine.build(corpus, work / name)
        engine.open(work / name)
        run = {}
        for qid, query in topics.items():
            ids = engine.search(Query(kind="or", terms=_words(query), op="or"))
            run[qid] = {mapping.get(i, i): float(DEPTH - rank) for rank, i in enumerate(ids)}
        engine.close()
        runs[name] = run
    return runs, notes


def evaluate(runs: dict[str, dict[str, dict[str, float]]], qrels_path: Path) -> dict[str, dict[str, float]]:
    import ir_measures
    from ir_measures import AP, R, nDCG

    qrels = list(ir_measures.read_trec_qrels(str(qrels_path)))
    measures = [nDCG @ 10, AP, R @ DEPTH]
    table = {}
    for name, run in runs.items():
        scored = ir_measures.calc_aggregate(measures, qrels, run)
        table[name] = {"nDCG@10": scored[nDCG @ 10], "MAP": scored[AP], f"R@{DEPTH}": scored[R @ DEPTH]}
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, nargs="+", help="documents (files, directories, globs)")
    parser.add_argument("--topics", type=Path)
    parser.add_argument("--qrels", type=Path)
    parser.add_argument("--quick", action="store_true", help="the bundled sample collection")
    parser.add_argument("--name", default=None, help="result file name (default: relevance or relevance-quick)")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.docs = [searchlib.sample_corpus_path()]
        opts.topics, opts.qrels = QUICK / "topics.txt", QUICK / "qrels.txt"
    if not (opts.docs and opts.topics and opts.qrels):
        parser.error("give --docs, --topics and --qrels (or --quick)")
    docs = [a for a in searchlib.read_articles(opts.docs) if isinstance(a, searchlib.Article)]
    topics = read_topics(opts.topics)
    with tempfile.TemporaryDirectory(prefix="relevance-") as work:
        runs = _searchlib_runs(docs, topics, Path(work))
        peers, notes = _peer_runs(docs, topics, Path(work))
    runs.update(peers)
    table = evaluate(runs, opts.qrels)
    size = sum(len(a.body.encode("utf-8")) for a in docs)
    env = environment({"articles": len(docs), "bytes": size, "format": "as given", "files": len(opts.docs)}, 0)
    lines = [
        "# Ranking quality",
        "",
        env_markdown(env),
        f"- **topics**: {len(topics)} from `{opts.topics}`; qrels `{opts.qrels}`; depth {DEPTH}",
        "- queries: each topic's title as the OR of its words, the same for every engine",
        "",
        "| run | nDCG@10 | MAP | R@100 |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {m['nDCG@10']:.3f} | {m['MAP']:.3f} | {m[f'R@{DEPTH}']:.3f} |" for n, m in table.items()]
    lines += ["", *(f"- {note}" for note in notes)]
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(exist_ok=True)
    name = opts.name or ("relevance-quick" if opts.quick else "relevance")
    (RESULTS / f"{name}.md").write_text(report, "utf-8")
    (RESULTS / f"{name}.json").write_text(json.dumps(table, indent=2) + "\n", "utf-8")
    print(f"wrote {RESULTS / (name + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
