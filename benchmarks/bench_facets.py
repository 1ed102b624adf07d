"""Facet counting -- top entities, sources and months over every match -- against tantivy's aggregations.

Each timed process opens one index and, per query, runs a warm-up then ``--reps`` timed calls
(wall clock): searchlib's ``Index.facets(query, size=10)`` (entities by entity key, months,
sources) and, optionally, ``Index.related_entities(query)``; tantivy-py's
``Searcher.aggregate`` with ``terms`` aggregations (size 10) over fast fields holding the same
articles' entity keys, sources and months, built once from the searchlib index
(``--tantivy-dir``). ``--code LABEL=DIR`` runs searchlib from ``DIR`` (say, an older commit's
checkout) so versions compare on one index in one run; runs of every participant alternate.
Medians per query kind and ratios to tantivy go to ``benchmarks/results/<name>.md`` with a PNG.

    python benchmarks/bench_facets.py --index benchmarks/data/indexes/corpus-text-100000-s42/searchlib-2w \\
        --queries benchmarks/results/engine6-100000-s42-queries.json --tantivy-dir /tmp/facets-tantivy \\
        --code before=/tmp/before --code after=. --rounds 3
    python benchmarks/bench_facets.py --quick   # CI: a 300-article index in a temporary folder
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402
from benchmarks.queries import Query, load_queries  # noqa: E402

KINDS = ("all", "common", "rare", "entity", "date")
PER_KIND = 5

SEARCHLIB_CHILD = """
import json, sys, time
code, path, queries, reps, related = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sys.path.insert(0, code)
import searchlib
assert searchlib.__file__.startswith(code), searchlib.__file__
out = {}
with searchlib.Index.open(path) as ix:
    for label, q in queries:
        kw = dict(date_from=q["date_from"], date_to=q["date_to"], entities=[q["entity"]] if q["entity"] else [])
        calls = [("facets", lambda: ix.facets(q["text"], size=10, **kw))]
        if related == "1":
            calls.append(("related", lambda: ix.related_entities(q["text"], size=10, **kw)))
        for name, call in calls:
            start = time.perf_counter()
            call()  # warm-up: the first call of a query pays its term look-ups
            if name not in out.get("first", {}):  # the process's first call of its kind: keys made
                out.setdefault("first", {})[name] = [(time.perf_counter() - start) * 1000]
            times = []
            for _ in range(reps):
                start = time.perf_counter()
                call()
                times.append((time.perf_counter() - start) * 1000)
            out.setdefault(name, {})[label] = times
print(json.dumps(out))
"""

TANTIVY_CHILD = """
import datetime as dt, json, sys, time
import tantivy
path, queries, reps = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
index = tantivy.Index.open(path)
searcher = index.searcher()
schema = index.schema
sizes = (("entity", 10), ("source", 10), ("month", 1000))
aggs = {name: {"terms": {"field": name, "size": size}} for name, size in sizes}
out = {}
for label, q in queries:
    parts = []
    if q["body"]:
        parts.append(index.parse_query(q["body"], ["body"]))
    if q["entity"]:
        parts.append(tantivy.Query.term_query(schema, "entity", q["entity"]))
    if q["date_from"]:
        utc = dt.timezone.utc
        start, end = (dt.datetime.fromisoformat(d).replace(tzinfo=utc) for d in (q["date_from"], q["date_to"]))
        parts.append(tantivy.Query.range_query(schema, "date", tantivy.FieldType.Date, start, end))
    if not parts:
        query = tantivy.Query.all_query()
    elif len(parts) == 1:
        query = parts[0]
    else:
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])
    searcher.aggregate(query, aggs)  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        searcher.aggregate(query, aggs)
        times.append((time.perf_counter() - start) * 1000)
    out.setdefault("facets", {})[label] = times
