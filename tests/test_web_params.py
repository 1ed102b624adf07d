"""The web UI's URL state: every state survives a round trip through its URL (Hypothesis)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib import DateBucket, Sort
from tests.conftest import require

require("starlette")

from searchlib.web.params import BadRequest, SearchState  # noqa: E402

text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(str.strip)
names = st.lists(text.filter(bool).filter(lambda s: '"' not in s), max_size=3, unique=True).map(tuple)
dates = st.sampled_from(["", "2024", "2024-05", "2024-05-06"])


@st.composite
def states(draw: st.DrawFn) -> SearchState:
    kinds = tuple((k, n) for k in ("person", "org", "place") for n in draw(names))
    start = draw(dates)
    return SearchState(
        q=draw(text),
        date_from=start,
        date_to=draw(dates.filter(lambda d: not start or not d or d[: len(start)] >= start[: len(d)])),
        entities=draw(names),
        kinds=kinds[:10],
        source=draw(text),
        sort=draw(st.sampled_from(list(Sort))),
        page=draw(st.integers(1, 1000)),
        size=draw(st.integers(1, 100)),
        collapse=draw(st.booleans()),
        bucket=draw(st.sampled_from(list(DateBucket))),
    )


def _parse(url: str) -> SearchState:
    return SearchState.from_params(parse_qs(urlsplit(url).query, keep_blank_values=True))


@given(states())
def test_every_state_round_trips_through_its_url(state: SearchState) -> None:
    assert _parse(state.url()) == state


@given(states(), text)
def test_changing_anything_but_the_page_goes_to_page_one(state: SearchState, q: str) -> None:
    assert _parse(state.url(q=q)).page == 1
    assert _parse(state.url(page=3)).page == 3


def test_defaults_make_a_bare_url() -> None:
    assert SearchState().url() == "/"
    assert SearchState(q="a b", entities=("Gdańsk",)).url("/x") == "/x?q=a+b&entity=Gda%C5%84sk"


@pytest.mark.parametrize("date", ["2024-13", "24", "2024-02-30", "May"])
def test_bad_dates(date: str) -> None:
    with pytest.raises(BadRequest, match="'from' must be a date"):
        SearchState.from_params({"from": [date]})


param_names = st.sampled_from(["q", "from", "to", "entity", "person", "org", "place", "source", "sort", "page", "size"])
values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(['"', "(", "*", "title:", "date:2024-13", "-", "0", "-1", "99999", "2025-02-30", "newest"]),
)


@given(st.lists(st.tuples(param_names, values), max_size=6), st.sampled_from(["/", "/api/search", "/api/timeline"]))
def test_no_request_parameters_make_a_500(params: list[tuple[str, str]], path: str) -> None:
    """Whatever the parameters, the answer is a page, a 400 with a reason, never a server error."""
    response = _client().get(path, params=params)
    assert response.status_code in (200, 303, 400), (params, response.text[:300])
    if response.status_code == 400:
        assert "error" in response.text


_CLIENT: list[object] = []


def _client() -> Any:
    if not _CLIENT:
        from starlette.testclient import TestClient

        import searchlib
        from searchlib.web import create_app

        ix = searchlib.Index.in_memory()
        ix.ingest(searchlib.sample_corpus_path())
        _CLIENT.append(
            TestClient(
                create_app(ix, allowed_hosts=["testserver"]), raise_server_exceptions=False, follow_redirects=False
            )
        )
    return _CLIENT[0]
