"""Integrity check of an index on disk: segments, document counts, duplicate ids, orphans, locks."""

from __future__ import annotations

import contextlib
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from whoosh.index import TOC

from searchlib._whoosh import sidecar, store
from searchlib._whoosh.store import HOLDER, Backend, translate_os_errors
from searchlib._whoosh.upgrade import rewrite_sidecars

INDEX_NAME = "MAIN"


def _segment_files(path: Path) -> tuple[set[str], set[str]]:
    """(toc files, segment files) by Whoosh's own naming patterns."""
    toc_pattern = TOC._pattern(INDEX_NAME)
    seg_pattern = TOC._segment_pattern(INDEX_NAME)
    tocs, segs = set(), set()
    for entry in path.iterdir():
        if toc_pattern.match(entry.name):
            tocs.add(entry.name)
        elif seg_pattern.match(entry.name):
            segs.add(entry.name)
    return tocs, segs


def check(path: Path, *, repair: bool) -> tuple[list[str], list[str], dict[str, int]]:
    """(problems, repairs done, counts) for the index at ``path``; raises if it cannot be opened."""
    with translate_os_errors("check", path):
        return _check(path, repair=repair)


def _check(path: Path, *, repair: bool) -> tuple[list[str], list[str], dict[str, int]]:
    problems: list[str] = []
    repaired: list[str] = []
    backend = Backend.open(path)
    try:
        ix = backend.ix
        generation = int(ix.latest_generation())
        segments = ix._segments()
        live_ids = {seg.segment_id() for seg in segments}
        counts = {"documents": 0, "segments": len(segments), "generation": generation}

        # every segment opens and every stored document reads
        ids: Counter[str] = Counter()
        with ix.searcher() as searcher:
            for reader in searcher.reader().leaf_readers():
                segment_reader = reader[0]
                for docnum in segment_reader.all_doc_ids():
                    stored = segment_reader.stored_fields(docnum)
                    ids[stored["id"]] += 1
            counts["documents"] = searcher.doc_count()
            damaged = _damaged_sidecars(path, searcher.reader().leaf_readers())
            if damaged:
                problems.append(
                    f"{len(damaged)} segment(s) have a missing or damaged columnar sidecar (searches rebuild it "
                    "from the stored articles on first use): "
                    + ", ".join(f"{segment_id} ({damaged[segment_id][1]})" for segment_id in sorted(damaged)[:5])
                )
                if repair:
                    for reader, _ in damaged.values():
                        _rebuild_sidecar(path, reader)
                    repaired.append(f"rebuilt {len(damaged)} sidecar(s) from the stored articles")
        duplicates = sorted(doc_id for doc_id, n in ids.items() if n > 1)
        if duplicates:
            shown = ", ".join(duplicates[:5]) + (" ..." if len(duplicates) > 5 else "")
            problems.append(f"{len(duplicates)} id(s) have more than one copy: {shown}")

        lock = ix.lock("WRITELOCK")
        if not lock.acquire(blocking=False):
            counts["locked"] = 1
            return problems, repaired, counts  # a writer is active: its files are in flux
        try:  # orphans and holder files, judged while no writer can start
            tocs, segs = _segment_files(path)
            current_toc = f"_{INDEX_NAME}_{generation}.toc"
            orphans = sorted(t for t in tocs if t != current_toc)
            orphans += sorted(s for s in segs if not any(s.startswith(live + ".") for live in live_ids))
            orphans += sorted(p.name for p in path.iterdir() if p.name.endswith(".tmp"))
            if orphans:
                problems.append(
                    f"{len(orphans)} orphan file(s) left by an interrupted write: " + ", ".join(orphans[:5])
                )
                if repair:
                    _remove(path, orphans)
                    repaired.append(f"removed {len(orphans)} orphan file(s)")
            outdated = sidecar.outdated(path, live_ids)
            if outdated:
                problems.append(
                    f"{len(outdated)} segment sidecar(s) written by older code (sidecar version "
                    f"< {sidecar.SIDECAR_VERSION}): readable, but larger or slower to a new process's first query"
                )
                if repair:
                    done = rewrite_sidecars(path, set(outdated))
                    repaired.append(f"rewrote {done} sidecar(s) in version {sidecar.SIDECAR_VERSION}")
            if (path / HOLDER).exists():
                problems.append(f"a stale {HOLDER} from a writer that died; the lock itself is free")
                if repair:
                    with contextlib.suppress(OSError):
                        (path / HOLDER).unlink()
                    repaired.append(f"removed the stale {HOLDER}")
        finally:
            lock.release()
        if duplicates and repair:
            _dedupe(backend, duplicates)
            repaired.append(f"kept the latest copy of {len(duplicates)} duplicated id(s)")
        return problems, repaired, counts
    finally:
        backend.close()


def _damaged_sidecars(path: Path, leaves: list[tuple[Any, int]]) -> dict[str, tuple[Any, str]]:
    """Segment id -> (reader, what is wrong) of each segment whose sidecar does not load, holds another document
    count, or has an array whose entries are damaged (every field read in full: :func:`sidecar.damage`)."""
    damaged: dict[str, tuple[Any, str]] = {}
    for reader, _offset in leaves:
        segment = getattr(reader, "_segment", None)
        if segment is None:
            continue
        cols = sidecar.load(path, segment.segment_id())
        if cols is None:
            damaged[segment.segment_id()] = (reader, "missing, or its manifest or offsets do not fit")
        elif cols.doc_count != reader.doc_count_all():
            damaged[segment.segment_id()] = (reader, "holds another document count")
        else:
            found = sidecar.damage(cols)
            if found is not None:
                damaged[segment.segment_id()] = (reader, found)
    return damaged


def _rebuild_sidecar(path: Path, reader: Any) -> None:
    """Write a segment's sidecar again from its stored articles, durably (its files are the segment's)."""
    sidecar.save(path, reader._segment.segment_id(), sidecar.build(reader), durable=store.FSYNC)


def _dedupe(backend: Backend, duplicates: list[str]) -> None:
    """Keep the last-written copy (highest document number) of each duplicated id."""
    writer = backend.writer(timeout=0.0)
    try:
        for doc_id in duplicates:  # the live copies, through the segments' sidecars
            docnums = sorted(writer._term_docnums("id", doc_id))
            for docnum in docnums[:-1]:
                writer.raw.delete_document(docnum)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise


def _remove(path: Path, names: list[str]) -> None:
    """Delete orphan files (the caller holds the write lock, so no writer is mid-commit)."""
    for name in names:
        target = path / name
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
