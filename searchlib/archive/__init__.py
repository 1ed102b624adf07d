"""Sharded archives: many searchlib indexes answering as one, locally or on a Dask cluster."""

from searchlib.archive.archive import Archive, ArchiveWriter, is_archive
from searchlib.archive.manifest import Manifest

__all__ = ["Archive", "ArchiveWriter", "Manifest", "is_archive"]
