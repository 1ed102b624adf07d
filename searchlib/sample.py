"""The bundled sample corpus: fictional news articles used by the demo, README and tests."""

from __future__ import annotations

from pathlib import Path

__all__ = ["sample_corpus_path"]


def sample_corpus_path() -> Path:
    """Directory of the bundled sample corpus (article text files and one JSON Lines file)."""
    return Path(__file__).with_name("sample_corpus")
