"""An index's size on disk: postings + columns against stored text, per file kind and per sidecar array.

Issue 9's target is "postings + columns <= 300 MB at 100,000 articles, stored text reported
apart". This reads an index folder (nothing is opened through searchlib, nothing written) and
sorts every file into one of the two:

- **stored text**: the articles as stored, read only to show results and highlight --
  ``body_text.col`` (the body) and ``_stored.col`` (Whoosh's stored fields);
- **postings + columns**: everything a query reads -- the sidecar (``.cols.bin``: the text
  fields' postings and positions, the keyword fields' document lists, term dictionaries, dates,
  field lengths), Whoosh's keyword postings (``.pst`` + ``.trm``; empty since index format
  10) and the per-document Whoosh columns (sketch, group, date; facets up to sidecar version
  7, since then the sidecar's facet table).

The sidecar is then broken down per array from its manifest (``.cols.json``), summed over
segments, largest first. Usage::

    python benchmarks/index_size.py benchmarks/data/indexes/corpus-text-100000-s42/searchlib
    python benchmarks/index_size.py --quick   # CI: a 300-article, 2-segment index in a temporary folder
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STORED_TEXT = ("body_text.col", "_stored.col")
"""File kinds that hold the articles' text as stored (reported apart from postings + columns)."""

_SEGMENT_FILE = re.compile(r"^MAIN_[0-9a-z]+\.(?P<kind>.+)$")
MB = 1e6


def kind_of(name: str) -> str:
    """The kind of an index file: what follows the segment id (``cols.bin``, ``pst``, ...), or the name."""
    found = _SEGMENT_FILE.match(name)
    if found is None:
        return name if not name.endswith(".toc") else "toc"
    kind = found.group("kind")
    return "lengths (.col)" if kind.endswith("_len.col") else kind


def measure(folder: Path) -> dict[str, object]:
    """Bytes per file kind, per sidecar array (summed over segments), and the two totals."""
    kinds: collections.Counter[str] = collections.Counter()
    arrays: collections.Counter[str] = collections.Counter()
    segments = 0
    versions: set[int] = set()
    for path in sorted(folder.iterdir()):
        if not path.is_file() or ".tmp" in path.name:
            continue
        kinds[kind_of(path.name)] += path.stat().st_size
        if path.name.endswith(".cols.json"):
            manifest = json.loads(path.read_text("utf-8"))
            segments += 1
            versions.add(int(manifest["version"]))
            for name, (dtype, _at, length) in manifest["arrays"].items():
                arrays[name] += int(dtype[2:]) * int(length)
    stored = sum(size for kind, size in kinds.items() if kind in STORED_TEXT)
    postings = sum(kinds.values()) - stored
    return {
        "folder": str(folder),
        "segments": segments,
        "sidecar_versions": sorted(versions),
        "postings_and_columns": postings,
        "stored_text": stored,
        "kinds": dict(kinds.most_common()),
        "arrays": dict(arrays.most_common()),
    }


def report(found: dict[str, object]) -> str:
    kinds = found["kinds"]
    arrays = found["arrays"]
    assert isinstance(kinds, dict) and isinstance(arrays, dict)
    lines = [
        f"{found['folder']}: {found['segments']} segment(s), sidecar version(s) {found['sidecar_versions']}",
        f"postings + columns: {found['postings_and_columns'] / MB:.1f} MB",
        f"stored text (apart): {found['stored_text'] / MB:.1f} MB",
        "",
        "| file kind | MB | counted as |",
        "|---|---:|---|",
    ]
    for kind, size in kinds.items():
        lines.append(f"| {kind} | {size / MB:.1f} | {'stored text' if kind in STORED_TEXT else 'postings + columns'} |")
    lines += ["", "| sidecar array (all segments) | MB |", "|---|---:|"]
    lines += [f"| {name} | {size / MB:.2f} |" for name, size in arrays.items() if size >= 0.01 * MB]
    small = sum(size for size in arrays.values() if size < 0.01 * MB)
    lines.append(f"| (arrays under 0.01 MB each) | {small / MB:.2f} |")
    return "\n".join(lines)


def _quick_index(folder: Path) -> Path:
    import random

    from searchlib import Article, Index, NoExtractor

    rng = random.Random(42)
    words = ["market", "harbor", "storm", "council", "vote", "budget", "talks", "bank", "rates", "minister"]
    with Index.create(folder, extractor=NoExtractor()) as ix:
        for start in (0, 150):  # two segments
            ix.add(
                *(
                    Article(id=f"a{i}", date="2024-01-02", title="Harbor news", body=" ".join(rng.choices(words, k=40)))
                    for i in range(start, start + 150)
                )
            )  # (each add commits: one segment each)
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", nargs="?", type=Path, help="an index folder")
    parser.add_argument("--quick", action="store_true", help="measure a 300-article index made in a temporary folder")
    parser.add_argument("--json", action="store_true", help="print the measurement as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            args.index = _quick_index(Path(tmp) / "ix")
        if args.index is None:
            parser.error("give an index folder (or --quick)")
        found = measure(args.index)
        if not found["segments"]:
            raise SystemExit(f"{args.index}: no segment sidecars (*.cols.json) found: not a searchlib index?")
        print(json.dumps(found, indent=1) if args.json else report(found))


if __name__ == "__main__":
    main()
