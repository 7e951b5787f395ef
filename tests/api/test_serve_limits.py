"""Requests ``otrs-ext serve`` refuses before the app sees them (gunicorn's request-line and header limits)
are answered as problem+json, like every other error of the API, by a real ``otrs-ext serve`` process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from waiting import wait_for

from otrs_ext.localservices.base import free_port
from otrs_ext.settings import Settings


@pytest.fixture
def served(otrs_database, redis_server, sphinx_server, tmp_path: Path) -> Iterator[str]:
    engine = otrs_database("znuny71", migrated=True)
    (tmp_path / "otrs" / "var" / "tmp").mkdir(parents=True)
    settings = Settings(db_url=engine.url.render_as_string(hide_password=False), redis_url=redis_server.url,
                        search_url=sphinx_server.url, otrs_home=tmp_path / "otrs", state_dir=tmp_path / "state")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTRS_EXT_")} | settings.environ()
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-c", "from otrs_ext.cli import main; main()", "serve",
                                    "--port", str(port), "--workers", "1", "--threads", "2"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert process.poll() is None, f"otrs-ext serve died:\n{log.read_text(errors='replace')}"
        try:
            return requests.get(url + "/healthz", timeout=1).ok
        except requests.ConnectionError:
            return False

    try:
        wait_for(healthy, 30, "otrs-ext serve to answer /healthz")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # our own child's process group (gunicorn and its workers)
        process.wait(30)


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
