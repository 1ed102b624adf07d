"""``check_index``: verify an index on disk and say, in plain words, what is wrong and how to fix it."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from searchlib._typecheck import typed
from searchlib._whoosh import check as backend_check

__all__ = ["CheckReport", "check_index"]


@attrs.frozen
class CheckReport:
    """The outcome of :func:`check_index`. ``ok`` is True when nothing needs repair."""

    path: str
    documents: int
    segments: int
    problems: tuple[str, ...]
    repairs: tuple[str, ...]
    writer_active: bool

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """Several lines in plain words: counts, each problem, what was repaired or how to repair."""
        lines = [f"{self.path}: {self.documents} article(s) in {self.segments} segment(s)"]
        if self.writer_active:
            lines.append("a writer holds the lock now: orphan files were not checked")
        if self.ok:
            lines.append("no problems found")
        lines.extend(f"problem: {p}" for p in self.problems)
        lines.extend(f"repaired: {r}" for r in self.repairs)
        if self.problems and not self.repairs:
            lines.append("run again with repair (searchlib check --repair) to fix these")
        return "\n".join(lines)


@typed
def check_index(path: str | os.PathLike[str], *, repair: bool = False) -> CheckReport:
    """Open every segment, count documents, and look for duplicate ids, orphan files and stale locks.

    With ``repair=True`` duplicates are reduced to their latest copy and orphans removed (both
    under the write lock). An index that cannot be opened at all raises the matching
    :class:`~searchlib.errors.IndexProblem` (not found, incompatible, storage error).
    An archive (:class:`~searchlib.Archive`) is checked shard by shard, plus its manifest.
    """
    p = Path(path)
    if (p / "archive.json").is_file():
        from searchlib.archive.check import check_archive

        return check_archive(p, repair=repair)
    problems, repairs, counts = backend_check.check(p, repair=repair)
    return CheckReport(
        path=str(p),
        documents=counts["documents"],
        segments=counts["segments"],
        problems=tuple(problems),
        repairs=tuple(repairs),
        writer_active=bool(counts.get("locked")),
    )
