"""A seeded, streaming synthetic news corpus: generator, reader and CLI.

The generator keeps constant memory at any size: articles are produced one at a time from
a seeded RNG and written straight to disk, ``--per-file`` articles per file. Words are drawn
from the ``wordfreq`` top-N English list with Zipfian weights; a pool of invented people,
organisations and places (multi-word names, Zipfian popularity) is mentioned in the text;
dates spread over several years; some paragraphs are short sub-heading lines.

Formats (both read by ``searchlib.Index.ingest``):

* ``text``: each article starts with ``date YYYY-MM-DD <lead sentence>``, paragraphs are
  separated by blank lines, many articles per ``.txt`` file;
* ``jsonl``: one ``{"date", "body", "source"}`` object per line.

Usage::

    python -m benchmarks.corpus --articles 10000 --seed 42 --out benchmarks/data/corpus --format text
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from searchlib.models import derive_id

__all__ = ["DATE_FIRST", "DATE_LAST", "Doc", "Pools", "ensure_corpus", "generate", "iter_docs", "manifest"]

VOCAB_SIZE = 20_000
DATE_FIRST = dt.date(2019, 1, 1)
DATE_LAST = dt.date(2024, 12, 31)
SOURCES = ("Daily Ledger", "Evening Wire", "North Courier", "Harbor Post", "Metro Dispatch", "Civic Review")
_SYLLABLES = [
    "ka",
    "ro",
    "mi",
    "ta",
    "len",
    "dor",
    "vin",
    "sa",
    "be",
    "lu",
    "qua",
    "zen",
    "mar",
    "to",
    "fi",
    "nel",
    "os",
    "ra",
    "gri",
    "ven",
    "tal",
    "hu",
    "ber",
    "cas",
    "mo",
    "ri",
    "an",
    "el",
    "dra",
    "kin",
    "vos",
    "ul",
    "pe",
    "sto",
    "ham",
    "ril",
    "yor",
    "ek",
]
_ORG_SUFFIX = ("Group", "Corporation", "Ministry", "Party", "Union", "Bank", "Institute", "Holdings", "Council")
_PLACE_SUFFIX = ("City", "Valley", "Province", "Bay", "Heights", "Harbor", "Springs")
_SAY = ("said", "told reporters", "according to", "announced", "warned", "confirmed")
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Doc:
    """One article as every engine sees it; ``id`` equals searchlib's derived id."""

    id: str
    date: dt.date
    body: str
    source: str | None


def _zipf_cum(n: int, s: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, n + 1)))


def _vocabulary(size: int = VOCAB_SIZE) -> list[str]:
    """The ``size`` most frequent plain English words (ships inside the wordfreq wheel; offline)."""
    try:
        from wordfreq import top_n_list
    except ImportError:
        raise SystemExit("the corpus generator needs wordfreq: pip install -e '.[bench]'") from None

    words = [w for w in top_n_list("en", int(size * 1.2)) if w.isascii() and w.isalpha() and (len(w) > 1 or w in "ai")]
    return words[:size]


def _invented(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(low, high))).capitalize()


class Pools:
    """Vocabulary and entity pools with Zipfian sampling, fully determined by ``seed``."""

    def __init__(self, seed: int, *, people: int = 1500, orgs: int = 400, places: int = 400) -> None:
        rng = random.Random(f"pools-{seed}")
        self.vocab = _vocabulary()
        self._vocab_cum = _zipf_cum(len(self.vocab))
        self.people = _unique(rng, people, lambda: f"{_invented(rng, 2, 3)} {_invented(rng, 2, 4)}")
        self.orgs = _unique(rng, orgs, lambda: f"{_invented(rng, 2, 3)} {rng.choice(_ORG_SUFFIX)}")
        self.places = _unique(rng, places, lambda: f"{_invented(rng, 2, 3)} {rng.choice(_PLACE_SUFFIX)}")
        self.entities = self.people + self.orgs + self.places
        rng.shuffle(self.entities)  # popularity rank independent of kind
        self._entity_cum = _zipf_cum(len(self.entities), 1.1)

    def words(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.vocab, cum_weights=self._vocab_cum, k=k)

    def entity(self, rng: random.Random) -> str:
        return rng.choices(self.entities, cum_weights=self._entity_cum, k=1)[0]


def _unique(rng: random.Random, n: int, make: object) -> list[str]:
    out: dict[str, None] = {}
    while len(out) < n:
        out[make()] = None  # type: ignore[operator]
    return list(out)


