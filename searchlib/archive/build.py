"""Building an archive's shards in parallel: each shard's articles written and committed by one worker.

``Archive.ingest`` runs in three steps, holding the archive's write lock throughout:

1. **Route** (this process): read the input, route each article to its shard and spill it to
   that shard's batch file under ``ROOT/.build/`` (the workers read them from the same disk,
   as every Dask worker reads the shards). Ids the input sends to one shard that another
   shard already holds (a changed date), or to several shards, are *moves*.
2. **Build** (the executor: the local process pool, a Dask cluster, or this process): one
   task per shard opens it, writes its batch (entities extracted there: the costly part)
   and commits every ``commit_every`` articles. A task that fails reports its error instead
   of raising, so every other shard finishes and commits.
3. **Settle** (this process): moves follow :class:`~searchlib.archive.writer.ArchiveWriter`'s
   protocol: before step 2 the manifest names each moving id's old shard as its only home
   (new shards are created and listed too), after it the new shard, then the other copies
   are deleted and the manifest forgets the move. A move whose new shard failed stays in
   the manifest with its old home, which readers honour and the next writer finishes. A
   failed shard is named in an :class:`~searchlib.errors.ArchiveError` after all that.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from searchlib import shards
from searchlib.archive.executor import Job
from searchlib.archive.manifest import Manifest, write_manifest
from searchlib.archive.routing import shard_for
from searchlib.archive.writer import ArchiveWriter
from searchlib.errors import ArchiveError
from searchlib.index import Index, Ranking
from searchlib.ingest import IngestProblem, IngestProgress, IngestReport, keep_problem, read_articles

if TYPE_CHECKING:
    from searchlib.archive.archive import Archive

__all__ = ["BuildResult", "build_shard", "ingest"]

BUILD_DIR = ".build"


@attrs.frozen
class BuildResult:
    """What one shard's build task did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = None
    """``None`` when every batch committed; else the failure (earlier batches stay committed)."""


def build_shard(path: str, ranking: Ranking, batch: str, extractor: Any, commit_every: int | None) -> BuildResult:
    """Write the batch file's articles and deletions to the shard at ``path`` (a worker's task)."""
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    try:
        with Index.open(path, create=True, extractor=extractor, ranking=ranking) as index, open(batch, "rb") as fh:
            writer, pending = index.writer(), 0
            try:
                while True:
                    try:
                        op, value = pickle.load(fh)
                    except EOFError:
                        break
                    if op == "add":
                        counts[writer._write(value, force=False)] += 1
                    else:
                        writer.delete(value)
                    pending += 1
                    if commit_every is not None and pending >= commit_every:
                        writer.commit()
                        writer, pending = index.writer(), 0
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
    except Exception as exc:
        return BuildResult(counts["added"], counts["updated"], counts["unchanged"], f"{type(exc).__name__}: {exc}")
    return BuildResult(counts["added"], counts["updated"], counts["unchanged"])


