"""Quick run of the thread harness: threads in two processes share one index while writers commit."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

HARNESS = Path(__file__).with_name("thread_harness.py")


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("thread_harness", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_thread_harness_quick(tmp_path: Path) -> None:
    summary = _harness().run(processes=2, readers=3, writers=2, commits=4, batch=10, workdir=tmp_path)
    assert summary.failures == []
    assert (summary.wrong, summary.escaped) == (0, 0)
    assert summary.commits == 2 * 2 * 4
    assert summary.searches > summary.processes * 3


def test_thread_harness_checker_catches_a_torn_commit() -> None:
    """The check itself can fail: two versions of one writer's ids are reported."""
    harness = _harness()
    import searchlib

    def hit(owner: str, item: int, version: int) -> searchlib.Hit:
        return searchlib.Hit(rank=1, score=1.0, article=harness._article(owner, item, version), snippets=())

    hits = (hit("p0w0", 0, 2), hit("p0w0", 1, 1))
    torn = searchlib.Results(query="common", total=2, offset=0, limit=10, hits=hits)
    assert "torn" in harness._check(torn, ["p0w0"], 2, {})
    whole = searchlib.Results(query="common", total=2, offset=0, limit=10, hits=(hit("p0w0", 0, 3), hit("p0w0", 1, 3)))
    assert harness._check(whole, ["p0w0"], 2, {}) is None
    assert "went back" in harness._check(whole, ["p0w0"], 2, {"p0w0": 4})


def test_thread_harness_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(HARNESS), "--quick", "--json"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"ok": true' in done.stdout
