"""The tailer: binlog → assembler → handlers → checkpoint, for as long as it runs.

One session reads from the stored checkpoint (or from a snapshot when there is none, or when the binlog it
needs is gone). Connection errors end the session; the tailer waits with growing backoff and starts a new
one from the last stored checkpoint, with a fresh assembler. Handler failures end the tailer (fail-stop).

Checkpoints are stored after the handlers returned: throttled while events flow, always on idle, binlog
rotation, DDL and shutdown. Work handlers deferred runs right after a stored checkpoint.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pymysql
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

import schema_maps
from schema_maps import OtrsSchema

from .assemble import Assembler
from .binlog import BinlogSource, Idle, Item, Rotated, SchemaChanged
from .checkpoint import Checkpoint, CheckpointStore, TailerAlreadyRunning, TailLock
from .dispatch import Dispatcher, ServiceDown
from .domain import DomainEvent
from .metrics import TailMetrics
from .resolver import DatabaseResolver
from .rows import Position, Transaction
from .snapshot import Snapshot

log = logging.getLogger(__name__)
CONNECTION_ERRORS = (OperationalError, DBAPIError, pymysql.err.OperationalError, pymysql.err.InterfaceError,
                     ConnectionError, OSError)


LOCK_CHECK_SECONDS = 5.0


class LockLost(ConnectionError):
    """The tailer's lock went with its connection and cannot be taken again yet: stop streaming, retry."""


@dataclass(frozen=True)
class TailConfig:
    identity: str = "default"
    server_id: int = 0  # replica id the tailer registers with; 0 = derived from the identity
    debounce: float = 2.0
    checkpoint_interval: float = 1.0
    heartbeat: float = 1.0
    use_gtid: bool = True
    backoff_max: float = 30.0

    def replica_id(self) -> int:
        return self.server_id or 100_000 + zlib.crc32(self.identity.encode()) % 900_000


SourceFactory = Callable[[OtrsSchema, Position], Iterable[Item]]


