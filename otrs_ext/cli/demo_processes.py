"""The demo's long-running parts: the tailer in a thread and the API under ``otrs-ext serve`` in a child."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from sqlalchemy import func, select

from ..db.own_tables import own_table
from ..errors import ServiceStartError
from ..events.compose import build_tailer
from ..events.metrics import TailMetrics, serve_metrics
from ..localservices.base import free_port
from ..runtime import build_runtime
from ..settings import Settings


class Tailing:
    """``otrs-ext tail`` in a thread of the demo process, with the event_log handler and its metrics."""

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


class ApiServer:
    """``otrs-ext serve`` (gunicorn, 2 workers) as a child process with the demo's settings."""

    def __init__(self, settings: Settings, log_path: str) -> None:
        self.port = free_port()
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

    def create_ticket(self, key: str, body: dict) -> dict:
        request = urllib.request.Request(self.url + "/api/v1/tickets", data=json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {key}",
                                                  "Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ServiceStartError(f"the demo API refused a ticket: {error.code} {error.read()[:500]!r}") from None
