"""A real ``otrs-ext serve`` (its default worker type and threads, 2 workers) holds 200 open pool event streams
at once, and each of them receives a message published to its agent's channel."""

from __future__ import annotations

import json
import selectors
import socket
import time
from pathlib import Path

import redis
from support.agents import add_agent_with
from support.processes import ApiProcess
from support.runtimes import settings_for

import schema_maps
from otrs_ext.api.keys import ApiKeys
from otrs_ext.localservices.base import free_port
from otrs_ext.pool.sessions import PoolSessions

STREAMS = 200
AGENTS = 4  # 50 streams each: under the per-agent limit of the pool routes


def _read_all_until(streams: dict[socket.socket, str], marker: str, seconds: float) -> None:
    """Read every stream (one thread, a selector) until each holds ``marker``."""
    selector = selectors.DefaultSelector()
    for sock, seen in streams.items():
        if marker not in seen:
            selector.register(sock, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    while selector.get_map():
        left = deadline - time.monotonic()
        assert left > 0, f"{len(selector.get_map())} streams without {marker!r}"
        for key, _ in selector.select(timeout=left):
            sock = key.fileobj
            chunk = sock.recv(65536)
            assert chunk, f"a stream closed before {marker!r}: {streams[sock][-300:]!r}"
            streams[sock] += chunk.decode()
            if marker in streams[sock]:
                selector.unregister(sock)
    selector.close()


def test_serve_holds_200_event_streams_and_pushes_to_each(otrs_database, redis_server, sphinx_server,
                                                           tmp_path: Path) -> None:
    engine = otrs_database("znuny71", migrated=True)
    schema = schema_maps.load("znuny71")
    with engine.begin() as conn:
        agents = [add_agent_with(conn, schema, f"push{i}", "rw", first_name="P", last_name=str(i))
                  for i in range(AGENTS)]
    keys = [ApiKeys(engine).create("agent", name=f"push{i}", agent_id=a, rate_per_minute=1000)
            for i, a in enumerate(agents)]
    settings = settings_for(engine, redis_server.url, sphinx_server.url, tmp_path)
    api = ApiProcess(settings, free_port(), tmp_path / "serve.log", workers=2)
    port = int(api.url.rsplit(":", 1)[1])
    api.start()
    streams: dict[socket.socket, str] = {}
    owner: dict[socket.socket, int] = {}
    try:
        for i in range(STREAMS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(f"GET /api/v1/pool/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {keys[i % AGENTS]}"
                         "\r\nAccept: text/event-stream\r\n\r\n".encode())
            streams[sock], owner[sock] = "", agents[i % AGENTS]
        _read_all_until(streams, "event: status", 60)
        assert all(seen.startswith("HTTP/1.1 200") for seen in streams.values())
        sessions = PoolSessions(redis.Redis.from_url(redis_server.url))
        for agent_id in agents:
            sessions.publish(agent_id, {"type": "assigned", "ticket": {"id": agent_id}})
        _read_all_until(streams, "event: assigned", 30)
        for sock, seen in streams.items():
            data = seen.split("event: assigned\ndata: ", 1)[1].split("\n", 1)[0]
            assert json.loads(data)["ticket"]["id"] == owner[sock]
        assert api.alive()
    finally:
        for sock in streams:
            sock.close()
        api.stop(30)
