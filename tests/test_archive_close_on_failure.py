"""An archive that cannot be created or opened closes the executor it owns, not a caller's client.

``Archive.create``/``open`` take ownership of the executor (``close()`` closes it); when they
fail (an index already at the path, no archive there), a Dask client the CLI made for the
archive (``DaskExecutor(..., owns_client=True)``) is closed at once, while a client the caller
passed in stays open for the caller. A stand-in client is enough: no cluster is started.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from searchlib import Archive, Index, SearchlibError
from searchlib.archive.executor import DaskExecutor


class FakeClient:
    """Looks like a ``distributed.Client`` to ``make_executor``; records ``close``."""

    def __init__(self) -> None:
        self.closed = 0

    def scheduler_info(self, **_: Any) -> dict[str, Any]:
        return {"workers": {}}

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no task is sent by a failed create")

    def close(self) -> None:
        self.closed += 1


def _taken(tmp_path: Path) -> Path:
    path = tmp_path / "taken"
    Index.create(path).close()  # an index already there: create fails
    return path


@pytest.mark.parametrize("how", ["create", "open"])
def test_an_owned_client_is_closed_when_the_archive_cannot_be_made(tmp_path: Path, how: str) -> None:
    client = FakeClient()
    executor = DaskExecutor(client, owns_client=True)
    with pytest.raises(SearchlibError):
        if how == "create":
            Archive.create(_taken(tmp_path), executor=executor)
        else:
            Archive.open(tmp_path / "missing", executor=executor)
    assert client.closed == 1


@pytest.mark.parametrize("how", ["create", "open"])
def test_a_callers_client_stays_open_when_the_archive_cannot_be_made(tmp_path: Path, how: str) -> None:
    client = FakeClient()
    with pytest.raises(SearchlibError):
        if how == "create":
            Archive.create(_taken(tmp_path), executor=client)
        else:
            Archive.open(tmp_path / "missing", executor=client)
    assert client.closed == 0


def test_a_created_archive_keeps_its_client_until_closed(tmp_path: Path) -> None:
    client = FakeClient()
    archive = Archive.create(tmp_path / "ok", executor=DaskExecutor(client, owns_client=True))
    assert client.closed == 0
    archive.close()
    assert client.closed == 1
