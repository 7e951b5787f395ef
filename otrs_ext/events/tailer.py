"""The tailer: binlog → assembler → handlers → checkpoint, for as long as it runs.

One session reads from the stored checkpoint (or from a snapshot when there is none, or when the binlog it
needs is gone). Connection errors end the session; the tailer waits with growing backoff and starts a new
one from the last stored checkpoint, with a fresh assembler. Handler failures end the tailer (fail-stop).

Checkpoints are stored after the handlers returned: throttled while events flow, always on idle, binlog
rotation, DDL and shutdown. Work handlers deferred runs right after a stored checkpoint.

Events go to the handlers per transaction as transactions are committed; while the tailer is behind, the
events of consecutive transactions go together (``_Batch``), so that handlers with ``on_batch`` commit once
per batch. A handler whose store is consistent with a position ahead of the checkpoint (``HandlerPositions``:
after ``otrs-ext search reindex``) gets only the transactions after it, and skips the first start's snapshot.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pymysql
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

import schema_maps
from schema_maps import OtrsSchema

from .assemble import Assembler
from .binlog import BinlogSource, Idle, Item, Rotated, SchemaChanged
from .checkpoint import Checkpoint, CheckpointStore, HandlerPositions, TailerAlreadyRunning, TailLock
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
    # while behind (the transaction read was committed more than ``batch_after`` seconds ago), the events of
    # consecutive transactions go to the handlers together, up to ``batch_events`` (0: each transaction alone)
    batch_events: int = 1000
    batch_after: float = 2.0

    def replica_id(self) -> int:
        return self.server_id or 100_000 + zlib.crc32(self.identity.encode()) % 900_000


SourceFactory = Callable[[OtrsSchema, Position], Iterable[Item]]
NOBODY: frozenset[str] = frozenset()


@dataclass
class _Batch:
    """Events read but not yet handed to the handlers: the last transaction's, or while the tailer is behind
    those of several consecutive transactions. Handed over before every checkpoint."""

    events: list[DomainEvent] = field(default_factory=list)
    end: Position | None = None  # the end of the last transaction read into it
    oldest: datetime | None = None  # commit time of the first transaction with events in it (for the stall)
    exclude: frozenset[str] = NOBODY  # handlers whose store already reflects its transactions

    def add(self, events: list[DomainEvent], txn: Transaction) -> None:
        if events and self.oldest is None:
            self.oldest = txn.timestamp
        self.events.extend(events)
        self.end = txn.end


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
        self.positions = HandlerPositions(engine, own_schema)
        self._ahead: dict[str, Position] = {}  # handler -> the position its store is consistent with
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
        self._ahead = self._handler_positions()
        if checkpoint is None or self._purged(checkpoint.resume):
            checkpoint = self._snapshot(checkpoint)
        assembler = Assembler(DatabaseResolver(self.engine, self.schema), debounce=self.config.debounce)
        dispatched = checkpoint.dispatched
        batch = _Batch()
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
                    exclude = self._stores_ahead(item.end)
                    if exclude != batch.exclude:
                        dispatched = self._hand_over(batch, dispatched)
                        batch.exclude = exclude
                    batch.add(events + assembler.flush_due(), item)
                    lag = (datetime.now(UTC).replace(tzinfo=None) - item.timestamp).total_seconds()
                    if lag < self.config.batch_after or len(batch.events) >= self.config.batch_events:
                        dispatched = self._hand_over(batch, dispatched)
                    self.metrics.update(transactions=self.metrics.transactions + 1, lag_seconds=max(0.0, lag),
                                        holding=assembler.holding, stalled_from=None)
                    dirty = True
                    if time.monotonic() - saved_at >= self.config.checkpoint_interval:
                        dispatched = self._hand_over(batch, dispatched)
                        self._save(assembler, dispatched)
                        saved_at, dirty = time.monotonic(), False
                elif isinstance(item, Idle):
                    dispatched = self._hand_over(batch, dispatched)
                    self._reading = datetime.now(UTC).replace(tzinfo=None)
                    self._dispatch(assembler.flush_due(), exclude=self._stores_ahead(item.position))
                    self.metrics.update(lag_seconds=0.0, holding=assembler.holding, stalled_from=None)
                    if dirty or assembler.holding == 0:
                        dispatched = max(dispatched, item.position, key=Position.key)
                        self._save(assembler, dispatched, fallback=item.position)
                        saved_at, dirty = time.monotonic(), False
                elif isinstance(item, Rotated | SchemaChanged):
                    dispatched = self._hand_over(batch, dispatched)
                    dispatched = max(dispatched, item.position, key=Position.key)
                    self._save(assembler, dispatched, fallback=item.position)
                    saved_at, dirty = time.monotonic(), False
                    if isinstance(item, SchemaChanged) and self._schema_moved(item):
                        return  # a new session maps the tables anew
                if stop.is_set():
                    break
            if dirty:
                dispatched = self._hand_over(batch, dispatched)
                self._save(assembler, dispatched)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
            self._source = None

    # --- steps ------------------------------------------------------------------------------------------
    def _dispatch(self, events: list[DomainEvent], *, exclude: frozenset[str] = NOBODY) -> None:
        if events:
            self.dispatcher.dispatch(events, exclude=exclude)
            self.metrics.count(events, handled=self.dispatcher.handled)

    def _hand_over(self, batch: _Batch, dispatched: Position) -> Position:
        """Hand ``batch`` to the handlers and empty it; returns what is dispatched then."""
        if batch.events:
            self._reading = batch.oldest
            self._dispatch(batch.events, exclude=batch.exclude)
        if batch.end is not None:
            dispatched = max(dispatched, batch.end, key=Position.key)
        batch.events, batch.end, batch.oldest = [], None, None
        return dispatched

    def _stores_ahead(self, end: Position) -> frozenset[str]:
        """The handlers whose store already reflects the transaction ending at ``end``."""
        if not self._ahead:
            return NOBODY
        return frozenset(name for name, position in self._ahead.items() if end.key() <= position.key())

    def _handler_positions(self) -> dict[str, Position]:
        """The registered handlers' stored positions this tailer can stream from; the others are forgotten."""
        usable: dict[str, Position] = {}
        for name, position in self.positions.load(self.dispatcher.handler_names()).items():
            if self._usable(position):
                usable[name] = position
                continue
            log.warning("handler %r: its store was consistent with %s, which this tailer cannot read from; "
                        "it gets the events from the checkpoint (or the snapshot) like the others", name, position,
                        extra={"event": "tail_handler_position_unusable", "handler": name,
                               "position": str(position)})
            self.positions.forget(name, position)
        return usable

    def _usable(self, position: Position) -> bool:
        """The binlog there is still on the server, and not ahead of it (a ``RESET MASTER`` numbers anew)."""
        return not self._purged(position) and position.key() <= self._source_position().key()

    def _source_position(self) -> Position:
        return server_position(self.engine)

    def _save(self, assembler: Assembler, dispatched: Position, *, fallback: Position | None = None) -> None:
        """Store where to resume (the oldest held transaction, else the newest position read)."""
        newest = max(fallback or dispatched, dispatched, key=Position.key)
        resume = assembler.resume_position() if assembler.holding else newest
        if time.monotonic() - self._lock_checked >= LOCK_CHECK_SECONDS:
            self._hold_lock()
        self.store.save(resume, newest)
        self.metrics.update(checkpoint=resume, checkpoint_at=time.time())
        for name in [n for n, position in self._ahead.items() if position.key() <= newest.key()]:
            self.positions.forget(name, self._ahead.pop(name))  # passed: the checkpoint says it all now
        self.dispatcher.run_deferred()

    def _snapshot(self, previous: Checkpoint | None) -> Checkpoint:
        reason = "first start" if previous is None else self._snapshot_reason(previous)
        ahead = dict(self._ahead)
        fed = [name for name in self.dispatcher.handler_names() if name not in ahead]
        if ahead and not fed:
            start = min(ahead.values(), key=Position.key)
            log.warning("tailer takes no snapshot (%s): every handler's store is consistent with a position the "
                        "binlog still has (%s); streaming from %s", reason,
                        ", ".join(f"{name} at {position}" for name, position in ahead.items()), start,
                        extra={"event": "tail_snapshot_skipped", "reason": reason, "position": str(start)})
            self.store.save(start, start)
            return Checkpoint(start, start, datetime.now(UTC))
        log.warning("tailer takes a snapshot (%s)", reason, extra={"event": "tail_snapshot", "reason": reason})
        self.metrics.update(state="snapshot")
        exclude = frozenset(ahead)

        def dispatch(events: list[DomainEvent]) -> None:
            self._dispatch(events, exclude=exclude)
            self.dispatcher.run_deferred()

        report = self._snapshot_reader().run(dispatch)
        start = min([report.position, *ahead.values()], key=Position.key)
        if start.key() < report.position.key():
            # the handlers with a position of their own stream from further back than the snapshot: the
            # snapshot's handlers get only what comes after it
            for name in fed:
                self.positions.save(name, report.position, recorded_by="snapshot")
                self._ahead[name] = report.position
        self.store.save(start, start)
        self.metrics.update(checkpoint=start, checkpoint_at=time.time())
        return Checkpoint(start, start, datetime.now(UTC))

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
