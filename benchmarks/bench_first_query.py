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
import json, sys, time
import searchlib
path, first, second = sys.argv[1:4]
t0, c0 = time.perf_counter(), time.process_time()
ix = searchlib.Index.open(path)
t1, c1 = time.perf_counter(), time.process_time()
total = ix.search(first, highlight=None).total
t2, c2 = time.perf_counter(), time.process_time()
ix.search(second, highlight=None)
t3 = time.perf_counter()
ix.close()
ms = {"open": (t1 - t0) * 1000, "first": (t2 - t1) * 1000, "second": (t3 - t2) * 1000, "first_cpu": (c2 - c1) * 1000}
print(json.dumps({"package": searchlib.__file__, "total": total, **ms}))
"""


def _pairs(values: list[str], default: tuple[str, str]) -> list[tuple[str, str]]:
    found = [tuple(v.split("=", 1)) for v in values]
    if any(len(p) != 2 for p in found):
        raise SystemExit("expected LABEL=PATH")
    return [(a, b) for a, b in found] or [default]


def _run(code: str, index: str, first: str, second: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([code, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(Path(index).resolve()), first, second],
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
        for _ in range(args.runs):
            for code_label, index_label in runs:
                found = _run(code_dirs[code_label], index_paths[index_label], args.first, args.second)
                runs[code_label, index_label].append(found)
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


if __name__ == "__main__":
    main()