class _Spill:
    """One batch file per shard, appended to as articles are routed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, IO[bytes]] = {}

    def path(self, shard: str) -> Path:
        return self.folder / f"{shard}.pickle"

    def put(self, shard: str, op: str, value: Any) -> None:
        fh = self.files.get(shard)
        if fh is None:
            fh = self.files[shard] = open(self.path(shard), "wb")  # noqa: SIM115 - closed in close()
        pickle.dump((op, value), fh, protocol=pickle.HIGHEST_PROTOCOL)

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()


def ingest(
    archive: Archive,
    paths: Iterable[str | os.PathLike[str]],
    *,
    strict: bool,
    progress: Callable[[IngestProgress], None] | None,
    commit_every: int | None,
    timeout: float,
    max_article_chars: int | None,
) -> IngestReport:
    """Read articles as :meth:`Index.ingest` does and build every shard they go to in parallel."""
    started = time.perf_counter()
    problems: list[IngestProblem] = []
    skipped = read = 0
    last: list[IngestProgress] = []

    def track(event: IngestProgress) -> None:
        last[:] = [event]
        if progress is not None:
            progress(event)

    lock = ArchiveWriter(archive, timeout=timeout)  # the archive's write lock; finishes interrupted moves
    folder = archive.root / BUILD_DIR / f"{os.getpid()}-{time.monotonic_ns()}"
    try:
        m = lock._manifest
        folder.mkdir(parents=True)
        spill = _Spill(folder)
        placed: dict[str, str] = {}  # id -> the shard its last version goes to
        also: dict[str, set[str]] = {}  # id -> earlier shards this input sent it to
        try:
            for record in read_articles(paths, progress=track, max_article_chars=max_article_chars):
                if isinstance(record, IngestProblem):
                    keep_problem(record, problems, strict=strict)
                    skipped += 1
                    continue
                read += 1
                target = shard_for(m, record)
                before = placed.get(record.id)
                if before is not None and before != target:
                    also.setdefault(record.id, set()).add(before)
                placed[record.id] = target
                spill.put(target, "add", record)
        finally:
            spill.close()
        homes = _held_elsewhere(archive, m, placed)
        moving = {doc_id: homes.get(doc_id, placed[doc_id]) for doc_id in {*homes, *also}}
        new = sorted(set(spill.files) - set(m.shards))
        for name in new:
            Index.create(archive._shard_path(name), overwrite=True).close()
        if new or moving:
            m = attrs.evolve(m, shards=(*m.shards, *new), moving={**m.moving, **moving}, generation=m.generation + 1)
            write_manifest(archive.root, m)
        names = sorted(spill.files)
        jobs = [
            Job(
                name,
                str(archive._shard_path(name)),
                archive.ranking,
                "build",
                {"batch": str(spill.path(name)), "extractor": archive.extractor, "commit_every": commit_every},
                pinned=False,
            )
            for name in names
        ]
        results: dict[str, BuildResult] = dict(zip(names, archive._executor.run(jobs), strict=True))
        m = _settle(archive, m, moving, placed, homes, also, results)
        if any(r.added or r.updated for r in results.values()):  # a shard may have learned acronyms
            write_manifest(archive.root, m.aliases_changed())
    finally:
        lock.cancel()
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()
    moved = sum(1 for doc_id, home in homes.items() if home != placed[doc_id])
    added = sum(r.added for r in results.values()) - moved
    updated = sum(r.updated for r in results.values()) + moved
    failed = {name: r.error for name, r in results.items() if r.error is not None}
    if failed:
        name, error = next(iter(sorted(failed.items())))
        raise ArchiveError(
            f"shard(s) {', '.join(sorted(failed))} failed to build ({error}); "
            "the other shards are committed and the manifest is consistent",
            path=archive.root,
            shard=name if len(failed) == 1 else None,
        )
    return IngestReport(
        files=last[0].files_total if last else 0,
        read=read,
        added=added,
        updated=updated,
        unchanged=sum(r.unchanged for r in results.values()),
        skipped=skipped,
        problems=tuple(problems),
        seconds=time.perf_counter() - started,
    )


def _held_elsewhere(archive: Archive, m: Manifest, placed: dict[str, str]) -> dict[str, str]:
    """Id -> the shard holding its committed copy, for the incoming ids another shard than their target holds."""
    if m.scheme == "hash":
        return {}  # an id's shard never changes
    found: dict[str, str] = {}
    for name in m.shards:
        others = [doc_id for doc_id, target in placed.items() if target != name]
        for doc_id in shards.run(archive._shard(name), "held", {"ids": others}) if others else ():
            found.setdefault(doc_id, name)
    return found


def _settle(
    archive: Archive,
    m: Manifest,
    moving: dict[str, str],
    placed: dict[str, str],
    homes: dict[str, str],
    also: dict[str, set[str]],
    results: dict[str, BuildResult],
) -> Manifest:
    """Finish the moves whose new shard committed (see the module docstring); the manifest after."""
    done = {doc_id for doc_id in moving if results.get(placed[doc_id], BuildResult()).error is None}
    if not done:
        return m
    m = attrs.evolve(m, moving={**m.moving, **{d: placed[d] for d in done}}, generation=m.generation + 1)
    write_manifest(archive.root, m)
    stale: dict[str, list[str]] = {}
    for doc_id in sorted(done):
        for name in {homes.get(doc_id), *also.get(doc_id, ())} - {None, placed[doc_id]}:
            stale.setdefault(str(name), []).append(doc_id)
    for name, ids in sorted(stale.items()):
        with archive._shard(name).writer() as w:
            for doc_id in ids:
                w.delete(doc_id)
    m = attrs.evolve(m, moving={k: v for k, v in m.moving.items() if k not in done}, generation=m.generation + 1)
    write_manifest(archive.root, m)
    return m
