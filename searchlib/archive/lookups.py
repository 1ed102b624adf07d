"""Archive reads beyond search: similar articles, near-duplicate groups and "did you mean".

Each is what :class:`~searchlib.Index` answers for one index, made from per-shard parts:

* ``more_like_this``: the article's shard picks its most distinctive body terms (as one index
  does, with that shard's statistics); the archive then ranks every shard's articles for
  those weighted terms with statistics summed over all shards, leaving out the article and
  its near-duplicates, as one index does (:func:`searchlib._whoosh.vocabulary.more_like`).
  One index and an archive can rank a few of these hits differently (the key terms' weights
  come from one shard's statistics).
* ``duplicates``: near-duplicates are detected within a shard (time sharding keeps wire
  copies of one day together), so the archive's groups are the shards' groups, merged.
* ``suggest``: a word is corrected only when no shard holds it; the closest word any shard
  holds wins (fewest edits, then most documents).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from searchlib import plan as pl
from searchlib import query as q
from searchlib import shards
from searchlib.archive.manifest import Manifest
from searchlib.archive.ranking import ranked
from searchlib.archive.routing import shards_between
from searchlib.archive.writer import locate_hash
from searchlib.errors import DocumentNotFoundError
from searchlib.highlight import HighlightOptions, Matcher
from searchlib.models import DuplicateGroup, Results, Sort
from searchlib.querying import MAX_LIMIT, MLT_TERMS, _corrected, _Filters, _key_words, _spelling_words, make_hit

if TYPE_CHECKING:
    from searchlib.archive.archive import Archive

__all__ = ["duplicates", "homes", "more_like_this", "suggest"]


def homes(m: Manifest, doc_id: str) -> list[str]:
    """The shards that may hold ``doc_id`` (one with hash sharding or while it moves; else all)."""
    if doc_id in m.moving:
        return [m.moving[doc_id]]
    if m.scheme == "hash":
        return [locate_hash(m, doc_id)]
    return list(m.shards)


def more_like_this(archive: Archive, doc_id: str, limit: int, highlight: HighlightOptions | None) -> Results:
    """Articles most similar to ``doc_id`` across the archive (see the module docstring)."""
    if not 0 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 0 and {MAX_LIMIT}")

    def locate(m: Manifest) -> tuple[str, Any] | None:
        for name in homes(m, doc_id):
            found = shards.run(archive._shard(name), "like_terms", {"id": doc_id, "terms": MLT_TERMS})
            if found is not None and doc_id not in m.hidden(name):
                return name, found
        return None

    located = archive._pinned(locate)
    if located is None:
        raise DocumentNotFoundError(doc_id)
    home, (terms, copies) = located
    leaves = tuple(pl.Text("body", (term,), (("body", weight),)) for term, weight in terms if weight > 0)
    plan = pl.Plan(pl.AnyOf(leaves) if leaves else pl.Nothing(), archive.ranking.k1, archive.ranking.b)
    _total, page, _counted = ranked(
        archive,
        plan,
        "",
        _Filters(),
        sort=Sort.SCORE,
        offset=0,
        limit=limit,
        collapse=False,
        recency=None,
        bucket=None,
        hide={home: frozenset({doc_id, *copies})},
    )
    source = archive.get(doc_id)
    words = _key_words(source.body if source else "")
    node: q.Node = q.Or(tuple(q.Term(w) for w in words)) if highlight and words else q.MatchAll()
    matchers = (Matcher.for_query(node, "body"), Matcher.for_query(node, "title"))
    table = archive._aliases.table(archive.manifest)
    hits = tuple(
        make_hit(i + 1, score, table.show(article), matchers, highlight)
        for i, (score, article, _copies) in enumerate(page)
    )
    return Results(query=f"like:{doc_id}", total=len(hits), hits=hits, offset=0, limit=limit)


def duplicates(archive: Archive, node: q.Node, filters: _Filters, size: int) -> tuple[DuplicateGroup, ...]:
    """Near-duplicate groups of every shard the filters leave, largest first (earliest member on ties)."""
    everything = isinstance(node, q.MatchAll) and filters == _Filters()
    plan = None if everything else archive.ranking.plan(node, filters)

    def compute(m: Manifest) -> list[list[Any]]:
        targets = shards_between(m, filters.date_from, filters.date_to)
        jobs = archive._jobs(targets, "duplicates", lambda s: {"plan": plan, "hidden": m.hidden(s), "size": size})
        return [group for part in archive._run(jobs) for group in part]

    groups: list[list[Any]] = archive._pinned(compute)
    groups.sort(key=lambda g: (-len(g), g[0].date, g[0].id))
    table = archive._aliases.table(archive.manifest)
    return tuple(DuplicateGroup(tuple(table.show(a) for a in g)) for g in groups[:size])


def suggest(archive: Archive, query: str, lenient: bool) -> str | None:
    """``query`` with words no shard holds replaced by the closest word a shard holds, or ``None``."""
    query, words = _spelling_words(query, lenient)
    if not words:
        return None

    def compute(m: Manifest) -> list[dict[str, shards.Spelling]]:
        return archive._run(archive._jobs(m.shards, "spelling", lambda _s: {"words": words}))

    parts = archive._pinned(compute)
    fixes: dict[str, str] = {}
    for word in words:
        seen = [part[word] for part in parts if word in part]
        if not seen or any(s.present for s in seen):
            continue
        frequency: dict[str, int] = {}
        for s in seen:
            frequency[s.stem] = frequency.get(s.stem, 0) + s.frequency
        best = min(seen, key=lambda s: (s.distance, -frequency[s.stem], s.stem))
        forms = {s.surface for s in seen if s.stem == best.stem and s.surface}
        if forms:  # the written form closest to what was typed, as one index picks it
            fixes[word] = min(forms, key=lambda f: (shards.edit_distance(f, word.lower()), f))
    return _corrected(query, fixes)
