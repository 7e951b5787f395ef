"""The durable client's test stack: ``otrs-ext serve`` and a Celery worker as real processes that a test can
kill and start again, on one OTRS database, the session Redis (outbox in its own db) and searchd."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from sqlalchemy import Engine, text
from support.agents import add_agent_with
from support.processes import ApiProcess, Process, child_env
from support.runtimes import settings_for
from support.waiting import wait_for

from otrs_ext.api.keys import ApiKeys
from otrs_ext.client import OtrsExtClient, Outbox
from otrs_ext.client.compose import outbox_from_settings
from otrs_ext.localservices.base import free_port
from otrs_ext.settings import Settings

HERE = Path(__file__).resolve().parent  # on the children's PYTHONPATH: the alert sink lives here
OUTBOX_DB = 7  # the outbox (and its Celery broker) in its own Redis database, flushed per stack


class WorkerProcess(Process):
    """``celery -A otrs_ext.client.worker worker`` with a thread pool, as the README tells operators."""

    def __init__(self, settings: Settings, log: Path, concurrency: int = 8) -> None:
        super().__init__([sys.executable, "-m", "celery", "-A", "otrs_ext.client.worker", "worker", "-P", "threads",
                          "-c", str(concurrency), "-Q", "otrs-ext-outbox", "--without-gossip", "--without-mingle",
                          "--without-heartbeat", "-l", "INFO", "-n", f"outbox-{os.getpid()}@%h"],
                         child_env(settings.environ(), [HERE]), log)

    def start(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        super().start()

        def ready() -> bool:
            assert self.alive(), f"celery worker died:\n{self.tail()}"
            with open(self.log, "rb") as handle:
                handle.seek(offset)
                return b" ready." in handle.read()

        wait_for(ready, 60, "the celery worker to be ready")


@dataclass
class Stack:
    settings: Settings
    engine: Engine
    api: ApiProcess
    worker: WorkerProcess
    intake_key: str
    agent_key: str
    outbox_redis: redis.Redis

    def client(self, key: str | None = None, **overrides) -> OtrsExtClient:
        settings = self.settings if key is None else self.settings.with_changes(client_api_key=key)
        settings = settings.with_changes(**overrides) if overrides else settings
        return OtrsExtClient(self.api.url, settings.client_api_key, outbox=outbox_from_settings(settings),
                             timeout=settings.client_timeout_seconds)

    def outbox(self) -> Outbox:
        return outbox_from_settings(self.settings)

    def drained(self) -> bool:
        status = self.outbox().store.status(0)
        return status.pending == 0

    def tickets(self, prefix: str) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT title, id FROM ticket WHERE title LIKE :p"), {"p": prefix + "%"})
            return {title: ticket_id for title, ticket_id in rows}

    def attachment_digests(self, prefix: str) -> dict[str, list[tuple[str, str]]]:
        """title -> [(filename, sha256)] of every attachment stored for the ticket, from the OTRS tables."""
        sql = text("SELECT t.title, a.filename, a.content FROM ticket t JOIN article r ON r.ticket_id = t.id "
                   "JOIN article_data_mime_attachment a ON a.article_id = r.id WHERE t.title LIKE :p ORDER BY a.id")
        found: dict[str, list[tuple[str, str]]] = {}
        with self.engine.connect() as conn:
            for title, filename, content in conn.execute(sql, {"p": prefix + "%"}):
                found.setdefault(title, []).append((filename, hashlib.sha256(content).hexdigest()))
        return found


@contextlib.contextmanager
def running_stack(engine: Engine, redis_url: str, search_url: str, tmp_path: Path, **overrides) -> Iterator[Stack]:
    """The API and the worker on ``engine``'s database; settings tuned for fast retries (overridable)."""
    outbox_url = redis_url.rsplit("/", 1)[0] + f"/{OUTBOX_DB}"
    outbox_redis = redis.Redis.from_url(outbox_url)
    outbox_redis.flushdb()
    from otrs_ext.runtime import resolve_schema

    base = settings_for(engine, redis_url, search_url, tmp_path, log_json=False, attachment_max_bytes=200_000,
                        api_max_request_bytes=2_000_000, api_idempotency_stale_seconds=2.0)
    login = f"outbox{free_port()}"
    with engine.begin() as conn:  # an agent with rw on the standard queues
        agent_id = add_agent_with(conn, resolve_schema(engine, base), login, "rw", first_name="Outbox",
                                  last_name=login, at="2026-01-01")
    keys = ApiKeys(engine)
    intake_key = keys.create("intake", name="website", rate_per_minute=100_000)
    agent_key = keys.create("agent", name="website-agent", agent_id=agent_id, rate_per_minute=100_000)
    port = free_port()
    settings = base.with_changes(
        client_api_url=f"http://127.0.0.1:{port}", client_api_key=intake_key, client_timeout_seconds=5.0,
        outbox_redis_url=outbox_url, outbox_backoff_seconds=0.2, outbox_backoff_max_seconds=1.5,
        outbox_deadline_seconds=120.0, outbox_alerts="log,outbox_alert_sink:record", **overrides)
    api = ApiProcess(settings, port, tmp_path / "api.log", pythonpath=[HERE])
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        api.start()
        worker.start()
        yield Stack(settings, engine, api, worker, intake_key, agent_key, outbox_redis)
    finally:
        worker.stop()
        api.stop()
        outbox_redis.close()


def alerts(stack: Stack) -> list[dict]:
    return [json.loads(raw) for raw in stack.outbox_redis.lrange("test:alerts", 0, -1)]
