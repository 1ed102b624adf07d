"""Sharded archives: many searchlib indexes answering as one, locally or on a Dask cluster."""

from searchlib.archive.archive import Archive, ArchiveWriter, Searchable, is_archive, open_any
from searchlib.archive.manifest import Manifest

__all__ = ["Archive", "ArchiveWriter", "Manifest", "Searchable", "is_archive", "open_any"]
