"""The C span scanner against the regexes, in one process: the compiled extractor run both ways, rounds alternated.

The compiled ``_spans_c`` scans with ``searchlib._scan`` (``_scan.pyx``); with its ``_SCAN``
set to None it scans with the regexes of ``_spans.scan`` instead, all else compiled the same.
Times (CPU) the 126 BBC News test-half articles of 3.5-5.5 KB: cold extraction (memos emptied
first) and ``mentions()`` alone (memos warm), ms per 4.5 KB, median and best of the rounds,
and the median of the per-round ratios. Needs the compiled extractor built
(``SEARCHLIB_COMPILE=1 python setup.py build_ext --inplace``)::

    python benchmarks/entity_scan_time.py --rounds 9
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks.bbc import bbc_articles
    from searchlib import _compiled

    rules = _compiled.compiled_rules()
    if rules is None:
        print("no compiled extractor built from these sources: SEARCHLIB_COMPILE=1 python setup.py build_ext -i")
        return 1
    spans = importlib.import_module("searchlib._spans_c")
    scanner = spans._SCAN
    texts = [a.text for a in bbc_articles() if a.half == "test" and 3500 <= len(a.text) <= 5500]
    scale = 4500 / (sum(map(len, texts)) / len(texts)) / len(texts) * 1000
    cold: dict[str, list[float]] = {"C scanner": [], "regexes": []}
    scan: dict[str, list[float]] = {"C scanner": [], "regexes": []}
    for _ in range(args.rounds):
        for way in cold:
            spans._SCAN = scanner if way == "C scanner" else None
            rules.clear_caches()
            start = time.process_time()
            for text in texts:
                rules.extract(text, True)
            cold[way].append((time.process_time() - start) * scale)
            start = time.process_time()
            for text in texts:
                spans.mentions(text)
            scan[way].append((time.process_time() - start) * scale)
    spans._SCAN = scanner
    for name, times in (("cold extraction", cold), ("mentions(), memos warm", scan)):
        c, r = times["C scanner"], times["regexes"]
        ratio = statistics.median(b / a for a, b in zip(c, r, strict=True))
        print(
            f"{name}: C scanner {statistics.median(c):.3f} (best {min(c):.3f}), regexes {statistics.median(r):.3f} "
            f"(best {min(r):.3f}) ms per 4.5 KB; regexes / C scanner {ratio:.2f}x, {args.rounds} rounds"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
