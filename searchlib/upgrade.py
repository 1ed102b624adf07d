"""Upgrading indexes (and archives of them) built with an older index format.

``Index.upgrade(path)`` and ``searchlib upgrade INDEX`` rebuild an index from its stored
articles -- keeping their entities and near-duplicate groups, re-extracting nothing -- in a
sibling folder, then swap it in by renaming, so a crash leaves the old or the new index
whole (how: :mod:`searchlib._whoosh.upgrade`). Given an archive, every shard is upgraded
in turn, each atomically on its own.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from searchlib._whoosh import schema as sch
from searchlib._whoosh import upgrade as wu

__all__ = ["FORMAT_VERSION", "UpgradeReport", "upgrade_path"]

FORMAT_VERSION = sch.FORMAT_VERSION
"""The index format this searchlib writes and reads."""


@attrs.frozen
class UpgradeReport:
    """What an upgrade did: per index (or archive shard) its old format and articles rebuilt."""

    path: Path
    indexes: tuple[tuple[str, int, int], ...] = ()
    """``(index folder, its format before, articles rebuilt)``; ``-1`` articles when it was already current."""
    format: int = FORMAT_VERSION

    @property
    def upgraded(self) -> int:
        """How many indexes were rebuilt."""
        return sum(1 for _, _, count in self.indexes if count >= 0)

    @property
    def articles(self) -> int:
        """Articles rebuilt over all indexes."""
        return sum(count for _, _, count in self.indexes if count > 0)

    def summary(self) -> str:
        if not self.upgraded:
            return f"{self.path}: already at index format {self.format}, nothing to do"
        parts = [
            f"{name}: format {old} -> {self.format}, {count:,} article(s)"
            for name, old, count in self.indexes
            if count >= 0
        ]
        return f"{self.path}: upgraded " + "; ".join(parts)


def upgrade_path(path: Path, *, workers: int = 1) -> UpgradeReport:
    """Upgrade the index, or every shard of the archive, at ``path`` (see the module docstring)."""
    from searchlib.archive.manifest import MANIFEST, read_manifest  # (the archive package imports Index)

    if (path / MANIFEST).exists():
        done = []
        for name in read_manifest(path).shards:
            old, count = wu.upgrade(path / "shards" / name, workers=workers)
            done.append((f"shards/{name}", old, count))
        return UpgradeReport(path, tuple(done))
    old, count = wu.upgrade(path, workers=workers)
    return UpgradeReport(path, ((path.name, old, count),))
