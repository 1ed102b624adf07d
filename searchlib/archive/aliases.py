"""The archive's one alias table: learned over every shard, curated at archive level.

Each shard is an ordinary index and keeps its own ``aliases.json`` (so it stays valid and
answers on its own), whose learned part counts the acronym definitions of the articles written
to it. The archive's table sums those counts — the same counts one index holding every article
would have, so the most frequent long form wins archive-wide — and takes merges, renames and
blocks from ``ROOT/aliases.json``, replaced atomically under the archive's write lock. The
archive applies this table (never a shard's own) at query rewrite, facets, related entities,
hits and ``get``.

The table is kept per manifest: every writer that may have changed a learned count or the
curation bumps the manifest's ``aliases`` version, so a search (which reads the manifest
anyway) knows the table is current without a ``stat`` of every shard's alias file. A manifest
written by a searchlib that did not keep that version falls back to those stats.
"""

from __future__ import annotations

from pathlib import Path

from searchlib.aliases import ALIAS_FILE, AliasTable
from searchlib.archive.manifest import Manifest, read_manifest, write_manifest

__all__ = ["ArchiveAliases"]

Stamp = tuple[tuple[int, int] | None, ...]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


class ArchiveAliases:
    """The archive's alias table, re-read when the manifest's alias version (or, for an older
    manifest, an alias file) changed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cached: tuple[tuple[str, ...], int | Stamp, AliasTable] | None = None
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
        stamp = m.aliases if m.aliases is not None else tuple(_stamp(f) for f in self._files(m))
        cached = self._cached
        if cached is not None and cached[0] == m.shards and cached[1] == stamp:
            return cached[2]
        table = self.curated()
        for name in m.shards:
            table = table.learn(AliasTable.load(self.root / "shards" / name).definitions())
        self._cached = (m.shards, stamp, table)
        return table

    def save_curated(self, table: AliasTable) -> None:
        """Persist ``table``'s curation at archive level and bump the manifest's alias version
        (the caller holds the archive's write lock)."""
        table.forget_learned().save(self.root)
        write_manifest(self.root, read_manifest(self.root).aliases_changed())
        self._cached = None