print(json.dumps(out))
"""


def _text(query: Query) -> str:
    joined = {"and": " AND ", "or": " OR ", "phrase": " "}.get(query.op, " ").join(query.terms)
    return f'"{joined}"' if query.op == "phrase" and query.terms else joined


def picked_queries(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(kind label, query) pairs: everything, then ``PER_KIND`` queries of each other kind from the query file."""
    chosen: list[tuple[str, dict[str, Any]]] = [
        ("all", {"text": "", "entity": None, "date_from": None, "date_to": None})
    ]
    counts: dict[str, int] = {}
    for query in load_queries(path):
        if query.kind not in KINDS or counts.get(query.kind, 0) >= PER_KIND:
            continue
        counts[query.kind] = counts.get(query.kind, 0) + 1
        chosen.append(
            (
                query.kind,
                {"text": _text(query), "entity": query.entity, "date_from": query.date_from, "date_to": query.date_to},
            )
        )
    return chosen


def build_tantivy(index: Path, target: Path, code: Path) -> int:
    """A tantivy index of the searchlib index's articles: body, entity keys, source and month as fast fields."""
    script = """
import datetime as dt, json, shutil, sys
sys.path.insert(0, sys.argv[3])
import tantivy
from searchlib import Index
from searchlib.export import export_lines
source, target = sys.argv[1], sys.argv[2]
shutil.rmtree(target, ignore_errors=True)
builder = tantivy.SchemaBuilder()
builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
builder.add_text_field("entity", stored=False, tokenizer_name="raw", fast=True)
builder.add_text_field("source", stored=False, tokenizer_name="raw", fast=True)
builder.add_unsigned_field("month", fast=True)
builder.add_date_field("date", indexed=True, fast=True)
import os
os.makedirs(target)
tix = tantivy.Index(builder.build(), path=target)
writer = tix.writer()
count = 0
with Index.open(source) as ix:
    for line in export_lines(ix, batch=2000):
        a = json.loads(line)
        day = dt.date.fromisoformat(a["date"])
        keys = sorted({" ".join(e["name"].casefold().split()) for e in a["entities"]})
        doc = tantivy.Document(body=a["title"] + "\\n" + a["body"],
                               date=dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc))
        doc.add_unsigned("month", day.year * 100 + day.month)
        for key in keys:
            doc.add_text("entity", key)
        if a.get("source"):
            doc.add_text("source", a["source"])
        writer.add_document(doc)
        count += 1
writer.commit()
writer.wait_merging_threads()
print(count)
"""
    return int(_run(["-c", script, str(index), str(target), str(code)]).split()[-1])


def _run(args: list[str]) -> str:
    """A child process's standard output; its standard error in the exception when it fails."""
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"benchmark child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _tantivy_queries(queries: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for label, q in queries:
        entity = " ".join(q["entity"].casefold().split()) if q["entity"] else None
        out.append((label, {**q, "body": q["text"], "entity": entity}))
    return out


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="a searchlib index (opened read-only)")
    parser.add_argument("--queries", type=Path, default=ROOT / "benchmarks/results/engine6-100000-s42-queries.json")
    parser.add_argument("--code", action="append", default=[], help="LABEL=DIR: searchlib from DIR (default: this one)")
    parser.add_argument(
        "--tantivy-dir", type=Path, help="where tantivy's index of the same articles is (built if missing)"
    )
    parser.add_argument("--reps", type=int, default=5, help="timed calls per query per round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds over every participant")
    parser.add_argument("--related", action="store_true", help="also time related_entities (searchlib only)")
    parser.add_argument("--name", default="facets")
    parser.add_argument("--quick", action="store_true", help="a 300-article index in a temporary folder (CI)")
    args = parser.parse_args(argv)
    codes = [tuple(c.split("=", 1)) for c in args.code] or [("searchlib", str(ROOT))]
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            from searchlib import Index
            from searchlib.sample import sample_corpus_path

            args.index = Path(tmp) / "ix"
            with Index.create(args.index) as ix:
                ix.ingest(sample_corpus_path())
            args.tantivy_dir = Path(tmp) / "tantivy"
            args.name, args.reps, args.rounds = "facets-quick", 2, 1
        queries = picked_queries(args.queries)
        if args.quick:
            queries = [("all", queries[0][1]), ("common", {**queries[0][1], "text": "strike"})]
        participants: list[tuple[str, list[str]]] = []
        for label, code in codes:
            argv_ = [str(Path(code).resolve()), str(args.index), json.dumps(queries), str(args.reps)]
            participants.append((label, ["-c", SEARCHLIB_CHILD, *argv_, "1" if args.related else "0"]))
        tantivy_docs = None
        if args.tantivy_dir is not None:
            if not (args.tantivy_dir / "meta.json").exists():
                tantivy_docs = build_tantivy(args.index, args.tantivy_dir, Path(codes[-1][1]).resolve())
            argv_ = [str(args.tantivy_dir), json.dumps(_tantivy_queries(queries)), str(args.reps)]
            participants.append(("tantivy", ["-c", TANTIVY_CHILD, *argv_]))
        from searchlib import Index

        with Index.open(args.index) as ix:
            articles = len(ix)
        index_bytes = common.dir_size(args.index)
        times: dict[tuple[str, str, str], list[float]] = {}
        for _ in range(args.rounds):
            for label, child in participants:
                for call, per_query in json.loads(_run(child)).items():
                    for kind, values in per_query.items():
                        if call == "first":  # (call kind, the first call's ms) of this process
                            times.setdefault((label, "first", kind), []).extend(values)
                            continue
                        times.setdefault((label, call, kind), []).extend(values)
    return {
        "args": vars(args),
        "times": times,
        "participants": [p for p, _ in participants],
        "tantivy_docs": tantivy_docs,
        "articles": articles,
        "index_bytes": index_bytes,
    }


