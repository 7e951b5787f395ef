"""The tailer's health and metrics, served as ``/healthz`` and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .rows import Position


class TailMetrics:
    """Updated by the tailer's thread, read by the HTTP thread; plain values under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: Counter[str] = Counter()
        self.handled: dict[str, int] = {}  # events handed to each handler, by handler name
        self.transactions = 0
        self.lag_seconds = 0.0
        self.holding = 0
        self.checkpoint: Position | None = None
        self.checkpoint_at = 0.0
        self.state = "starting"  # starting, snapshot, streaming, reconnecting, stalled, stopped, failed
        self.started_at = time.time()
        self.stalled_from: datetime | None = None  # commit time (UTC) of the transaction a handler is stuck on

    def count(self, events: list, *, handled: Mapping[str, int] | None = None) -> None:
        with self._lock:
            self.events.update(type(e).__name__ for e in events)
            if handled is not None:
                self.handled = dict(handled)

    def update(self, **values: object) -> None:
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)

    def stall(self, reading: datetime | None) -> None:
        """A handler waits for a service: the lag counts from the stuck transaction until it is handled."""
        with self._lock:
            self.state = "stalled"
            if self.stalled_from is None:
                self.stalled_from = reading or datetime.now(UTC).replace(tzinfo=None)

    def _lag(self) -> float:
        if self.stalled_from is None:
            return self.lag_seconds
        return max(self.lag_seconds, (datetime.now(UTC).replace(tzinfo=None) - self.stalled_from).total_seconds())

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP otrs_ext_tail_events_total Domain events handed to the handlers.",
                "# TYPE otrs_ext_tail_events_total counter",
            ]
            lines += [f'otrs_ext_tail_events_total{{type="{name}"}} {n}' for name, n in sorted(self.events.items())]
            if not self.events:
                lines.append('otrs_ext_tail_events_total{type="TicketCreated"} 0')
            lines += [
                "# HELP otrs_ext_tail_handler_events_total Domain events handed to each handler (a handler whose "
                "store was already consistent with a later position, e.g. after a reindex, is not handed the "
                "earlier ones).",
                "# TYPE otrs_ext_tail_handler_events_total counter",
            ]
            lines += [f'otrs_ext_tail_handler_events_total{{handler="{name}"}} {n}'
                      for name, n in sorted(self.handled.items())]
            lines += [
                "# HELP otrs_ext_tail_transactions_total Committed transactions read from the binlog.",
                "# TYPE otrs_ext_tail_transactions_total counter",
                f"otrs_ext_tail_transactions_total {self.transactions}",
                "# HELP otrs_ext_tail_lag_seconds Age of the last transaction read (0 when caught up).",
                "# TYPE otrs_ext_tail_lag_seconds gauge",
                f"otrs_ext_tail_lag_seconds {self._lag():.3f}",
                "# HELP otrs_ext_tail_holding Tickets and articles waiting for OTRS to finish writing them.",
                "# TYPE otrs_ext_tail_holding gauge",
                f"otrs_ext_tail_holding {self.holding}",
                "# HELP otrs_ext_tail_checkpoint_timestamp_seconds When the last checkpoint was stored.",
                "# TYPE otrs_ext_tail_checkpoint_timestamp_seconds gauge",
                f"otrs_ext_tail_checkpoint_timestamp_seconds {self.checkpoint_at:.3f}",
            ]
            if self.checkpoint is not None:
                index, pos = self.checkpoint.key()
                lines += [
                    "# HELP otrs_ext_tail_checkpoint_position Binlog position of the last checkpoint.",
                    "# TYPE otrs_ext_tail_checkpoint_position gauge",
                    f'otrs_ext_tail_checkpoint_position{{file="{self.checkpoint.log_file}"}} {pos}',
                    f"otrs_ext_tail_checkpoint_file_index {index}",
                ]
            lines.append(f'otrs_ext_tail_up{{state="{self.state}"}} {int(self.state in ("streaming", "snapshot"))}')
            return "\n".join(lines) + "\n"

    def healthy(self) -> bool:
        with self._lock:
            return self.state in ("streaming", "snapshot", "starting")


def serve_metrics(metrics: TailMetrics, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Start the endpoint in a daemon thread; ``.shutdown()`` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/metrics":
                body, status, kind = metrics.render().encode(), 200, "text/plain; version=0.0.4; charset=utf-8"
            elif self.path.split("?")[0] == "/healthz":
                ok = metrics.healthy()
                body, status, kind = (b"ok\n" if ok else f"{metrics.state}\n".encode()), (200 if ok else 503), \
                    "text/plain; charset=utf-8"
            else:
                body, status, kind = b"not found\n", 404, "text/plain; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="tail-metrics", daemon=True).start()
    return server
