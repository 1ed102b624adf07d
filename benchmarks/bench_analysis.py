"""Analysis and upgrade speed: format 8's analysis (accent folding) against format 7's, same run.

Per article body of the seeded corpus, median of ``--repeats`` passes over all of them:

* ``whoosh chain``: Whoosh's StemmingAnalyzer (format 7's field analyzer, token objects);
* ``format 7 one-pass``: the indexer's analysis before searchlib.analysis (copied below);
* ``format 8``: :func:`searchlib.analysis.positions` (with accent folding);

each on the bodies as generated (ASCII) and with every "e" written "é" (every word with an
e takes the folding path). Then highlighting's candidate scan (:func:`find_terms`) on both,
and ``Index.upgrade`` of an index of the same articles (its marker set back to format 7; the
stored layout is the same) against building that index, in one process and with 2 workers.

Usage::

    python benchmarks/bench_analysis.py --articles 2000 --repeats 5
    python benchmarks/bench_analysis.py --quick
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from whoosh import analysis as whoosh_analysis
from whoosh.lang.porter import stem as whoosh_stem

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import ensure_corpus, iter_docs
from searchlib import Article, Index, NoExtractor, analysis
from searchlib._whoosh import store

_WORD = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)
_STEMS: dict[str, str] = {}


def format7_positions(text: str) -> dict[str, list[int]]:
    """searchlib's one-pass analysis before format 8 (the old fastwrite.analyze_positions), for comparison."""
    poses: dict[str, list[int]] = {}
    stoplist, stems = analysis.STOP_WORDS, _STEMS
    pos = raw = -1
    for word in _WORD.findall(text):
        raw += 1
        word = word.lower()
        if len(word) < 2 or word in stoplist:
            continue
        pos = raw if pos < 0 else pos + 1
        term = stems.get(word)
        if term is None:
            term = stems[word] = whoosh_stem(word)
        found = poses.get(term)
        if found is None:
            poses[term] = [pos]
        else:
            found.append(pos)
    return poses


WHOOSH = whoosh_analysis.StemmingAnalyzer(stoplist=analysis.STOP_WORDS, minsize=2, cachesize=100_000)


def whoosh_positions(text: str) -> list[tuple[str, int]]:
    return [(t.text, t.pos) for t in WHOOSH(text, positions=True)]


def _medians_ms(fns: list[Callable[[str], object]], texts: list[str], repeats: int) -> list[float]:
    """Median ms per text of each function, the functions taking turns in every repeat (load is shared)."""
    runs: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, spent in zip(fns, runs, strict=True):
            t = time.perf_counter()
            for text in texts:
                fn(text)
            spent.append(time.perf_counter() - t)
    return [statistics.median(spent) / len(texts) * 1e3 for spent in runs]


def _upgrade(articles: list[Article]) -> tuple[float, float, float]:
    """Seconds to build an index (one process), to upgrade it, and to upgrade it with 2 workers."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ix"
        t = time.perf_counter()
        with Index.create(path, extractor=NoExtractor()) as ix:
            ix.add(*articles)
        built = time.perf_counter() - t
        spent = []
        for workers in (1, 2):
            marker = path / "searchlib.json"
            data = json.loads(marker.read_text("utf-8"))
            marker.write_text(json.dumps({**data, "format": 7}), "utf-8")
            t = time.perf_counter()
            report = Index.upgrade(path, workers=workers)
            spent.append(time.perf_counter() - t)
            assert report.articles == len(articles), report
    return built, spent[0], spent[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="200 articles, 2 repeats (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.repeats = 200, 2
    corpus, _ = ensure_corpus(Path(__file__).parent / "data", max(args.articles, 300), 42)
    bodies = []
    for doc in iter_docs(corpus):
        bodies.append(doc.body)
        if len(bodies) == args.articles:
            break
    accented = [b.replace("e", "é") for b in bodies]
    assert all(format7_positions(b) == analysis.positions(b) for b in bodies[:50])  # same terms on ASCII
    store.FSYNC = False
    print(f"{len(bodies)} articles, {statistics.mean(len(b) for b in bodies):,.0f} characters each on average")
    print(f"{'ms per article (median)':>29} {'ASCII':>8} {'accented':>9}")
    wanted = frozenset(analysis.terms("market prices strike"))

    def scan(text: str) -> object:
        return analysis.find_terms(text, wanted)

    names = ["whoosh chain (format 7)", "format 7 one-pass", "format 8 (searchlib.analysis)"]
    names += ["highlight scan (find_terms)"]
    fns = [whoosh_positions, format7_positions, analysis.positions, scan]
    plain, marked = (_medians_ms(fns, texts, args.repeats) for texts in (bodies, accented))
    for name, a, b in zip(names, plain, marked, strict=True):
        print(f"{name:>29} {a:8.3f} {b:9.3f}")
    built, upgraded, parallel = _upgrade([Article(date="2024-01-01", body=b) for b in bodies])
    n = len(bodies)
    print(f"build {built:.2f} s ({n / built:,.0f} articles/s)")
    print(f"upgrade {upgraded:.2f} s ({n / upgraded:,.0f} articles/s), {upgraded / built:.2f}x the build")
    rate = n / parallel
    print(f"upgrade, 2 workers {parallel:.2f} s ({rate:,.0f} articles/s), {parallel / upgraded:.2f}x one process")


if __name__ == "__main__":
    main()
