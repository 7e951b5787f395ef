"""The durable client's test stack: ``otrs-ext serve`` and a Celery worker as real processes that a test can
kill and start again, on one OTRS database, the session Redis (outbox in its own db) and searchd."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from sqlalchemy import Engine, select, text
from waiting import wait_for

from otrs_ext.api.keys import ApiKeys
from otrs_ext.client import OtrsExtClient, Outbox
from otrs_ext.client.compose import outbox_from_settings
from otrs_ext.localservices.base import free_port
from otrs_ext.settings import Settings

CLI = "from otrs_ext.cli import main; main()"
HERE = Path(__file__).resolve().parent
OUTBOX_DB = 7  # the outbox (and its Celery broker) in its own Redis database, flushed per stack




def child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTRS_EXT_")}
    env.update(settings.environ())
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


class Process:
    """A child in its own process group, so a kill reaches gunicorn's or Celery's workers too."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv, self.env, self.log = argv, env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL the whole group: a crash, not a shutdown (requests in flight die with it)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


class ApiProcess(Process):
    """``otrs-ext serve`` on a fixed port, so a restarted API is where the client expects it."""

    def __init__(self, settings: Settings, port: int, log: Path, workers: int = 2) -> None:
        super().__init__([sys.executable, "-c", CLI, "serve", "--port", str(port), "--workers", str(workers)],
                         child_env(settings), log)
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        super().start()

        def healthy() -> bool:
            assert self.alive(), f"otrs-ext serve died:\n{self.tail()}"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return True
            except OSError:
                return False

        wait_for(healthy, 30, "otrs-ext serve to answer /healthz")


class WorkerProcess(Process):
    """``celery -A otrs_ext.client.worker worker`` with a thread pool, as the README tells operators."""

    def __init__(self, settings: Settings, log: Path, concurrency: int = 8) -> None:
        super().__init__([sys.executable, "-m", "celery", "-A", "otrs_ext.client.worker", "worker", "-P", "threads",
                          "-c", str(concurrency), "-Q", "otrs-ext-outbox", "--without-gossip", "--without-mingle",
                          "--without-heartbeat", "-l", "INFO", "-n", f"outbox-{os.getpid()}@%h"],
                         child_env(settings), log)

    def start(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        super().start()

        def ready() -> bool:
            assert self.alive(), f"celery worker died:\n{self.tail()}"
            with open(self.log, "rb") as handle:
                handle.seek(offset)
                return b" ready." in handle.read()

        wait_for(ready, 60, "the celery worker to be ready")


def add_agent(engine: Engine, schema, login: str) -> int:
    """An OTRS agent with rw on the ``users`` group (the standard queues)."""
    with engine.begin() as conn:
        users = schema.tables.users
        agent_id = conn.execute(users.insert().values(
            login=login, pw="", first_name="Outbox", last_name=login, valid_id=1, create_time="2026-01-01",
            create_by=1, change_time="2026-01-01", change_by=1)).inserted_primary_key[0]
        groups = schema.tables.groups
        group_id = conn.execute(select(groups.c.id).where(groups.c.name == "users")).scalar_one()
        conn.execute(schema.tables.group_user.insert().values(
            user_id=agent_id, group_id=group_id, permission_key="rw", create_time="2026-01-01", create_by=1,
            change_time="2026-01-01", change_by=1))
    return agent_id


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
    (tmp_path / "otrs" / "var" / "tmp").mkdir(parents=True, exist_ok=True)
    from otrs_ext.runtime import resolve_schema

    base = Settings(db_url=engine.url.render_as_string(hide_password=False), redis_url=redis_url,
                    search_url=search_url, otrs_home=tmp_path / "otrs", state_dir=tmp_path / "state",
                    log_json=False, attachment_max_bytes=200_000, api_max_request_bytes=2_000_000,
                    api_idempotency_stale_seconds=2.0).validate()
    schema = resolve_schema(engine, base)
    agent_id = add_agent(engine, schema, f"outbox{free_port()}")
    keys = ApiKeys(engine)
    intake_key = keys.create("intake", name="website", rate_per_minute=100_000)
    agent_key = keys.create("agent", name="website-agent", agent_id=agent_id, rate_per_minute=100_000)
    port = free_port()
    settings = base.with_changes(
        client_api_url=f"http://127.0.0.1:{port}", client_api_key=intake_key, client_timeout_seconds=5.0,
        outbox_redis_url=outbox_url, outbox_backoff_seconds=0.2, outbox_backoff_max_seconds=1.5,
        outbox_deadline_seconds=120.0, outbox_alerts="log,outbox_alert_sink:record", **overrides)
    api = ApiProcess(settings, port, tmp_path / "api.log")
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
