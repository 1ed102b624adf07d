"""The archive manifest: which shards exist, how articles are routed, which moves are in flight.

A small JSON file (``archive.json``) at the archive's root, versioned (``format``) and written
atomically (temporary file, fsync, rename, fsync of the directory), so a reader sees either the
old or the new manifest, never a mix. Every change bumps ``generation``; a reader that sees the
generation change while it queried the shards asks again (see :mod:`searchlib.archive.archive`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from searchlib.errors import IncompatibleIndexError, IndexNotFoundError, StorageError

__all__ = ["FORMAT", "MANIFEST", "SCHEMES", "Manifest", "read_manifest", "write_manifest"]

FORMAT = 1
"""Version of the manifest's layout; an archive written by another version is refused."""

MANIFEST = "archive.json"
SCHEMES = ("year", "month", "hash")


def _sorted_names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(value))


def _sorted_moves(value: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(value.items()))


def _check_scheme(_inst: object, _attr: object, value: str) -> None:
    if value not in SCHEMES:
        raise ValueError(f"shard scheme must be one of {', '.join(SCHEMES)}, not {value!r}")


@attrs.frozen
class Manifest:
    """One version of an archive's layout."""

    scheme: str = attrs.field(validator=_check_scheme)
    """``year`` or ``month`` (one shard per period of the article's date) or ``hash`` (of the id)."""
    hash_shards: int = attrs.field(default=0)
    """Number of shards with ``scheme="hash"``."""
    shards: tuple[str, ...] = attrs.field(default=(), converter=_sorted_names)
    generation: int = 0
    moving: Mapping[str, str] = attrs.field(factory=dict, converter=_sorted_moves)
    """Article id -> the one shard a reader may see it in while it is moved between shards."""
    aliases: int | None = 0
    """Version of the archive's alias table: a writer bumps it (and ``generation``) whenever a
    shard may have learned acronyms or the archive's curation changed, so that a reader knows
    its table is current from the manifest alone. ``None``: written by a searchlib that did not
    keep it (readers then check every alias file's stamp)."""

    @hash_shards.validator
    def _check_hash(self, _attr: object, value: int) -> None:
        if self.scheme == "hash" and not 1 <= value <= 4096:
            raise ValueError("hash sharding needs between 1 and 4096 shards")
        if self.scheme != "hash" and value:
            raise ValueError("hash_shards is only for scheme='hash'")

    def hidden(self, shard: str) -> frozenset[str]:
        """Ids a reader must ignore in ``shard`` (another shard holds their authoritative copy)."""
        return frozenset(doc_id for doc_id, home in self.moving.items() if home != shard)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": "searchlib-archive",
            "scheme": self.scheme,
            "hash_shards": self.hash_shards,
            "shards": list(self.shards),
            "generation": self.generation,
            "moving": dict(self.moving),
            "aliases": self.aliases,
        }

    def aliases_changed(self) -> Manifest:
        """This manifest with a new alias-table version (and generation): readers re-read the table."""
        return attrs.evolve(self, aliases=(self.aliases or 0) + 1, generation=self.generation + 1)


def read_manifest(root: Path) -> Manifest:
    """The manifest at ``root``; clear errors for a missing, foreign or damaged one."""
    path = root / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IndexNotFoundError(f"no archive at {root} (no {MANIFEST})", path=root) from None
    except OSError as exc:
        raise StorageError(str(exc), path=root, operation="read manifest") from exc
    try:
        data = json.loads(text)
        if data.get("kind") != "searchlib-archive":
            raise IncompatibleIndexError(f"{path} is not a searchlib archive manifest", path=root)
        if data.get("format") != FORMAT:
            raise IncompatibleIndexError(
                f"{path}: archive format {data.get('format')!r}, this searchlib reads format {FORMAT}", path=root
            )
        return Manifest(
            scheme=data["scheme"],
            hash_shards=int(data["hash_shards"]),
            shards=tuple(str(s) for s in data["shards"]),
            generation=int(data["generation"]),
            moving={str(k): str(v) for k, v in data["moving"].items()},
            aliases=None if data.get("aliases") is None else int(data["aliases"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IncompatibleIndexError(f"{path}: damaged manifest ({exc})", path=root) from exc


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically: temp file, fsync, rename, fsync of the directory."""
    path = root / MANIFEST
    tmp = root / f".{MANIFEST}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(manifest.to_json(), fh, indent=1)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(str(exc), path=root, operation="write manifest") from exc
