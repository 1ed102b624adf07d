"""The archive's one alias table: learned over every shard, curated at archive level.

Each shard is an ordinary index and keeps its own ``aliases.json`` (so it stays valid and
answers on its own), whose learned part counts the acronym definitions of the articles written
to it. The archive's table sums those counts — the same counts one index holding every article
would have, so the most frequent long form wins archive-wide — and takes merges, renames and
blocks from ``ROOT/aliases.json``, replaced atomically under the archive's write lock. The
archive applies this table (never a shard's own) at query rewrite, facets, related entities,
hits and ``get``.
"""

from __future__ import annotations

from pathlib import Path

from searchlib.aliases import ALIAS_FILE, AliasTable
from searchlib.archive.manifest import Manifest

__all__ = ["ArchiveAliases"]

Stamp = tuple[tuple[int, int] | None, ...]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


class ArchiveAliases:
    """The archive's alias table, re-read when a shard's or the archive's alias file changed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cached: tuple[tuple[str, ...], Stamp, AliasTable] | None = None
        self._paths: tuple[tuple[str, ...], list[Path]] | None = None  # every query stats them: made once

    def _files(self, m: Manifest) -> list[Path]:
        paths = self._paths
        if paths is None or paths[0] != m.shards:
            files = [self.root / ALIAS_FILE, *(self.root / "shards" / name / ALIAS_FILE for name in m.shards)]
            paths = self._paths = (m.shards, files)
        return paths[1]

    def curated(self) -> AliasTable:
        """The archive-level curation (merges, renames, blocks; nothing learned)."""
        return AliasTable.load(self.root).forget_learned()

    def table(self, m: Manifest) -> AliasTable:
        """Curation plus the learned counts of every shard in ``m``."""
        files = self._files(m)
        stamp = tuple(_stamp(f) for f in files)
        cached = self._cached
        if cached is not None and cached[0] == m.shards and cached[1] == stamp:
            return cached[2]
        table = self.curated()
        for name in m.shards:
            table = table.learn(AliasTable.load(self.root / "shards" / name).definitions())
        self._cached = (m.shards, stamp, table)
        return table

    def save_curated(self, table: AliasTable) -> None:
        """Persist ``table``'s curation at archive level (the caller holds the archive's write lock)."""
        table.forget_learned().save(self.root)
        self._cached = None
