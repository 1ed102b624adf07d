"""Quick run of the crash harness: a few SIGKILLed writers, then every acknowledged batch survives."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

HARNESS = Path(__file__).with_name("crash_harness.py")


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_harness", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("workers", [1, 2])
def test_crash_harness_quick(tmp_path: Path, workers: int) -> None:
    harness = _harness()
    # Worker processes take a second or more to start (longer on a loaded machine).
    trials, shortest, longest = (5, 0.4, 1.4) if workers == 1 else (3, 2.5, 6.0)
    summary = harness.run(
        trials, min_delay=shortest, max_delay=longest, seed=1234, workdir=tmp_path, verbose=False, workers=workers
    )
    assert summary.trials == trials
    assert summary.failures == [], summary.failures
    assert summary.acked_batches > 0, "the child never committed: the kills came too early to test anything"
    assert (summary.losses, summary.partial_batches, summary.duplicates) == (0, 0, 0)
    assert (summary.stuck_locks, summary.open_errors, summary.search_errors) == (0, 0, 0)


def test_crash_harness_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(HARNESS), "--trials", "1", "--quick", "--seed", "7", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"ok": true' in done.stdout
