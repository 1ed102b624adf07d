"""README.md is executable documentation: its Python blocks run, and its API list is complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import searchlib

README = (Path(__file__).parent.parent / "README.md").read_text("utf-8")


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_python_examples() -> None:
    assert _python_blocks()


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_python_blocks_run(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(_python_blocks()[index], f"README.md block {index}", "exec"), {"__name__": "readme"})


def test_all_is_sorted_and_matches_the_readme_api_list() -> None:
    assert list(searchlib.__all__) == sorted(searchlib.__all__)
    section = README.split("## Public API", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Za-z_]+)`", section)) - {"__all__"}
    assert documented == set(searchlib.__all__)
    for name in searchlib.__all__:
        assert hasattr(searchlib, name)


def test_readme_commands_are_the_ones_ci_runs() -> None:
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text("utf-8")
    assert "python -m pytest -q" in README and "python -m pytest -q" in ci
    assert "searchlib demo" in README


def test_readme_error_tree_matches_the_code() -> None:
    tree = README.split("## Errors", 1)[1].split("```", 2)[1]
    for name in re.findall(r"\b([A-Z][A-Za-z]+(?:Error|Problem))\b", tree):
        assert issubclass(getattr(searchlib, name), searchlib.SearchlibError)
