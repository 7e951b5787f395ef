"""``python -m cron.otrs_cache_retry`` replays invalidations spooled while OTRS's Redis cache was down."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import redis

from cron import otrs_cache_retry
from otrs_ext.settings import Settings
from otrs_ext.tickets.compose import make_invalidator
from otrs_ext.tickets.otrs_cache import ticket_keys


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_spooled_invalidations_are_replayed_once_redis_is_back(redis_server, tmp_path: Path, monkeypatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    down = Settings.load({"OTRS_EXT_OTRS_CACHE": f"redis://127.0.0.1:{_closed_port()}/3",
                          "OTRS_EXT_STATE_DIR": str(tmp_path)})
    assert make_invalidator(down).invalidate(ticket_keys(7)) is False

    up = f"{redis_server.url.rsplit('/', 1)[0]}/3"
    client = redis.Redis.from_url(up)
    client.set("Ticket:Cache::GetTicket7", b"stale")
    monkeypatch.setenv("OTRS_EXT_OTRS_CACHE", up)
    monkeypatch.setenv("OTRS_EXT_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("OTRS_EXT_LOG_JSON", "false")
    assert otrs_cache_retry.main() == 0
    report = json.loads(capsys.readouterr().out)["otrs_cache_retry"]
    assert report["pending"] == 0 and report["done"] == len(ticket_keys(7))
    assert client.get("Ticket:Cache::GetTicket7") is None
    client.close()
