"""Extraction time of one searchlib version in a fresh process: ms per article, cold and steady state.

The articles are ``bench_entities.py``'s timing set (the hand-annotated set and the first 300
BBC News test-half articles). Two ways, each round starting from empty memos (emptied before
its clock starts), the best round reported, as CPU time of this process:

* cold: the timing set with empty memos (every name is new at its first mention);
* ``--warm``: also the steady state of a long ingest: the memos first filled by extracting the
  1,126 BBC News *dev-half* articles (other articles of the same source; never the timed
  ones), then the timing set timed.

``--long`` times instead the BBC News test-half articles of 3.5-5.5 KB (126, mean ~4.5 KB):
real articles of the size the target is stated for, rather than scaling shorter ones up.

Run it for two versions alternately to compare them without sharing a process
(``bench_entities.py --baseline`` runs them side by side in one); the code under test runs its
compiled extractor when one is built (``SEARCHLIB_PURE_PYTHON=1`` for the pure one)::

    for i in 1 2 3; do
        python benchmarks/entity_time.py /tmp/ent-before --warm; python benchmarks/entity_time.py . --warm
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
    parser.add_argument("--long", action="store_true", help="time the 3.5-5.5 KB test-half articles instead")
    parser.add_argument("--warm", action="store_true", help="also time the steady state (memos filled by the dev half)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    sys.path.append(str(ROOT))
    import searchlib
    from benchmarks.bbc import bbc_articles
    from benchmarks.bench_entities import load_gold

    bbc = bbc_articles()
    if args.long:
        texts = [a.text for a in bbc if a.half == "test" and 3500 <= len(a.text) <= 5500]
    else:
        texts = [d.text for d in load_gold(ROOT / "benchmarks" / "entity_data")]
        texts += [a.text for a in bbc if a.half == "test"][:300]
    dev = [a.text for a in bbc if a.half == "dev"] if args.warm else []
    chars = sum(map(len, texts)) / len(texts)
    extractor = searchlib.RuleExtractor()
    clear = getattr(searchlib.entities, "clear_caches", lambda: None)
    best = {"cold": float("inf"), "warm": float("inf")}
    for _ in range(args.rounds):
        for way in ("cold", "warm") if args.warm else ("cold",):
            clear()
            for text in dev if way == "warm" else ():
                extractor.extract(text)  # fills the memos; not timed
            start = time.process_time()
            for text in texts:
                extractor.extract(text)
            best[way] = min(best[way], (time.process_time() - start) * 1000 / len(texts))
    where = Path(searchlib.__file__).parent
    accelerated = getattr(searchlib.entities, "accelerated", lambda: False)()
    for way in ("cold", "warm") if args.warm else ("cold",):
        ms = best[way]
        print(
            f"{where} ({'compiled' if accelerated else 'pure Python'}), {way}: {ms:.3f} ms per article "
            f"({ms * 4500 / chars:.3f} per 4.5 KB; {len(texts)} articles of {chars:.0f} characters), "
            f"best of {args.rounds}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
