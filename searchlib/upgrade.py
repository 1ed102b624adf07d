"""Upgrading indexes (and archives of them) built with an older index format.

``Index.upgrade(path)`` and ``searchlib upgrade INDEX`` rebuild an index from its stored
articles -- keeping their entities and near-duplicate groups, re-extracting nothing -- in a
sibling folder, then swap it in by renaming, so a crash leaves the old or the new index
whole (how: :mod:`searchlib._whoosh.upgrade`). An index already in the current format is
not rebuilt, but its segments' columnar sidecars written by older code are rewritten in the
current sidecar version (same arrays; a freshly opened index answers its first query faster).
Given an archive, every shard is upgraded in turn, each atomically on its own.
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
    sidecars: int = 0
    """Segment sidecars of already-current indexes rewritten in the current sidecar version."""

    @property
    def upgraded(self) -> int:
        """How many indexes were rebuilt."""
        return sum(1 for _, _, count in self.indexes if count >= 0)

    @property
    def articles(self) -> int:
        """Articles rebuilt over all indexes."""
        return sum(count for _, _, count in self.indexes if count > 0)

    def summary(self) -> str:
        sidecars = f"rewrote {self.sidecars} segment sidecar(s) in the current version"
        if not self.upgraded:
            done = sidecars if self.sidecars else "nothing to do"
            return f"{self.path}: already at index format {self.format}, {done}"
        parts = [
            f"{name}: format {old} -> {self.format}, {count:,} article(s)"
            for name, old, count in self.indexes
            if count >= 0
        ]
        return f"{self.path}: upgraded " + "; ".join(parts) + (f"; {sidecars}" if self.sidecars else "")


def upgrade_path(path: Path, *, workers: int | None = 1) -> UpgradeReport:
    """Upgrade the index, or every shard of the archive, at ``path`` (see the module docstring).

    ``workers=None`` picks per index: one per core (up to 4) for one over 20 MB, else one.
    """
    from searchlib.archive.manifest import MANIFEST, read_manifest  # (the archive package imports Index)

    names = [f"shards/{name}" for name in read_manifest(path).shards] if (path / MANIFEST).exists() else None
    done = []
    sidecars = 0
    for name in names if names is not None else [path.name]:
        old, count, rewritten = wu.upgrade(path / name if names is not None else path, workers=workers)
        done.append((name, old, count))
        sidecars += rewritten
    return UpgradeReport(path, tuple(done), sidecars=sidecars)
