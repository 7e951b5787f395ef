"""The demo's long-running parts: the tailer in a thread, the API (``otrs-ext serve``) and the durable client's
outbox worker (Celery) as child processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

from sqlalchemy import func, select

from ..client.outbox import QUEUE
from ..db.own_tables import own_table
from ..errors import ServiceStartError
from ..events.compose import build_tailer
from ..events.metrics import TailMetrics, serve_metrics
from ..localservices.base import free_port
from ..runtime import build_runtime
from ..search.compose import build_search_service
from ..settings import Settings


class Tailing:
    """``otrs-ext tail`` in a thread of the demo process, with the handlers of its settings and its metrics."""

    def __init__(self, settings: Settings) -> None:
        self.runtime = build_runtime(settings)
        self.metrics = TailMetrics()
        self.server = serve_metrics(self.metrics, settings.tail_metrics_port)
        self.tailer = build_tailer(self.runtime, metrics=self.metrics)
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="tailer", daemon=True)

    def _run(self) -> None:
        try:
            self.tailer.run(self.stop)
        except BaseException as error:  # noqa: BLE001 - shown by wait_for_ticket
            self.error = error

    def __enter__(self) -> Tailing:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(15)
        self.server.shutdown()
        self.runtime.close()

    def wait_for_ticket(self, tn: str, timeout: float = 120.0) -> str:
        """Wait until the tailer handed the creation of ticket ``tn`` to the handlers."""
        log = own_table("event_log", self.runtime.settings.own_schema)
        ticket = self.runtime.schema.tables.ticket
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise self.error
            with self.runtime.engine.connect() as conn:
                ticket_id = conn.execute(select(ticket.c.id).where(ticket.c.tn == tn)).scalar()
                seen = conn.execute(select(log.c.first_seen).where(log.c.event_id == f"ticket-created:{ticket_id}"))
                if seen.first() is not None:
                    events = conn.execute(select(func.count()).select_from(log)).scalar()
                    return f"saw ticket {tn} created ({events} events handled, snapshot included)"
            time.sleep(0.2)
        raise ServiceStartError(f"the tailer did not report ticket {tn} within {timeout:.0f}s")

    def wait_until_searchable(self, query: str, tn: str, user_id: int, timeout: float = 120.0) -> int:
        """Wait until searching ``query`` as agent ``user_id`` finds ticket ``tn``; returns the ticket total."""
        service = build_search_service(self.runtime)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise self.error
            found = service.search(query, user_id=user_id, sort="recent", limit=20)
            if any(hit.tn == tn for hit in found.hits):
                return found.total
            time.sleep(0.2)
        raise ServiceStartError(f"ticket {tn} was not searchable for {query!r} within {timeout:.0f}s; "
                                "is the search handler running?")


class ApiServer:
    """``otrs-ext serve`` (gunicorn, 2 workers) as a child process with the demo's settings."""

    def __init__(self, settings: Settings, log_path: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> ApiServer:
        env = {**os.environ, **self.settings.environ()}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from otrs_ext.cli import main; main()", "serve", "--port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceStartError(f"otrs-ext serve exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise ServiceStartError(f"otrs-ext serve did not answer on {self.url}; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def search_total(self, key: str, query: str) -> int:
        """How many tickets ``GET /api/v1/search`` finds for ``query`` with an agent key."""
        request = urllib.request.Request(f"{self.url}/api/v1/search?{urllib.parse.urlencode({'q': query})}",
                                         headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(json.loads(response.read())["total"])


class OutboxWorker:
    """The durable client's outbox worker, started as the README tells operators to (``celery -A
    otrs_ext.client.worker worker -P threads``), with the demo's settings; it delivers the website's ticket."""

    def __init__(self, settings: Settings, log_path: str) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.argv = [sys.executable, "-m", "celery", "-A", "otrs_ext.client.worker", "worker", "-P", "threads",
                     "-c", "2", "-Q", QUEUE, "--without-gossip", "--without-mingle", "--without-heartbeat",
                     "-l", "INFO", "-n", f"demo-outbox-{os.getpid()}@%h"]

    def __enter__(self) -> OutboxWorker:
        env = {**os.environ, **self.settings.environ()}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        return self  # it connects to the broker on its own; a message sent meanwhile waits there

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # Celery's warm shutdown: finishes the delivery in hand
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def command(self) -> str:
        return " ".join(self.argv[1:]).replace("-m celery", "celery", 1)

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise ServiceStartError(f"the outbox worker exited with {code}; see {self.log_path}")
