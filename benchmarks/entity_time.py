"""Extraction time of one searchlib version in a fresh process: ms per article, cold rounds.

The articles are ``bench_entities.py``'s timing set (the hand-annotated set and the first 300
BBC News test-half articles). Every round starts from empty memos (emptied before its clock
starts); the best round is reported, as CPU time of this process. Run it for two versions
alternately to compare them without sharing a process (``bench_entities.py --baseline`` runs
them side by side in one)::

    for i in 1 2 3; do
        python benchmarks/entity_time.py /tmp/ent-before; python benchmarks/entity_time.py .
    done
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("code", type=Path, help="a folder holding the searchlib package to time")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    sys.path.append(str(ROOT))
    import searchlib
    from benchmarks.bbc import bbc_articles
    from benchmarks.bench_entities import load_gold

    texts = [d.text for d in load_gold(ROOT / "benchmarks" / "entity_data")]
    texts += [a.text for a in bbc_articles() if a.half == "test"][:300]
    chars = sum(map(len, texts)) / len(texts)
    extractor = searchlib.RuleExtractor()
    clear = getattr(searchlib.entities, "clear_caches", lambda: None)
    best = float("inf")
    for _ in range(args.rounds):
        clear()
        start = time.process_time()
        for text in texts:
            extractor.extract(text)
        best = min(best, (time.process_time() - start) * 1000 / len(texts))
    where = Path(searchlib.__file__).parent
    print(f"{where}: {best:.3f} ms per article ({best * 4500 / chars:.3f} per 4.5 KB), best of {args.rounds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
