"""Archive-wide analytics made from per-shard parts: related entities and the archive's statistics.

Related entities count each shard's matches in one round of shard tasks and read the
background (live documents naming each entity) in this process, a few look-ups per shard;
statistics add up every shard's, minus the copies a move in flight made redundant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from searchlib import shards
from searchlib.archive.manifest import Manifest
from searchlib.models import IndexStats, RelatedEntity

if TYPE_CHECKING:
    from searchlib.archive.archive import Archive

__all__ = ["archive_stats", "hidden_live", "related"]


def related(
    archive: Archive,
    m: Manifest,
    plan: Any,
    targets: Sequence[str],
    named: set[str],
    size: int,
    min_count: int,
) -> list[RelatedEntity]:
    """Entities of ``plan``'s matches on ``targets``, by significance against the whole archive."""
    parts = archive._run(archive._jobs(targets, "related", lambda s: {"plan": plan, "hidden": m.hidden(s)}))
    matched = sum(p[0] for p in parts)
    counts: dict[str, int] = {}
    display: dict[str, str] = {}
    aliases: dict[str, set[str]] = {}
    for _n, c, d, a in parts:
        for key, n in c.items():
            counts[key] = counts.get(key, 0) + n
            display.setdefault(key, d[key])
            aliases.setdefault(key, set()).update(a[key])
    keys = [k for k, n in counts.items() if k not in named and aliases[k].isdisjoint(named) and n >= min_count]
    if not matched or not keys:
        return []
    background = dict.fromkeys(keys, 0)
    total = 0
    # Like the scoring statistics, the background is look-ups per shard: read here, not a round.
    parts = [shards.run(archive._shard(name), "background", {"keys": keys}) for name in m.shards]
    for live, part in parts:
        total += live
        for key, n in part.items():
            background[key] += n
    total = max(total - hidden_live(archive, m), 1)
    out = []
    for key in keys:
        count = counts[key]
        bg_n = max(background[key], count)
        fg, bg = count / matched, bg_n / total
        score = (fg - bg) * (fg / bg) if fg > bg else 0.0
        out.append(RelatedEntity(display[key], count, bg_n, score))
    out.sort(key=lambda r: (-r.score, -r.count, r.name.casefold()))
    return out[:size]


def archive_stats(archive: Archive, m: Manifest) -> IndexStats:
    """Totals over every shard of ``m``; ``entities`` counts distinct canonical names archive-wide."""
    parts = archive._run(archive._jobs(m.shards, "info", lambda _s: {}))
    table = archive._aliases.table(m)
    firsts = [st.first_date for st, _k in parts if st.first_date is not None]
    lasts = [st.last_date for st, _k in parts if st.last_date is not None]
    shown: dict[str, str | None] = {}
    for _st, names in parts:
        for key, name in names.items():
            if key not in shown:
                shown[key] = table.display(name)
    keys = {shards.entity_key(name) for name in shown.values() if name is not None}
    return IndexStats(
        path=str(archive.root),
        documents=sum(st.documents for st, _k in parts) - hidden_live(archive, m),
        segments=sum(st.segments for st, _k in parts),
        size_bytes=sum(st.size_bytes for st, _k in parts),
        first_date=min(firsts) if firsts else None,
        last_date=max(lasts) if lasts else None,
        entities=len(keys),
        generation=m.generation,
        aliases=len(table.learned) + len(table.merged) + len(table.renamed),
        blocked=len(table.blocked),
    )


def hidden_live(archive: Archive, m: Manifest) -> int:
    """Copies a move in flight has made redundant (counted in a shard, invisible to readers)."""
    return sum(
        1 for doc_id, home in m.moving.items() for name in m.shards if name != home and archive._shard(name).get(doc_id)
    )