def report(found: dict[str, Any]) -> str:
    times: dict[tuple[str, str, str], list[float]] = found["times"]
    labels: list[str] = found["participants"]
    medians = {key: statistics.median(values) for key, values in times.items()}
    kinds = [k for k in KINDS if any(key[2] == k for key in times)]
    headers = ["kind", *[f"{label} facets ms" for label in labels]]
    headers += [f"{label} / tantivy" for label in labels if label != "tantivy" and "tantivy" in labels]
    headers += [f"{label} related ms" for label in labels if (label, "related", "all") in medians]
    rows = []
    for kind in kinds:
        row = [kind] + [common.fmt(medians.get((label, "facets", kind)), 2) for label in labels]
        row += [
            common.ratio(medians.get((label, "facets", kind)), medians.get(("tantivy", "facets", kind)))
            for label in labels
            if label != "tantivy" and "tantivy" in labels
        ]
        row += [
            common.fmt(medians.get((label, "related", kind)), 2)
            for label in labels
            if (label, "related", "all") in medians
        ]
        rows.append(row)
    firsts = [
        f"{label} {call} {common.fmt(statistics.median(times[(label, 'first', call)]), 1)} ms"
        for label in labels
        for call in ("facets", "related")
        if (label, "first", call) in times
    ]
    note = f"\n\nFirst call of a fresh process, median over rounds (keys made): {', '.join(firsts)}." if firsts else ""
    return common.table(headers, rows) + note


def main(argv: list[str] | None = None) -> None:
    found = run(argv)
    args = found["args"]
    table = report(found)
    print(table)
    info = {"articles": found["articles"], "bytes": found["index_bytes"], "format": "a searchlib index", "files": 1}
    env = common.environment(info, 42)
    env["corpus"] = f"{found['articles']:,} articles: the index {args['index']}"
    markdown = (
        f"# Facets: {found['participants']}\n\n{common.env_markdown(env)}\n\n"
        f"Median wall ms per call ({args['reps']} timed calls a query after a warm-up, {args['rounds']} alternating "
        f"rounds; {PER_KIND} queries a kind, 'all' = every article).\n\n{table}\n"
    )
    raw = {"times": {"|".join(k): v for k, v in found["times"].items()}, "args": {k: str(v) for k, v in args.items()}}
    path = common.write_result(args["name"], markdown, raw)
    labels = found["participants"]
    kinds = [k for k in KINDS if any(key[2] == k for key in found["times"])]
    medians = {key: statistics.median(v) for key, v in found["times"].items()}
    series = {label: [medians.get((label, "facets", k), 0.0) for k in kinds] for label in labels}
    common.bar_chart(path.with_suffix(".png"), "facets: median ms per call", "ms", kinds, series)  # type: ignore[arg-type]
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
