"""The view in the URL: encoding round trips, the size bound, long states under a key, and what a bad link says."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import pytest

from symphony_dash.state import ClauseError, State, between, ids, isin, polygon
from symphony_dash.url_state import MAX_URL_PARAM, StateStore, decode, encode, from_search, search_for

LASSO = [(0.5, 1.25), (10.0, 1.0), (9.75, 8.5), (0.0, 7.0)]


def _state() -> State:
    return State(
        layout="digits",
        filter=[isin("label", [3, 8], source="label"), polygon("x", "y", LASSO, source="map")],
        selection=between("confidence", 0.2, 0.45, source="conf"),
        group_by=["split"],
    )


def _packed(text: bytes) -> str:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.urlsafe_b64encode(packer.compress(text) + packer.flush()).decode().rstrip("=")


def test_url001_round_trip_keeps_every_clause() -> None:
    state = _state()
    assert decode(encode(state)) == state


def test_url002_a_lasso_is_its_polygon_and_short() -> None:
    search = search_for(_state(), StateStore())
    assert search.startswith("?s=") and len(search) < 300
    # What the browser sends back (3.0 written as 3) encodes to the same parameter: restoring pushes no new entry.
    as_ints = State(layout="digits", selection=between("confidence", 0, 1, source="conf"))
    as_floats = State(layout="digits", selection=between("confidence", 0.0, 1.0, source="conf"))
    assert encode(as_ints) == encode(as_floats)


def test_url003_a_long_state_goes_under_a_short_key(tmp_path: Path) -> None:
    big = State(layout="digits", filter=[ids([f"instance-{i * 7919 % 100_003}" for i in range(5_000)], source="t")])
    store = StateStore(tmp_path)
    search = search_for(big, store)
    assert search.startswith("?k=") and len(search) == 3 + 16
    assert len(encode(big)) > MAX_URL_PARAM
    assert from_search(search, store) == big
    # The same state gets the same key, and a new server process with the same folder still finds it.
    assert search_for(big, store) == search
    assert from_search(search, StateStore(tmp_path)) == big


def test_url004_the_store_is_bounded(tmp_path: Path) -> None:
    store = StateStore(tmp_path, memory=2, files=10)
    keys = [store.put(encode(State(layout=str(i)))) for i in range(12)]
    assert len(list(tmp_path.glob("*.txt"))) <= 10
    assert len(store._recent) == 2
    assert StateStore(tmp_path).get(keys[-1]) is not None
    assert StateStore().get(keys[-1]) is None  # memory only: another process has nothing


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("?s=abc$def", "an 's' parameter is made of letters, digits, '-' and '_' only"),
        ("?s=a", "the 's' parameter is cut short or altered (it is not base64url)"),
        (
            "?s=" + _packed(b'{"layout":"digits"}')[:-4],
            "the 's' parameter is cut short (its compressed data ends early)",
        ),
        ("?s=____", "the 's' parameter is cut short or altered (it does not decompress)"),
        ("?s=" + _packed(b"__import__('os')"), "the 's' parameter is altered (it does not hold JSON)"),
        ("?s=" + _packed(b"[1, 2]"), "the 's' parameter must hold a state object"),
        ("?s=" + _packed(b" " * 9_000_000), "the 's' parameter unpacks to more than 8,000,000 bytes"),
        (
            "?s=" + _packed(b'{"layout":"d","filter":[{"op":"in","column":"label","value":"3"}]}'),
            "state.filter[0]: an 'in' value must be a list of values",
        ),
        ("?k=../../etc/passwd", "a 'k' parameter is 16 letters, digits, '-' or '_'"),
        (
            "?k=AAAAAAAAAAAAAAAA",
            "its view was stored on a server that no longer has it (restarted elsewhere or removed)",
        ),
    ],
)
def test_url005_a_bad_link_says_what_is_wrong(search: str, message: str) -> None:
    with pytest.raises(ClauseError) as info:
        from_search(search, StateStore())
    assert str(info.value) == message


def test_url006_no_parameter_is_no_state() -> None:
    assert from_search("", StateStore()) is None
    assert from_search("?utm_source=mail", StateStore()) is None
