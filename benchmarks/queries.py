"""Seeded, engine-neutral query sets drawn from a corpus's vocabulary and entity pool.

Each :class:`Query` says *what* to find (terms and how they combine, an entity that must be
mentioned, a date range); the adapters in :mod:`benchmarks.engines` translate it into each
engine's own query language. Kinds:

=============  ==================================================================
``common``     one frequent word (in >= ~25% of articles)
``rare``       one word seen in at most 3 articles of the sample
``and2``       two mid-frequency words from the same article, both required
``and3``       three mid-frequency words from the same article, all required
``or2``        two mid-frequency words, either one
``phrase``     two adjacent non-stop words from an article, as a phrase
``entity``     a frequent word, filtered to articles mentioning a popular entity
``date``       a date range of 1-6 months alone (filter only, no text)
``term_date``  a frequent word, filtered to a date range of 1-12 months
=============  ==================================================================
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.corpus import DATE_FIRST, DATE_LAST, Doc, Pools, iter_docs

__all__ = ["KINDS", "Query", "generate_queries", "load_queries", "save_queries"]

KINDS = ("common", "rare", "and2", "and3", "or2", "phrase", "entity", "date", "term_date")
STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "for",
        "from",
        "have",
        "if",
        "in",
        "is",
        "it",
        "may",
        "not",
        "of",
        "on",
        "or",
        "tbd",
        "that",
        "the",
        "this",
        "to",
        "us",
        "we",
        "when",
        "will",
        "with",
        "yet",
        "you",
        "your",
    ]
)
_WORD = re.compile(r"[a-z]+")
SAMPLE_DOCS = 2000


@dataclass(frozen=True)
class Query:
    """One engine-neutral query. ``op`` says how ``terms`` combine: and, or, phrase (none: no text)."""

    kind: str
    terms: tuple[str, ...] = ()
    op: str = "and"
    entity: str | None = None
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None

    @property
    def label(self) -> str:
        text = {"and": " AND ", "or": " OR ", "phrase": " "}.get(self.op, " ").join(self.terms)
        if self.op == "phrase":
            text = f'"{text}"'
        extra = []
        if self.entity:
            extra.append(f"entity={self.entity!r}")
        if self.date_from:
            extra.append(f"date={self.date_from}..{self.date_to}")
        return " ".join([text, *extra]).strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _range(rng: random.Random, min_days: int, max_days: int) -> tuple[str, str]:
    length = rng.randint(min_days, max_days)
    start = DATE_FIRST + dt.timedelta(days=rng.randint(0, (DATE_LAST - DATE_FIRST).days - length))
    return start.isoformat(), (start + dt.timedelta(days=length)).isoformat()


def generate_queries(docs: Iterable[Doc], seed: int, per_kind: int, pools: Pools | None = None) -> list[Query]:
    """``per_kind`` queries of every kind in :data:`KINDS`, deterministic for ``docs`` and ``seed``."""
    sample = [d for _, d in zip(range(SAMPLE_DOCS), docs, strict=False)]
    if not sample:
        raise ValueError("empty corpus")
    rng = random.Random(f"queries-{seed}")
    pools = pools or Pools(seed)
    vocab = set(pools.vocab)
    df: Counter[str] = Counter()
    for doc in sample:
        df.update({w for w in _words(doc.body) if w in vocab and w not in STOP and len(w) > 2})
    n = len(sample)
    by_df = [w for w, _ in df.most_common()]
    common = [w for w in by_df if df[w] >= 0.25 * n][:150] or by_df[:50]
    mid = [w for w in by_df if 0.02 * n <= df[w] <= 0.25 * n] or by_df[50:500]
    rare = [w for w in by_df if df[w] <= 3][:5000] or by_df[-100:]
    popular = [e for e in pools.entities[:300] if any(e in d.body for d in sample[:300])] or pools.entities[:50]

    def from_one_doc(k: int) -> tuple[str, ...]:
        mids = set(mid)
        for _ in range(100):
            words = sorted({w for w in _words(rng.choice(sample).body) if w in mids})
            if len(words) >= k:
                return tuple(rng.sample(words, k))
        return tuple(rng.sample(mid, k))

    def phrase() -> tuple[str, ...]:
        for _ in range(100):
            sentence = rng.choice(re.split(r"[.,\n]", rng.choice(sample).body)).lower().split()
            pairs = [
                (a, b)
                for a, b in itertools.pairwise(sentence)
                if a.isalpha() and b.isalpha() and len(a) > 2 and len(b) > 2 and not {a, b} & STOP
            ]
            if pairs:
                return rng.choice(pairs)
        return tuple(rng.sample(common, 2))

    out: list[Query] = []
    for _ in range(per_kind):
        out.append(Query("common", (rng.choice(common),)))
        out.append(Query("rare", (rng.choice(rare),)))
        out.append(Query("and2", from_one_doc(2)))
        out.append(Query("and3", from_one_doc(3)))
        out.append(Query("or2", tuple(rng.sample(mid, 2)), op="or"))
        out.append(Query("phrase", phrase(), op="phrase"))
        out.append(Query("entity", (rng.choice(common),), entity=rng.choice(popular)))
        start, end = _range(rng, 30, 180)
        out.append(Query("date", (), op="none", date_from=start, date_to=end))
        start, end = _range(rng, 30, 365)
        out.append(Query("term_date", (rng.choice(common),), date_from=start, date_to=end))
    return sorted(out, key=lambda q: KINDS.index(q.kind))


def save_queries(queries: list[Query], path: Path) -> None:
    path.write_text(json.dumps([asdict(q) for q in queries], indent=1) + "\n", "utf-8")


def load_queries(path: Path) -> list[Query]:
    return [Query(**{**obj, "terms": tuple(obj["terms"])}) for obj in json.loads(path.read_text("utf-8"))]


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Print a seeded query set for a corpus directory.")
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--per-kind", type=int, default=3)
    args = parser.parse_args()
    for query in generate_queries(iter_docs(args.corpus), args.seed, args.per_kind):
        print(f"{query.kind:10} {query.label}")


if __name__ == "__main__":
    main()
