"""Requests ``otrs-ext serve`` refuses before the app sees them (gunicorn's request-line and header limits)
are answered as problem+json, like every other error of the API, by a real ``otrs-ext serve`` process."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.processes import ApiProcess
from support.runtimes import settings_for

from otrs_ext.localservices.base import free_port


@pytest.fixture
def served(otrs_database, redis_server, sphinx_server, tmp_path: Path) -> Iterator[str]:
    engine = otrs_database("znuny71", migrated=True)
    settings = settings_for(engine, redis_server.url, sphinx_server.url, tmp_path)
    api = ApiProcess(settings, free_port(), tmp_path / "serve.log", workers=1, threads=2)
    try:
        api.start()
        yield api.url
    finally:
        api.stop(30)  # SIGTERM to our own child's process group (gunicorn and its workers)


def test_a_20_kb_url_is_a_414_problem(served: str) -> None:
    response = requests.get(served + "/api/v1/tickets?customer_user=" + "x" * 20_000, timeout=10)
    assert response.status_code == 414
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 414 and body["type"].endswith("/http-414") and body["title"] == "URI Too Long"
    assert "bytes this server accepts" in body["detail"]
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_too_large_headers_are_a_431_problem(served: str) -> None:
    response = requests.get(served + "/healthz", headers={"X-Big": "y" * 10_000}, timeout=10)
    assert response.status_code == 431
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 431


def test_a_malformed_request_line_is_a_400_problem(served: str) -> None:
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Type: application/problem+json" in head
    assert b'"status": 400' in body


def test_the_limits_still_hold_below_them(served: str) -> None:
    """A long URL under the limit (gunicorn's default, 4094 bytes) reaches the app and its authentication."""
    response = requests.get(served + "/api/v1/tickets?customer_user=" + "x" * 3_000, timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
