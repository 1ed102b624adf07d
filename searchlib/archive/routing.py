"""Which shard an article belongs to, and which shards a date range can touch.

Time sharding names a shard by the period of the article's date (``2025`` or ``2025-03``),
so wire copies of one story land together and a date filter skips every other period; hash
sharding spreads ids evenly over ``h000``..``hNNN`` (stable across runs and machines: BLAKE2b
of the id, not Python's salted ``hash``).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from searchlib.archive.manifest import Manifest
from searchlib.models import Article

__all__ = ["shard_for", "shard_range", "shards_between"]


def shard_for(manifest: Manifest, article: Article) -> str:
    """The shard ``article`` is stored in under ``manifest``'s scheme."""
    if manifest.scheme == "year":
        return f"{article.date.year:04d}"
    if manifest.scheme == "month":
        return f"{article.date.year:04d}-{article.date.month:02d}"
    return hash_shard(article.id, manifest.hash_shards)


def hash_shard(doc_id: str, shards: int) -> str:
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return f"h{int.from_bytes(digest, 'big') % shards:03d}"


def shard_range(scheme: str, name: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day a time shard can hold (``None`` for hash shards)."""
    if scheme == "year":
        year = int(name)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if scheme == "month":
        year, month = int(name[:4]), int(name[5:7])
        last = dt.date(year, 12, 31) if month == 12 else dt.date(year, month + 1, 1) - dt.timedelta(days=1)
        return dt.date(year, month, 1), last
    return None


def shards_between(manifest: Manifest, start: dt.date | None, end: dt.date | None) -> tuple[str, ...]:
    """The shards that can hold an article dated within ``[start, end]`` (all for hash sharding)."""
    out = []
    for name in manifest.shards:
        span = shard_range(manifest.scheme, name)
        if span is not None and ((start is not None and span[1] < start) or (end is not None and span[0] > end)):
            continue
        out.append(name)
    return tuple(out)