class Tailer:
    def __init__(self, engine: Engine, schema: OtrsSchema, dispatcher: Dispatcher, *,
                 own_schema: str | None = None, config: TailConfig = TailConfig(),
                 metrics: TailMetrics | None = None, source_factory: SourceFactory | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.dispatcher = dispatcher
        self.config = config
        self.metrics = metrics or TailMetrics()
        self.store = CheckpointStore(engine, config.identity, own_schema)
        self.lock = TailLock(engine, config.identity)
        self.source_factory = source_factory or self._binlog_source
        self._source: object | None = None
        self._lock_checked = 0.0
        self._reading: datetime | None = None  # commit time of the transaction being handled

    # --- the loop ---------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        self.lock.acquire()
        backoff = 0.5
        try:
            while not stop.is_set():
                try:
                    self._session(stop)
                    backoff = 0.5
                except ServiceDown as error:
                    # /healthz answers 503 "stalled" and the lag keeps growing from the stuck transaction on
                    self.metrics.stall(self._reading)
                    log.warning("%s; retrying in %.1fs", error, backoff,
                                extra={"event": "tail_service_down", "backoff": backoff,
                                       "handler": error.handler, "event_id": error.event.event_id})
                    if stop.wait(backoff):
                        break
                    backoff = min(backoff * 2, self.config.backoff_max)
                except (*CONNECTION_ERRORS, LockLost) as error:
                    self.metrics.update(state="reconnecting")
                    log.warning("tailer lost the database or its lock (%s: %s); retrying in %.1fs",
                                type(error).__name__, error, backoff,
                                extra={"event": "tail_reconnect", "backoff": backoff})
                    if stop.wait(backoff):
                        break
                    backoff = min(backoff * 2, self.config.backoff_max)
        except Exception:
            self.metrics.update(state="failed")
            raise
        finally:
            self.lock.release()
        self.metrics.update(state="stopped")

    def _hold_lock(self) -> None:
        """Stream only while holding the lock. A lock lost with its connection (a database restart, a network
        blip) is taken again; while the server still gives it to a dead or other connection, this session
        ends and the run loop waits and tries again, instead of streaming beside another tailer."""
        self._lock_checked = time.monotonic()
        if self.lock.held():
            return
        try:
            self.lock.acquire()
        except TailerAlreadyRunning as busy:
            raise LockLost(str(busy)) from None

    def _session(self, stop: threading.Event) -> None:
        self._hold_lock()
        checkpoint = self.store.load()
        if checkpoint is None or self._purged(checkpoint.resume):
            checkpoint = self._snapshot(checkpoint)
        assembler = Assembler(DatabaseResolver(self.engine, self.schema), debounce=self.config.debounce)
        dispatched = checkpoint.dispatched
        saved_at = time.monotonic()
        dirty = False
        self.metrics.update(state="streaming", checkpoint=checkpoint.resume)
        source = self.source_factory(self.schema, checkpoint.resume)
        self._source = source
        log.info("tailer streaming from %s", checkpoint.resume,
                 extra={"event": "tail_streaming", "position": str(checkpoint.resume)})
        try:
            for item in source:
                if isinstance(item, Transaction):
                    events = assembler.feed(item)
                    if item.end.key() <= dispatched.key():
                        events = []  # read again only to rebuild what the assembler held; handled before
                    else:
                        dispatched = item.end
                    self._reading = item.timestamp
                    self._dispatch(events + assembler.flush_due())
                    lag = (datetime.now(UTC).replace(tzinfo=None) - item.timestamp).total_seconds()
                    self.metrics.update(transactions=self.metrics.transactions + 1, lag_seconds=max(0.0, lag),
                                        holding=assembler.holding, stalled_from=None)
                    dirty = True
                    if time.monotonic() - saved_at >= self.config.checkpoint_interval:
                        self._save(assembler, dispatched)
                        saved_at, dirty = time.monotonic(), False
                elif isinstance(item, Idle):
                    self._reading = datetime.now(UTC).replace(tzinfo=None)
                    self._dispatch(assembler.flush_due())
                    self.metrics.update(lag_seconds=0.0, holding=assembler.holding, stalled_from=None)
                    if dirty or assembler.holding == 0:
                        dispatched = max(dispatched, item.position, key=Position.key)
                        self._save(assembler, dispatched, fallback=item.position)
                        saved_at, dirty = time.monotonic(), False
                elif isinstance(item, Rotated | SchemaChanged):
                    dispatched = max(dispatched, item.position, key=Position.key)
                    self._save(assembler, dispatched, fallback=item.position)
                    saved_at, dirty = time.monotonic(), False
                    if isinstance(item, SchemaChanged) and self._schema_moved(item):
                        return  # a new session maps the tables anew
                if stop.is_set():
                    break
            if dirty:
                self._save(assembler, dispatched)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
            self._source = None

    # --- steps ------------------------------------------------------------------------------------------
    def _dispatch(self, events: list[DomainEvent]) -> None:
        if events:
            self.dispatcher.dispatch(events)
            self.metrics.count(events)

    def _save(self, assembler: Assembler, dispatched: Position, *, fallback: Position | None = None) -> None:
        """Store where to resume (the oldest held transaction, else the newest position read)."""
        newest = max(fallback or dispatched, dispatched, key=Position.key)
        resume = assembler.resume_position() if assembler.holding else newest
        if time.monotonic() - self._lock_checked >= LOCK_CHECK_SECONDS:
            self._hold_lock()
        self.store.save(resume, newest)
        self.metrics.update(checkpoint=resume, checkpoint_at=time.time())
        self.dispatcher.run_deferred()

    def _snapshot(self, previous: Checkpoint | None) -> Checkpoint:
        reason = "first start" if previous is None else self._snapshot_reason(previous)
        log.warning("tailer takes a snapshot (%s)", reason, extra={"event": "tail_snapshot", "reason": reason})
        self.metrics.update(state="snapshot")

        def dispatch(events: list[DomainEvent]) -> None:
            self._dispatch(events)
            self.dispatcher.run_deferred()

        report = self._snapshot_reader().run(dispatch)
        self.store.save(report.position, report.position)
        self.metrics.update(checkpoint=report.position, checkpoint_at=time.time())
        return Checkpoint(report.position, report.position, datetime.now(UTC))

    def _snapshot_reason(self, previous: Checkpoint) -> str:
        return f"the binlog at {previous.resume} is gone"

    def _snapshot_reader(self) -> Snapshot:
        """Positioned by the binlog coordinates of its consistent read."""
        return Snapshot(self.engine, self.schema)

    def _purged(self, position: Position) -> bool:
        with self.engine.connect() as conn:
            files = {row[0] for row in conn.exec_driver_sql("SHOW BINARY LOGS")}
        return position.log_file not in files

    def _schema_moved(self, change: SchemaChanged) -> bool:
        """DDL on an OTRS table: re-detect the generation (an upgrade may have renamed tables)."""
        with self.engine.connect() as conn:
            detected = schema_maps.detect(conn)
        log.info("DDL on %s: %s", change.table, change.query[:200],
                 extra={"event": "tail_ddl", "table": change.table})
        if detected.generation != self.schema.generation:
            log.warning("OTRS schema changed from %s to %s", self.schema.label, detected.label,
                        extra={"event": "tail_schema_changed", "generation": detected.generation})
            self.schema = detected
            return True
        return False

    def _binlog_source(self, schema: OtrsSchema, start: Position) -> BinlogSource:
        url = self.engine.url
        connection = {"host": url.host or "127.0.0.1", "port": url.port or 3306, "user": url.username or "",
                      "password": url.password or "", "charset": "utf8mb4"}
        return BinlogSource(connection, url.database or "", schema, server_id=self.config.replica_id(),
                            start=start, heartbeat=self.config.heartbeat, use_gtid=self.config.use_gtid)


def server_position(engine: Engine) -> Position:
    """The server's current binlog end (for tests and lag)."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SHOW MASTER STATUS").first()
        gtid = conn.execute(text("SELECT @@gtid_binlog_pos")).scalar() if row else None
    return Position(row[0], int(row[1]), gtid or None)
