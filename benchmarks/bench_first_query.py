"""Open time and first-query time of an index, in fresh processes, code versions side by side.

Each run is a new Python process (nothing warm: no term dictionary, no per-commit column)
that times ``Index.open``, the first ``Index.search(QUERY, highlight=None)`` (wall clock, and
the process's CPU time: steadier on a shared machine) and a second search of another word.
Runs of every (code, index) pair are interleaved, so a busy machine
slows them alike; the table gives medians over ``--runs`` and each pair's first-query ratio to
the first pair. ``--code LABEL=DIR`` puts ``DIR`` first on the path (say, an exported older
commit: ``git archive <commit> | tar -x -C /tmp/before``); ``--index LABEL=PATH`` picks the
index (opened read-only). Usage::

    python benchmarks/bench_first_query.py --runs 9 --code before=/tmp/before --code after=. \\
        --index 100k=benchmarks/data/indexes/corpus-text-100000-s42/searchlib

``--pair CODE_LABEL/INDEX_LABEL`` (repeatable) runs only those pairs (older code must not open
an index whose sidecars it cannot read: it would rebuild and rewrite them).
    python benchmarks/bench_first_query.py --quick   # CI: a 300-article index in a temporary folder
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402

CHILD = """
import collections, json, sys, time
import searchlib
path, first, second, phases = sys.argv[1:5]
spent = collections.Counter()

def timed(owner, name, label):  # CPU time inside owner.name, when this code has it
    inner = getattr(owner, name, None)
    if inner is None:
        return
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - start
    setattr(owner, name, wrapper)

if phases == "1":
    from searchlib._whoosh import engine, sidecar, store, search
    timed(store.Backend, "_checkout", "Whoosh searcher")
    timed(engine, "_hold_files", "hold stored/body files")
    timed(sidecar, "load", "sidecar load")
    timed(engine.ColumnarSnapshot, "_collect_stats", "statistics")
    timed(engine.ColumnarSnapshot, "_docs", "matching + BM25F")
    timed(engine.ColumnarSnapshot, "_local_id_ranks", "tie-break ids")
    timed(search, "load_articles", "stored articles of the page")
t0, c0 = time.perf_counter(), time.process_time()
ix = searchlib.Index.open(path)
t1, c1 = time.perf_counter(), time.process_time()
total = ix.search(first, highlight=None).total
t2, c2 = time.perf_counter(), time.process_time()
if second:
    ix.search(second, highlight=None)
t3 = time.perf_counter()
ix.close()
ms = {"open": (t1 - t0) * 1000, "first": (t2 - t1) * 1000, "second": (t3 - t2) * 1000, "first_cpu": (c2 - c1) * 1000}
phase = {"phase:" + label: seconds * 1000 for label, seconds in spent.items()}  # (no second query then)
print(json.dumps({"package": searchlib.__file__, "total": total, **ms, **phase}))
"""


def _pairs(values: list[str], default: tuple[str, str]) -> list[tuple[str, str]]:
    found = [tuple(v.split("=", 1)) for v in values]
    if any(len(p) != 2 for p in found):
        raise SystemExit("expected LABEL=PATH")
    return [(a, b) for a, b in found] or [default]


def _run(code: str, index: str, first: str, second: str, phases: bool = False) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([code, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(Path(index).resolve()), first, second, "1" if phases else "0"],
        env=env,
        cwd=Path(code).resolve().parent,  # ``-c`` puts the working folder first on the path: not this checkout
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    package = result.pop("package")
    if not Path(str(package)).resolve().is_relative_to(Path(code).resolve()):
        raise SystemExit(f"{code}: the child imported {package}")
    return result


def _quick_index(folder: Path) -> str:
    import random

    from searchlib import Article, Index, NoExtractor

    rng = random.Random(42)
    words = ["market", "harbor", "storm", "council", "vote", "budget", "talks", "bank", "rates", "minister"]
    with Index.create(folder, extractor=NoExtractor()) as ix:
        for start in (0, 150):  # two segments
            ix.add(
                *(
                    Article(id=f"a{i}", date="2024-01-02", body=" ".join(rng.choices(words, k=40)))
                    for i in range(start, start + 150)
                )
            )
    return str(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", action="append", default=[], help="LABEL=DIR of the searchlib package to run")
    parser.add_argument("--index", action="append", default=[], help="LABEL=PATH of an index")
    parser.add_argument("--pair", action="append", default=[], help="CODE_LABEL/INDEX_LABEL to run (default: all)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--first", default="market")
    parser.add_argument("--second", default="harbor")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--phases",
        action="store_true",
        help="also time (CPU) the first query's phases in separate runs: what remains of it, per pair",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            args.runs = 2
            args.index = [f"quick={_quick_index(Path(tmp) / 'ix')}"]
        codes = _pairs(args.code, ("this", str(ROOT)))
        indexes = _pairs(args.index, ("", ""))
        if indexes == [("", "")]:
            raise SystemExit("give --index LABEL=PATH (or --quick)")
        wanted = {tuple(p.split("/", 1)) for p in args.pair}
        runs: dict[tuple[str, str], list[dict[str, float]]] = {
            (c, i): [] for c, _ in codes for i, _ in indexes if not wanted or (c, i) in wanted
        }
        code_dirs, index_paths = dict(codes), dict(indexes)
        phased: dict[tuple[str, str], list[dict[str, float]]] = {pair: [] for pair in runs}
        for _ in range(args.runs):
            for code_label, index_label in runs:
                found = _run(code_dirs[code_label], index_paths[index_label], args.first, args.second)
                runs[code_label, index_label].append(found)
                if args.phases:
                    phased[code_label, index_label].append(
                        _run(code_dirs[code_label], index_paths[index_label], args.first, "", phases=True)
                    )
    rows = []
    base = None
    for (code_label, index_label), found in runs.items():
        medians = {k: statistics.median(r[k] for r in found) for k in ("open", "first", "second", "first_cpu")}
        base = base or medians["first"]
        rows.append(
            [
                code_label,
                index_label,
                common.fmt(medians["open"], 1),
                common.fmt(medians["first"], 1),
                common.fmt(medians["first_cpu"], 1),
                common.fmt(medians["second"], 1),
                f"{medians['first'] / base:.2f}x",
                str(int(found[0]["total"])),
            ]
        )
    print(f"medians of {args.runs} fresh processes; first = {args.first!r}, second = {args.second!r}")
    headers = [
        "code",
        "index",
        "open ms",
        "first query ms",
        "first query CPU ms",
        "second query ms",
        "first / first row",
        "total",
    ]
    print(common.table(headers, rows))
    if args.phases:
        _print_phases(phased)


def _print_phases(phased: dict[tuple[str, str], list[dict[str, float]]]) -> None:
    """Median CPU ms of each timed phase of the first query, per pair (runs without a second query)."""
    labels = sorted({k for found in phased.values() for r in found for k in r if k.startswith("phase:")})
    rows = []
    for (code_label, index_label), found in phased.items():
        cells = [common.fmt(statistics.median(r.get(label, 0.0) for r in found), 2) for label in labels]
        first = common.fmt(statistics.median(r["first_cpu"] for r in found), 1)
        rows.append([code_label, index_label, first, *cells])
    print("\nCPU ms of the first query's phases (medians; separate runs, the profiled functions wrapped):")
    print(common.table(["code", "index", "first query CPU ms", *(label[6:] for label in labels)], rows))


if __name__ == "__main__":
    main()
