"""A merge lets go of the pages it has read from its sources' maps (``searchlib._whoosh.pages``)."""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from searchlib._whoosh import columns_merge, pages

SIZE = 8 << 20

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/smaps").exists() or not pages._CAN_DROP, reason="needs Linux's smaps and madvise"
)


def _resident_kb(path: Path) -> int:
    """This process's resident kB of its mappings of ``path`` (from /proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            inside = fields[-1] == str(path)
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


@pytest.fixture
def mapped(tmp_path: Path) -> Any:
    path = tmp_path / "data.bin"
    path.write_bytes(np.arange(SIZE // 8, dtype=np.int64).tobytes())
    with open(path, "rb") as f:
        mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    yield path, mapping
    mapping.close()


def test_dropped_pages_leave_the_process_and_read_the_same(mapped: Any) -> None:
    path, mapping = mapped
    view = np.frombuffer(mapping, dtype=np.uint8)[4096:].view(np.int64)  # a view of a view, as sidecars make
    assert pages.mapping_of(view) is mapping
    assert pages.mapping_of(np.zeros(3)) is None
    before = int(view.sum())
    assert _resident_kb(path) >= SIZE // 1024 * 3 // 4  # every page read: resident
    pages.drop_pages(mapping, 1000, SIZE // 2)  # an unaligned start: the page it lies in goes too
    assert _resident_kb(path) <= SIZE // 1024 // 2 + 8
    pages.drop_pages(pages.mapping_of(view))
    assert _resident_kb(path) <= 8
    assert int(view.sum()) == before  # read again from the page cache, unchanged


def test_a_column_copy_drops_each_chunk_it_wrote(mapped: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The var-bytes column merge streams a source in chunks and lets each go once written."""
    path, mapping = mapped
    dropped: list[tuple[int, int]] = []
    real = pages.drop_pages

    def counting(m: Any, start: int = 0, end: int | None = None) -> None:
        dropped.append((start, SIZE if end is None else end))
        real(m, start, end)

    monkeypatch.setattr(columns_merge, "drop_pages", counting)
    monkeypatch.setattr(columns_merge, "_CHUNK", 1 << 20)
    written = bytearray()

    class Out:
        def write(self, data: Any) -> None:
            written.extend(data)

    columns_merge._copy_runs(mapping, [(0, SIZE)], Out())
    assert bytes(written) == path.read_bytes()
    assert dropped == [(at, at + (1 << 20)) for at in range(0, SIZE, 1 << 20)]
    assert _resident_kb(path) <= 8


def test_a_sidecar_merge_lets_go_of_its_sources_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Merging on-disk segments: after each range of terms the sources' sidecar maps are let go."""
    from searchlib import Article, Index, NoExtractor
    from searchlib._whoosh import sidecar_merge

    seen: list[Any] = []
    real = pages.drop_pages

    def counting(mapping: Any, start: int = 0, end: int | None = None) -> None:
        seen.append(mapping)
        real(mapping, start, end)

    monkeypatch.setattr(sidecar_merge, "drop_pages", counting)
    articles = [Article(id=f"a{i}", date="2024-01-01", body=f"word{i % 7} talks strike {i}") for i in range(40)]
    with Index.create(tmp_path / "ix", extractor=NoExtractor()) as ix:
        ix.add(*articles[:20])
        ix.add(*articles[20:])
        writer = ix.writer()
        writer.commit(optimize=True)
        assert ix.search("talks").total == 40
    assert seen and all(isinstance(m, mmap.mmap) for m in seen)
