"""An in-memory index leaves nothing in the temporary folder.

Whoosh gives an in-memory index's writers a folder in the temporary directory for their
temporary files, and its per-document writer never removed it: every segment an in-memory
index wrote left an empty folder in ``/tmp`` (a test suite left hundreds of thousands).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest

from searchlib import Article, Index, NoExtractor


@pytest.mark.parametrize("commits", [1, 3])
def test_in_memory_writes_leave_no_temporary_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, commits: int
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with Index.in_memory(extractor=NoExtractor()) as ix:
        for batch in range(commits):
            with ix.writer() as writer:
                for i in range(20):
                    day = dt.date(2024, 1, 1 + i)
                    body = f"The harbour of Gdansk, story {i}."
                    writer.add(Article(id=f"a{batch}-{i}", date=day, title=f"Harbour {i}", body=body))
        assert ix.search("harbour").total == 20 * commits
        with ix.writer() as writer:
            writer.commit(optimize=True)
        assert ix.search("gdansk").total == 20 * commits
    assert list(tmp_path.iterdir()) == []
