"""Shared runner plumbing: paths, worker processes with peak-RSS polling, environment facts,
markdown tables, plots and result files."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
DATA = BENCH / "data"
RESULTS = BENCH / "results"
PACKAGES = ("searchlib", "whoosh", "tantivy", "bm25s", "numpy", "wordfreq", "psutil", "matplotlib")
QUICK_ARTICLES = 300
DEFAULT_ENGINES = (
    "searchlib",
    "searchlib-engine",
    "searchlib-engine-numba",
    "searchlib-2w",
    "searchlib-nofsync",
    "whoosh",
    "tantivy",
    "fts5",
    "bm25s",
)
_SNAPSHOT: Path | None = None


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--articles", type=int, default=10_000, help="corpus size (default 10000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=("text", "jsonl"), default="text")
    parser.add_argument(
        "--engines",
        default=None,
        help=f"comma-separated (default {','.join(DEFAULT_ENGINES)}; --quick leaves out searchlib-nofsync)",
    )
    parser.add_argument("--quick", action="store_true", help=f"tiny corpus ({QUICK_ARTICLES} articles), for CI")
    parser.add_argument("--name", help="result file name (default derived from the parameters)")
    parser.add_argument(
        "--live", action="store_true", help="measure the live searchlib tree, not a snapshot copied at start"
    )
    parser.add_argument(
        "--commit-every",
        type=int,
        default=None,
        help="searchlib builds commit every N articles (default: once at the end, one segment per worker)",
    )


def resolve(args: argparse.Namespace) -> argparse.Namespace:
    if args.quick:
        args.articles = QUICK_ARTICLES
    if args.engines is None:
        from benchmarks.engines import ENGINES

        args.engines = [e for e in DEFAULT_ENGINES if not (args.quick and ENGINES[e].full_only)]
    else:
        args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not args.live:
        snapshot_searchlib()
    if not args.name:
        args.name = f"{'quick' if args.quick else 'full'}-{args.articles}-s{args.seed}-{args.format}"
    return args


def available_engines(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(engines to run, notes about skipped ones)."""
    from benchmarks.engines import ENGINES

    run, notes = [], []
    for name in names:
        cls = ENGINES.get(name)
        if cls is None:
            notes.append(f"{name}: unknown engine, skipped")
        elif missing := cls.missing():
            notes.append(f"{name}: skipped, not installed ({', '.join(missing)}; `pip install -e .[bench]`)")
        else:
            run.append(name)
    return run, notes


def index_format() -> int:
    """searchlib's index FORMAT_VERSION in the code under measurement (snapshot or live tree)."""
    schema = (_SNAPSHOT or ROOT) / "searchlib" / "_whoosh" / "schema.py"
    found = re.search(r"^FORMAT_VERSION = (\d+)", schema.read_text("utf-8"), re.MULTILINE)
    return int(found.group(1)) if found else -1


