"""The issue's performance targets, checked against one run's index and search results.

    python benchmarks/targets.py full-100000-s42-text
    python benchmarks/targets.py full-100000-s42-text --search search-100000-s42-text

Reads ``results/<name>-index.json`` and ``results/<search name>-search.json`` (the same name
unless ``--search`` is given) and writes ``results/<name>-targets.md``: one row per target with
the measured numbers, the ratio to raw Whoosh and whether it is met.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common

GB = 1024**3


def _load(name: str) -> dict[str, Any]:
    return json.loads((common.RESULTS / f"{name}.json").read_text("utf-8"))  # type: ignore[no-any-return]


def _status(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _latency_rows(search: dict[str, Any]) -> list[list[str]]:
    mine, whoosh = search["stats"]["searchlib"], search["stats"]["whoosh"]
    rows = []
    for kind, label, half in (
        ("common", "term (common word)", False),
        ("rare", "term (rare word)", False),
        ("and2", "AND, 2 words", True),
        ("and3", "AND, 3 words", True),
        ("or2", "OR, 2 words", False),
        ("phrase", "phrase, 2 words", True),
    ):
        a, b = mine[kind], whoosh[kind]
        p50, p95 = b["p50"] / a["p50"], b["p95"] / a["p95"]
        status = _status(p50 >= 1 and p95 >= 1)
        target = f"{label}: p50 and p95 no worse than whoosh"
        if half:
            target += "; p95 at most half of whoosh's"
            status += f"; half: {_status(p95 >= 2)}"
        measured = f"p50 {a['p50']:.2f} / p95 {a['p95']:.2f} ms vs whoosh {b['p50']:.2f} / {b['p95']:.2f} ms"
        rows.append([target, measured, f"p50 {p50:.2f}x, p95 {p95:.2f}x", status])
    for kind, label in (("date", "date range"), ("entity", "entity-filtered (word + entity)")):
        a, b = mine[kind], whoosh[kind]
        ratio = b["p50"] / a["p50"]
        measured = f"p50 {a['p50']:.2f} ms vs whoosh {b['p50']:.2f} ms"
        rows.append([f"{label}: p50 at least 20x faster than whoosh", measured, f"{ratio:.1f}x", _status(ratio >= 20)])
    a, b = mine["term_date"], whoosh["term_date"]
    measured = f"p50 {a['p50']:.2f} ms vs whoosh {b['p50']:.2f} ms"
    rows.append(["(word + date range, for reference)", measured, f"{b['p50'] / a['p50']:.1f}x", "-"])
    return rows


def targets(index: dict[str, Any], search: dict[str, Any]) -> str:
    results = index["results"]
    whoosh = results["whoosh"]
    rows: list[list[str]] = []
    if "searchlib-2w" in results:
        fast = results["searchlib-2w"]
        ratio = whoosh["seconds"] / fast["seconds"]
        rss = fast["peak_rss"] / GB
        rows.append(
            [
                "indexing: at least 3x raw Whoosh's docs/s on both cores, peak memory under 1.5 GB",
                f"searchlib-2w {fast['seconds']:.0f} s vs whoosh {whoosh['seconds']:.0f} s; peak RSS {rss:.2f} GB",
                f"{ratio:.2f}x",
                _status(ratio >= 3 and rss < 1.5),
            ]
        )
    reingest = index.get("reingest")
    if reingest:
        first = results["searchlib"]["seconds"]
        speedup = first / reingest["seconds"]
        rows.append(
            [
                "re-ingesting an unchanged corpus at least 10x faster than the first ingest",
                f"{reingest['seconds']:.1f} s vs {first:.1f} s",
                f"{speedup:.1f}x",
                _status(speedup >= 10),
            ]
        )
    rows += _latency_rows(search)
    hl = search.get("highlight") or {}
    median = hl.get("median_ms_per_hit")
    if median is not None:
        rows.append(
            [
                "highlighting under 0.5 ms per hit (median)",
                f"median {median:.2f} ms, mean {hl['ms_per_hit']:.2f} ms over {hl['hits']} hits",
                "-",
                _status(median < 0.5),
            ]
        )
    opened = search["open_ms"]
    ratio = opened["whoosh"] / opened["searchlib"]
    first = search.get("first_query_ms", {})
    extra = f"; first query {first['searchlib']:.1f} vs {first['whoosh']:.1f} ms" if first else ""
    rows.append(
        [
            "opening the index at most a third of raw Whoosh's open time",
            f"{opened['searchlib']:.1f} ms vs whoosh {opened['whoosh']:.1f} ms{extra}",
            f"{ratio:.1f}x",
            _status(ratio >= 3),
        ]
    )
    articles = index["corpus"]["articles"]
    head = [
        f"# Targets at {articles:,} articles",
        "",
        f"- index run: {index['env']['date']}, searchlib {index['env']['searchlib source']}",
        f"- search run: {search['env']['date']}, searchlib {search['env']['searchlib source']}",
        "",
        "Ratios are whoosh's time over searchlib's (> 1: searchlib faster). searchlib also counts every",
        "match on every search; the raw Whoosh runner collects the top 10 only.",
        "",
    ]
    return "\n".join(head) + "\n" + common.table(["target", "measured", "ratio", "status"], rows) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="result name of the index run, e.g. full-100000-s42-text")
    parser.add_argument("--search", help="result name of the search run (default: the same)")
    args = parser.parse_args(argv)
    markdown = targets(_load(f"{args.name}-index"), _load(f"{args.search or args.name}-search"))
    path = common.RESULTS / f"{args.name}-targets.md"
    path.write_text(markdown, "utf-8")
    print(markdown)
    print(f"written: {path.relative_to(common.ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
