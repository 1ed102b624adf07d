"""``check_index`` for an archive: every shard checked as an index, plus the manifest's promises.

Beyond each shard's own check: every shard the manifest lists exists and no unlisted shard
directory lies around; no move was left half-done; no article id lives in two shards; every
article is in the shard its date (or id hash) routes it to; the archive's alias file reads.
"""

from __future__ import annotations

from pathlib import Path

from searchlib.aliases import AliasTable
from searchlib.archive.manifest import read_manifest
from searchlib.archive.routing import hash_shard, shard_range
from searchlib.archive.writer import ArchiveWriter
from searchlib.check import CheckReport, check_index
from searchlib.errors import IncompatibleIndexError
from searchlib.index import Index
from searchlib.shards import run

__all__ = ["check_archive"]


def check_archive(root: Path, *, repair: bool = False) -> CheckReport:
    """Check (and with ``repair``, fix what is safe: shards' own repairs, half-done moves)."""
    manifest = read_manifest(root)
    problems: list[str] = []
    repairs: list[str] = []
    documents = segments = 0
    locked = False
    listed = set(manifest.shards)
    on_disk = {p.name for p in (root / "shards").iterdir() if p.is_dir()} if (root / "shards").is_dir() else set()
    for name in sorted(on_disk - listed):
        problems.append(f"shard directory shards/{name} is not in the manifest (left by a failed writer?)")
    homes: dict[str, str] = {}
    for name in manifest.shards:
        path = root / "shards" / name
        if not path.is_dir():
            problems.append(f"shard {name} is in the manifest but shards/{name} is missing")
            continue
        report = check_index(path, repair=repair)
        documents += report.documents
        segments += report.segments
        locked = locked or report.writer_active
        problems.extend(f"shard {name}: {p}" for p in report.problems)
        repairs.extend(f"shard {name}: {r}" for r in report.repairs)
        with Index.open(path) as index:
            rows = run(index, "live_ids", {})
        span = shard_range(manifest.scheme, name)
        for doc_id, day in rows:
            if doc_id in homes and doc_id not in manifest.moving:
                problems.append(f"article {doc_id!r} is in shards {homes[doc_id]} and {name}")
            homes[doc_id] = name
            wrong = (span is not None and not span[0] <= day <= span[1]) or (
                manifest.scheme == "hash" and hash_shard(doc_id, manifest.hash_shards) != name
            )
            if wrong:
                problems.append(f"article {doc_id!r} ({day}) is in shard {name}, which its routing does not give")
    try:
        AliasTable.load(root)
    except IncompatibleIndexError as exc:
        problems.append(f"the archive's alias table: {exc}")
    if manifest.moving:
        problems.append(f"{len(manifest.moving)} article move(s) were left half-done (readers see one copy)")
        if repair:
            from searchlib.archive.archive import Archive

            with Archive.open(root, executor="serial") as archive, ArchiveWriter(archive, timeout=0.0) as w:
                w.cancel()  # opening a writer finishes the moves
            repairs.append(f"finished {len(manifest.moving)} article move(s)")
    return CheckReport(
        path=str(root),
        documents=documents,
        segments=segments,
        problems=tuple(problems),
        repairs=tuple(repairs),
        writer_active=locked,
    )