def run_worker(args: Sequence[str], *, timeout: float = 4 * 3600) -> tuple[dict[str, Any], int]:
    """Run ``python -m benchmarks.worker ARGS``; returns (its JSON result, peak RSS bytes of its tree)."""
    paths = [str(_SNAPSHOT) if _SNAPSHOT else "", str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))}
    cmd = [sys.executable, "-m", "benchmarks.worker", *args]
    peak = 0
    try:
        import psutil
    except ImportError:  # peak memory is reported as n/a
        psutil = None
    # Files, not pipes: the loop below polls without reading, and a worker whose output
    # outgrows the pipe buffer (a search run with hundreds of queries per kind) would block.
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as out_file,
        tempfile.TemporaryFile("w+", encoding="utf-8") as err_file,
    ):
        proc = subprocess.Popen(cmd, cwd=_SNAPSHOT or ROOT, env=env, stdout=out_file, stderr=err_file, text=True)
        started = time.monotonic()
        if psutil is not None:
            watched = psutil.Process(proc.pid)
            while proc.poll() is None:
                try:
                    tree = [watched, *watched.children(recursive=True)]
                    peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
                except psutil.Error:
                    pass
                if time.monotonic() - started > timeout:
                    proc.kill()
                time.sleep(0.02)
        proc.wait(timeout=None if psutil else timeout)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if proc.returncode != 0:
        raise RuntimeError(f"worker {' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1]), peak


def snapshot_searchlib() -> Path:
    """Copy the searchlib package once per source digest; workers then import the copy.

    searchlib may be edited while a long run goes on; the snapshot keeps every worker of the
    run on the same code.
    """
    global _SNAPSHOT
    import searchlib

    tmp = DATA / "snapshots" / f"tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(Path(searchlib.__file__).parent, tmp / "searchlib", ignore=shutil.ignore_patterns("__pycache__"))
    dest = DATA / "snapshots" / searchlib_digest(tmp / "searchlib")
    if dest.exists() and _same_builds(dest / "searchlib", tmp / "searchlib"):
        shutil.rmtree(tmp)
    elif dest.exists():  # the same sources built again: a kept copy of a stale build would run pure Python
        stale = dest.with_name(f"{dest.name}-stale-{os.getpid()}")
        dest.rename(stale)  # moved aside, then replaced: the name never holds a half-deleted copy
        tmp.rename(dest)
        shutil.rmtree(stale, ignore_errors=True)
    else:
        tmp.rename(dest)
    _SNAPSHOT = dest
    return dest


def _same_builds(a: Path, b: Path) -> bool:
    """Whether two copies of the package hold the same compiled extensions, byte for byte."""

    def builds(root: Path) -> dict[str, bytes]:
        return {p.name: hashlib.sha1(p.read_bytes()).digest() for p in root.glob("*.so")}

    return builds(a) == builds(b)


def searchlib_digest(root: Path | None = None) -> str:
    """Short digest of searchlib's source files, to tell which code a number was measured on."""
    if root is None and _SNAPSHOT is not None:
        root = _SNAPSHOT / "searchlib"
    if root is None:
        try:
            import searchlib
        except ImportError:
            return "not installed"
        root = Path(searchlib.__file__).parent
    digest = hashlib.sha1()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.pyx")]):  # .pyx: the compiled kernels' sources
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(corpus_info: dict[str, Any], seed: int) -> dict[str, str]:
    """Machine, software and corpus facts recorded with every result."""
    try:
        import psutil

        ram = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
        physical = psutil.cpu_count(logical=False)
    except ImportError:
        ram, physical = "unknown", None
    versions = []
    for pkg in PACKAGES:
        try:
            versions.append(f"{pkg} {importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    versions.append(f"SQLite {sqlite3.sqlite_version}")
    mb = corpus_info["bytes"] / 1e6
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{_cpu_model()}, {os.cpu_count()} logical cores ({physical} physical), {ram} RAM",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "searchlib source": f"sha1 {searchlib_digest()} of searchlib/**/*.py and *.pyx"
        + (f" (snapshot {_SNAPSHOT.relative_to(ROOT)})" if _SNAPSHOT else " (live tree)"),
        "packages": ", ".join(versions),
        "compiled code": _compiled_code(),
        "corpus": f"{corpus_info['articles']:,} articles, {mb:.1f} MB ({corpus_info['format']}, "
        f"{corpus_info['files']} files), seed {seed}",
    }


def _compiled_code() -> str:
    """Whether this process runs the compiled entity extractor and indexing kernels (or pure Python)."""
    try:
        from searchlib import _compiled, entities
    except ImportError:
        return "unknown"
    kernels = _compiled.ingest_kernels() is not None
    extractor = "compiled" if entities.accelerated() else "pure Python"
    return f"entity extractor {extractor}, indexing kernels {'compiled' if kernels else 'pure Python'}"


def env_markdown(env: dict[str, str]) -> str:
    return "\n".join(f"- **{k}**: {v}" for k, v in env.items())


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "n/a"
    return f"{value / base:.2f}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def bar_chart(
    path: Path,
    title: str,
    ylabel: str,
    groups: Sequence[str],
    series: dict[str, list[float | None]],
    *,
    log: bool = False,
) -> bool:
    """Grouped bar chart (one bar per series in each group); missing values are left out."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(groups) + 2), 4.5))
    width = 0.8 / max(1, len(series))
    for n, (label, values) in enumerate(series.items()):
        xs = [i + n * width for i, v in enumerate(values) if v is not None]
        ax.bar(xs, [v for v in values if v is not None], width, label=label)
    ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(groups))], groups, rotation=20)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_result(name: str, markdown: str, raw: dict[str, Any]) -> Path:
    """Write ``results/<name>.md`` and ``results/<name>.json``; returns the markdown path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    md = RESULTS / f"{name}.md"
    md.write_text(markdown.rstrip() + "\n", "utf-8")
    (RESULTS / f"{name}.json").write_text(json.dumps(raw, indent=1, default=str) + "\n", "utf-8")
    return md
