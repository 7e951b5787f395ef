"""Bodies a careless or hostile client sends: refused with problem+json, never a 500 or a traceback."""

from __future__ import annotations

import logging

import pytest
from gi_support import WS

from otrs_ext.api.jsonbody import MAX_DEPTH, nesting_depth


@pytest.mark.parametrize(("raw", "depth"), [
    (b"{}", 1), (b'{"a": [1, {"b": []}]}', 4), (b'"[[[["', 0), (b'{"a": "\\\\"}', 1), (b'{"a": "\\"[[["}', 1),
    (b"[" * 100_000, MAX_DEPTH + 1),
])
def test_nesting_depth(raw: bytes, depth: int) -> None:
    assert nesting_depth(raw) == depth


@pytest.mark.parametrize("path", ["/api/v1/tickets", f"{WS}/Ticket", f"{WS}/Session"])
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_deeply_nested_json_is_a_400_before_authentication(api, caplog, path, content_type) -> None:
    body = "[" * 50_000 + "]" * 50_000
    with caplog.at_level(logging.INFO):
        answer = api.client.post(path, data=body, headers={"Content-Type": content_type})
    assert answer.status_code == 400, answer.data[:300]
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["detail"] == f"the JSON body nests deeper than {MAX_DEPTH} levels"
    assert not any(r.exc_info for r in caplog.records)  # no traceback in the log


def test_a_reasonable_body_still_reaches_the_route(api) -> None:
    answer = api.client.post("/api/v1/tickets", json={"title": "x"}, headers=api.auth(api.agent_key))
    assert answer.status_code == 422  # validated by the route, not refused before it
