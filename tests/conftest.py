"""Shared fixtures: the example article, the bundled sample corpus, small in-memory indexes."""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings

import searchlib

settings.register_profile("ci", max_examples=60, deadline=None)
settings.load_profile("ci")

DATA = Path(__file__).parent / "data"
EXAMPLE = DATA / "article-2024-05-06.txt"


@pytest.fixture(scope="session")
def example_path() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def corpus_index() -> Iterator[searchlib.Index]:
    """The sample corpus plus the example article, in memory (read-only for tests)."""
    ix = searchlib.Index.in_memory()
    report = ix.ingest([searchlib.sample_corpus_path(), EXAMPLE])
    assert report.skipped == 0, report.problems
    yield ix
    ix.close()


@pytest.fixture
def small_index() -> Iterator[searchlib.Index]:
    """Three short articles on known dates, for exact assertions."""
    ix = searchlib.Index.in_memory()
    ix.add(
        searchlib.Article(
            id="a", date=dt.date(2024, 5, 6), body="Hostage talks resumed in Cairo on Monday.", source="Wire"
        ),
        searchlib.Article(
            id="b", date=dt.date(2024, 6, 1), body="Talking points: the talks stalled over Rafah.", source="Herald"
        ),
        searchlib.Article(
            id="c",
            date=dt.date(2023, 1, 9),
            body="Dock workers went on strike in Gdansk.",
            entities=["Gdansk", "Baltic Dockworkers Federation"],
        ),
    )
    yield ix
    ix.close()


def require(module: str) -> ModuleType:
    """Import an optional dependency: skip without it locally, but fail in CI (``CI=true``), never skip."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def require_compiled(module: ModuleType | None, what: str) -> ModuleType:
    """A compiled extension built from the installed source, or skip without one -- but fail when
    ``SEARCHLIB_COMPILE=1`` says it was built for this run (``.ci/run``) and yet is not used."""
    if module is not None:
        return module
    message = f"no compiled {what} built from these sources (SEARCHLIB_COMPILE=1 python setup.py build_ext -i)"
    if os.environ.get("SEARCHLIB_COMPILE", "") not in ("", "0"):
        pytest.fail(message)
    pytest.skip(message)
