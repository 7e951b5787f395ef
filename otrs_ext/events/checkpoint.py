"""The tailer's durable position, and the lock that keeps a second tailer of the same identity out.

A checkpoint holds two positions: ``resume`` (the start of the oldest transaction whose rows the assembler
still holds, where a restart must read from) and ``dispatched`` (the end of the last transaction whose events
the handlers have finished). It is written only after the handlers returned, so a crash replays events
rather than losing them; handlers are idempotent by event id.

``HandlerPositions`` are per handler and ahead of that: the position up to which a handler's store already
reflects the OTRS database (the search index after ``otrs-ext search reindex``; the other handlers' stores
after a first start's snapshot, while a handler with such a position streams from further back). The tailer
hands that handler only transactions ending after it, and forgets the position once its checkpoint passed it.

The lock is a MariaDB/MySQL user lock (``GET_LOCK``) held by a dedicated connection: it is released by the
server the moment that connection dies, so a tailer killed with SIGKILL never leaves a stale lock behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, Table, select, text
from sqlalchemy.dialects.mysql import insert

from ..db.own_tables import own_table
from ..errors import OtrsExtError
from .rows import Position


class TailerAlreadyRunning(OtrsExtError):
    status = 409
    code = "tailer-running"


@dataclass(frozen=True)
class Checkpoint:
    resume: Position
    dispatched: Position
    updated_at: datetime


class CheckpointStore:
    def __init__(self, engine: Engine, identity: str, own_schema: str | None = None) -> None:
        self.engine = engine
        self.identity = identity
        self.table: Table = own_table("tail_checkpoint", own_schema)

    def load(self) -> Checkpoint | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.identity == self.identity)).mappings().first()
        if row is None:
            return None
        return Checkpoint(resume=Position(row["log_file"], row["log_pos"], row["gtid"]),
                          dispatched=Position(row["dispatched_file"], row["dispatched_pos"]),
                          updated_at=row["updated_at"])

    def save(self, resume: Position, dispatched: Position) -> None:
        values = {"log_file": resume.log_file, "log_pos": resume.log_pos, "gtid": resume.gtid,
                  "dispatched_file": dispatched.log_file, "dispatched_pos": dispatched.log_pos,
                  "updated_at": text("NOW(6)")}
        with self.engine.begin() as conn:
            conn.execute(insert(self.table).values(identity=self.identity, **values)
                         .on_duplicate_key_update(**values))

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.delete().where(self.table.c.identity == self.identity))


class HandlerPositions:
    """Where each handler's store is consistent with OTRS, when that was established outside the tailer.

    Keyed by handler name (``search``), not by tailer identity: it describes the store, which every tailer
    running that handler feeds. A position is consumed by the tailer: forgotten once its checkpoint passed it,
    or when its binlog is gone (the handler then gets the snapshot like the others).
    """

    def __init__(self, engine: Engine, own_schema: str | None = None) -> None:
        self.engine = engine
        self.table: Table = own_table("handler_position", own_schema)

    def load(self, handlers: Iterable[str]) -> dict[str, Position]:
        names = list(handlers)
        if not names:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(self.table).where(self.table.c.handler.in_(names))).mappings().all()
        return {row["handler"]: Position(row["log_file"], row["log_pos"], row["gtid"]) for row in rows}

    def save(self, handler: str, position: Position, *, recorded_by: str) -> None:
        values = {"log_file": position.log_file, "log_pos": position.log_pos, "gtid": position.gtid,
                  "recorded_by": recorded_by, "updated_at": text("NOW(6)")}
        with self.engine.begin() as conn:
            conn.execute(insert(self.table).values(handler=handler, **values).on_duplicate_key_update(**values))

    def forget(self, handler: str, position: Position) -> None:
        """Drop ``handler``'s position if it is still ``position`` (a newer one, say from a reindex that ended
        meanwhile, stays)."""
        t = self.table
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.handler == handler, t.c.log_file == position.log_file,
                                          t.c.log_pos == position.log_pos))


class TailLock:
    """``GET_LOCK('otrs_ext_tail:<identity>')`` on a connection of its own, for the tailer's lifetime."""

    def __init__(self, engine: Engine, identity: str) -> None:
        self.engine = engine
        self.name = f"otrs_ext_tail:{identity}"[:64]
        self._conn: Connection | None = None

    def acquire(self) -> None:
        self.release()
        conn = self.engine.connect()
        got = conn.execute(text("SELECT GET_LOCK(:name, 0)"), {"name": self.name}).scalar()
        if got != 1:
            holder = conn.execute(text("SELECT IS_USED_LOCK(:name)"), {"name": self.name}).scalar()
            conn.close()
            raise TailerAlreadyRunning(
                f"another tailer with identity {self.name.split(':', 1)[1]!r} is running (database connection "
                f"{holder} holds the lock {self.name!r}); stop it, or give this one another OTRS_EXT_TAIL_IDENTITY"
            )
        self._conn = conn

    def held(self) -> bool:
        """False when the lock's connection died (database restart): re-acquire before going on."""
        if self._conn is None:
            return False
        try:
            mine = self._conn.execute(text("SELECT IS_USED_LOCK(:name) = CONNECTION_ID()"),
                                      {"name": self.name}).scalar()
        except Exception:  # noqa: BLE001 - any failure means the lock is gone with its connection
            self._conn.invalidate()
            self._conn = None
            return False
        return mine == 1

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": self.name})
                self._conn.close()
            except Exception:  # noqa: BLE001 - the server drops the lock with the connection anyway
                self._conn.invalidate()
            self._conn = None