def _sentence(pools: Pools, rng: random.Random) -> str:
    words = pools.words(rng, rng.randint(8, 24))
    if rng.random() < 0.35:
        pos = rng.randint(1, len(words))
        words[pos:pos] = [pools.entity(rng), rng.choice(_SAY)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def _article(pools: Pools, rng: random.Random) -> tuple[dt.date, str]:
    """(date, body) with a lead paragraph, body paragraphs and occasional sub-headings."""
    target = min(1500, max(250, int(rng.lognormvariate(6.55, 0.45))))
    span = (DATE_LAST - DATE_FIRST).days
    date = DATE_FIRST + dt.timedelta(days=rng.randint(0, span))
    paragraphs: list[str] = []
    count = 0
    while count < target:
        if paragraphs and rng.random() < 0.12:
            heading = " ".join(w.capitalize() for w in pools.words(rng, rng.randint(2, 5)))
            paragraphs.append(heading)
        sentences = [_sentence(pools, rng) for _ in range(rng.randint(2, 6))]
        if rng.random() < 0.5:  # every article names someone early on
            sentences[0] = sentences[0][:-1] + f", {pools.entity(rng)} {rng.choice(_SAY)}."
        paragraphs.append(" ".join(sentences))
        count += sum(s.count(" ") + 1 for s in sentences)
    return date, "\n\n".join(paragraphs)


def _text_record(date: dt.date, body: str) -> str:
    lead, _, rest = body.partition(". ")
    first = f"date {date.isoformat()} {lead}." if rest else f"date {date.isoformat()} {lead}"
    return first + ("\n" + rest if rest else "") + "\n\n"


def generate(out: Path, articles: int, seed: int, fmt: str = "text", per_file: int = 1000) -> dict[str, object]:
    """Write ``articles`` articles under ``out``; returns (and saves) the manifest."""
    if fmt not in ("text", "jsonl"):
        raise ValueError(f"unknown format {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    for old in itertools.chain(out.glob("part-*.txt"), out.glob("part-*.jsonl")):
        old.unlink()
    pools = Pools(seed)
    rng = random.Random(f"articles-{seed}")
    suffix = ".txt" if fmt == "text" else ".jsonl"
    written = total_bytes = files = 0
    while written < articles:
        path = out / f"part-{files:05d}{suffix}"
        with open(path, "w", encoding="utf-8") as fh:
            for _ in range(min(per_file, articles - written)):
                date, body = _article(pools, rng)
                if fmt == "text":
                    fh.write(_text_record(date, body))
                else:
                    record = {"date": date.isoformat(), "body": body, "source": rng.choice(SOURCES)}
                    fh.write(json.dumps(record) + "\n")
                written += 1
        total_bytes += path.stat().st_size
        files += 1
    info: dict[str, object] = {"articles": written, "bytes": total_bytes, "files": files, "seed": seed, "format": fmt}
    (out / MANIFEST).write_text(json.dumps(info, indent=2) + "\n", "utf-8")
    return info


def manifest(corpus: Path) -> dict[str, object] | None:
    """The manifest of a complete corpus directory, or ``None``."""
    try:
        return json.loads((corpus / MANIFEST).read_text("utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def ensure_corpus(root: Path, articles: int, seed: int, fmt: str = "text") -> tuple[Path, dict[str, object]]:
    """A complete corpus for these parameters under ``root`` (generated once, then reused)."""
    path = root / f"corpus-{fmt}-{articles}-s{seed}"
    info = manifest(path)
    if info is None or info.get("articles") != articles:
        info = generate(path, articles, seed, fmt)
    return path, info


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(itertools.chain(corpus.glob("part-*.txt"), corpus.glob("part-*.jsonl")))


_HEADER = re.compile(r"^date (\d{4}-\d{2}-\d{2}) ?(.*)$")


def iter_docs(corpus: Path) -> Iterator[Doc]:
    """Stream the articles of a corpus directory (either format) with searchlib-compatible ids."""
    for path in corpus_files(corpus):
        with open(path, encoding="utf-8") as fh:
            if path.suffix == ".jsonl":
                for line in fh:
                    if line.strip():
                        obj = json.loads(line)
                        date = dt.date.fromisoformat(obj["date"])
                        yield Doc(derive_id(date, obj["body"]), date, obj["body"], obj.get("source"))
                continue
            date: dt.date | None = None
            lines: list[str] = []
            for line in fh:
                match = _HEADER.match(line)
                if match:
                    if date is not None:
                        yield _text_doc(date, lines)
                    date, lines = dt.date.fromisoformat(match.group(1)), [match.group(2)]
                elif date is not None:
                    lines.append(line.rstrip("\n"))
            if date is not None:
                yield _text_doc(date, lines)


def _text_doc(date: dt.date, lines: list[str]) -> Doc:
    body = re.sub(r"\n\s*\n+", "\n\n", "\n".join(lines).strip())
    return Doc(derive_id(date, body), date, body, None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data/corpus"))
    parser.add_argument("--format", choices=("text", "jsonl"), default="text")
    parser.add_argument("--per-file", type=int, default=1000)
    args = parser.parse_args(argv)
    info = generate(args.out, args.articles, args.seed, args.format, args.per_file)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
