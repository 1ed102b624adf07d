"""An installed searchlib type-checks in users' code: mypy --strict on a user's snippet sees our types.

The package is laid out as a wheel installs it (the ``searchlib`` directory with its
``py.typed`` marker on the path); an editable install's import hook is invisible to mypy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

USER_CODE = """
import datetime as dt
import searchlib
from searchlib import Index, Results, Sort

def newest_titles(ix: Index, query: str) -> list[tuple[dt.date, str]]:
    results: Results = ix.search(query, sort=Sort.NEWEST, limit=5, lenient=True)
    first: searchlib.Hit = results[0]
    kinds: list[searchlib.EntityKind] = [e.kind for e in first.entities]
    assert kinds is not None
    return [(h.article.date, h.article.title) for h in results[1:3]]

reveal_type(Index.in_memory().search("x")[0])
reveal_type(Index.in_memory().search("x")[0:2])
"""

USER_MISTAKE = """
import searchlib

def count(ix: searchlib.Index) -> str:
    return ix.search("x").total
"""


def _mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    site = tmp_path / "site"
    shutil.copytree(ROOT / "searchlib", site / "searchlib", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "user.py").write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "/dev/null", "user.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_wheel_ships_the_py_typed_marker() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["searchlib"]
    assert (ROOT / "searchlib" / "py.typed").exists()


def test_user_code_type_checks_against_the_installed_package(tmp_path: Path) -> None:
    result = _mypy(tmp_path, USER_CODE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Revealed type is "searchlib.models.Hit"' in result.stdout
    assert 'tuple[searchlib.models.Hit, ...]"' in result.stdout


def test_mypy_catches_a_users_type_error_through_our_annotations(tmp_path: Path) -> None:
    result = _mypy(tmp_path, USER_MISTAKE)
    assert result.returncode == 1
    assert 'Incompatible return value type (got "int", expected "str")' in result.stdout
