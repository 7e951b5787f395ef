"""Helpers for the fault tests: ``otrs-ext tail`` as a real process, OTRS-style bulk writes, and reading back
what the ``event_log`` handler recorded."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from support.processes import CLI, Process, child_env
from support.tailing import FAST, Recorder, Running, dispatcher

import schema_maps
from otrs_ext.events.checkpoint import Checkpoint, CheckpointStore
from otrs_ext.events.tailer import TailConfig, Tailer


class TailDaemon(Process):
    """``otrs-ext tail`` in a subprocess, as an operator runs it; output goes to ``log``."""

    def __init__(self, engine: Engine, log: Path, handlers: str = "event_log",
                 env: dict[str, str] | None = None) -> None:
        super().__init__([*CLI, "tail"], child_env({
            "OTRS_EXT_DB_URL": engine.url.render_as_string(hide_password=False),
            "OTRS_EXT_HANDLERS": handlers,
            "OTRS_EXT_TAIL_DEBOUNCE_SECONDS": "0.5",
            "OTRS_EXT_TAIL_CHECKPOINT_SECONDS": "0.5",
            "OTRS_EXT_LOG_JSON": "false",
            **(env or {}),
        }), log)
        self._offset = 0

    def start(self, *args: str) -> TailDaemon:
        with open(self.log, "ab") as out:
            out.write(f"--- start {self.starts + 1}: otrs-ext tail {' '.join(args)}\n".encode())
            self._offset = out.tell()
        self.argv = [*CLI, "tail", *args]
        super().start()
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, no last checkpoint, no lock release by the process itself."""
        assert self.process is not None
        super().kill()

    def terminate(self) -> int:
        """SIGTERM, as systemd stops it: the tailer finishes the transaction and stores its checkpoint."""
        return self.stop(20)

    def running(self) -> bool:
        return self.alive()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def streaming(self) -> bool:
        """This run has started to stream (it logged where from)."""
        with open(self.log, "rb") as log:
            log.seek(self._offset)
            return b"tailer streaming from" in log.read()


@contextmanager
def tail_daemon(engine: Engine, log: Path, **kwargs: object) -> Iterator[TailDaemon]:
    daemon = TailDaemon(engine, log, **kwargs)  # type: ignore[arg-type]
    try:
        yield daemon
    finally:
        if daemon.running():
            daemon.kill()


# --- OTRS-style bulk writes ----------------------------------------------------------------------------------
TICKET_INSERT = (
    "INSERT INTO ticket (tn, title, queue_id, ticket_lock_id, type_id, user_id, responsible_user_id, "
    "ticket_priority_id, ticket_state_id, timeout, until_time, escalation_time, escalation_update_time, "
    "escalation_response_time, escalation_solution_time, archive_flag, create_time, create_by, change_time, "
    "change_by) VALUES (%s, %s, 2, 1, 1, 1, 1, 3, 1, 0, 0, 0, 0, 0, 0, 0, NOW(), 1, NOW(), 1)"
)
HISTORY_INSERT = (
    "INSERT INTO ticket_history (name, history_type_id, ticket_id, article_id, type_id, queue_id, owner_id, "
    "priority_id, state_id, create_time, create_by, change_time, change_by) "
    "VALUES (%s, %s, %s, %s, 1, 2, 1, 3, 1, NOW(), 1, NOW(), 1)"
)
ARTICLE_INSERT = (
    "INSERT INTO article (ticket_id, article_sender_type_id, communication_channel_id, is_visible_for_customer, "
    "search_index_needs_rebuild, insert_fingerprint, create_time, create_by, change_time, change_by) "
    "VALUES (%s, 1, 3, 1, 1, %s, NOW(), 1, NOW(), 1)"
)
MIME_INSERT = (
    "INSERT INTO article_data_mime (article_id, a_from, a_reply_to, a_to, a_cc, a_bcc, a_subject, a_message_id, "
    "a_in_reply_to, a_references, a_content_type, a_body, incoming_time, content_path, create_time, create_by, "
    "change_time, change_by) VALUES (%s, 'Agent <a@x.test>', '', 'c@x.test', '', '', %s, '', '', '', "
    "'text/plain; charset=utf-8', %s, UNIX_TIMESTAMP(), '2026/11/26', NOW(), 1, NOW(), 1)"
)


@dataclass
class BurstStats:
    statements: int = 0
    rows: int = 0
    ticket_changes: int = 0  # ticket rows whose queue changed: one TicketChanged each
    seconds: float = 0.0


class BulkWriter:
    """Writes like OTRS under load, one auto-committed statement per step, but many rows per statement: a ticket
    batch, then its NewTicket history rows, then articles with their MIME rows and AddNote history, a queue move
    of the batch, and a pile of further history rows."""

    def __init__(self, engine: Engine, prefix: str) -> None:
        self.engine = engine
        self.prefix = prefix  # ticket numbers are prefix + counter: unique per writer
        self.stats = BurstStats()
        self._serial = 0
        with engine.connect() as conn:
            self.types = dict(conn.execute(text("SELECT name, id FROM ticket_history_type")).all())

    def round(self, tickets: int = 200, extra_history: int = 4200) -> int:
        """One round of writes; returns how many domain events it makes."""
        started = time.monotonic()
        raw = self.engine.raw_connection()
        try:
            raw.autocommit(True)  # as DBI with AutoCommit: every statement its own transaction
            cur = raw.cursor()
            numbers = [f"{self.prefix}{self._serial + n:07d}" for n in range(tickets)]
            self._serial += tickets
            self._many(cur, TICKET_INSERT, [(tn, f"load {tn}") for tn in numbers])
            cur.execute("SELECT id, tn FROM ticket WHERE tn BETWEEN %s AND %s ORDER BY id", (numbers[0], numbers[-1]))
            ids = [row[0] for row in cur.fetchall()]
            self._many(cur, HISTORY_INSERT, [(f"%%{tn}%%Raw%%3 normal%%new%%{i}", self.types["NewTicket"], i, None)
                                             for i, tn in zip(ids, numbers, strict=True)])
            self._many(cur, ARTICLE_INSERT, [(i, f"fp-{i}") for i in ids])
            cur.execute("SELECT id FROM article WHERE ticket_id BETWEEN %s AND %s ORDER BY id", (ids[0], ids[-1]))
            articles = [(row[0], ticket) for row, ticket in zip(cur.fetchall(), ids, strict=True)]
            self._many(cur, MIME_INSERT, [(a, f"Note {a}", f"body of article {a}") for a, _ in articles])
            self._many(cur, HISTORY_INSERT, [("%%Note", self.types["AddNote"], t, a) for a, t in articles])
            cur.execute("UPDATE ticket SET queue_id = 3, change_time = NOW(), change_by = 1 WHERE id BETWEEN %s AND %s",
                        (ids[0], ids[-1]))
            self.stats.statements += 1
            self.stats.ticket_changes += cur.rowcount
            for chunk in range(0, extra_history, 1000):
                self._many(cur, HISTORY_INSERT, [(f"%%load {n}", self.types["Misc"], ids[n % len(ids)], None)
                                                 for n in range(chunk, min(chunk + 1000, extra_history))])
            cur.close()
        finally:
            raw.close()
        self.stats.seconds += time.monotonic() - started
        return tickets * 5 + extra_history

    def _many(self, cur: object, sql: str, rows: list[tuple]) -> None:
        cur.executemany(sql, rows)  # type: ignore[attr-defined]  # pymysql sends one multi-row INSERT
        self.stats.statements += 1
        self.stats.rows += len(rows)


# --- what the event_log handler recorded ---------------------------------------------------------------------
@dataclass(frozen=True)
class Logged:
    event_type: str
    deliveries: int
    backfill: bool


def event_log(engine: Engine) -> dict[str, Logged]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT event_id, event_type, deliveries, backfill FROM otrs_ext_event_log")).all()
    return {r[0]: Logged(r[1], r[2], bool(r[3])) for r in rows}


def logged_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM otrs_ext_event_log")).scalar_one()


def expected_ids(engine: Engine, *, history_after: int = 0) -> set[str]:
    """The ids of the events the OTRS rows in the database must have produced: one per ticket, article and
    history row (history rows up to ``history_after`` predate the tailer: a snapshot does not replay them)."""
    with engine.connect() as conn:
        tickets = conn.execute(text("SELECT id FROM ticket")).scalars()
        wanted = {f"ticket-created:{i}" for i in tickets}
        wanted |= {f"article-created:{i}" for i in conn.execute(text("SELECT id FROM article")).scalars()}
        wanted |= {f"history:{i}" for i in conn.execute(text("SELECT id FROM ticket_history WHERE id > :after"),
                                                        {"after": history_after}).scalars()}
    return wanted


def max_history_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM ticket_history")).scalar_one()


def checkpoint(engine: Engine, identity: str = "default") -> Checkpoint | None:
    return CheckpointStore(engine, identity).load()


# --- an in-process tailer with the handlers a test chooses ---------------------------------------------------
def run_tailer(engine: Engine, plugins: dict[str, object], *, skip: Iterable[str] = (),
               generation: str = "znuny71", **config: object) -> Running:
    schema = schema_maps.load(generation)
    return Running(Tailer(engine, schema, dispatcher(engine, schema, plugins, skip=skip),
                          config=TailConfig(**{**FAST, **config})))  # type: ignore[arg-type]


class Collector(Recorder):
    """A handler plugin keeping every event it is given, with their ids."""

    def ids(self) -> list[str]:
        with self.lock:
            return [event.event_id for event in self.events]


class Proxy:
    """A TCP forwarder in front of the database whose ``cut()`` resets every open connection at once (as a
    network blip or a firewall would), while new connections go through again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._silent: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if source not in self._silent:
                    target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.close()

    def cut(self) -> int:
        """Reset every connection open now (RST, no FIN); returns how many sockets were cut."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv(), which then closes: RST
        return len(sockets)

    def silence(self) -> None:
        """Drop everything on the connections open now, but keep them open: a half-open connection, as after a
        network partition or a NAT forgetting the flow, where neither side gets an error."""
        with self._lock:
            self._silent.update(self._sockets)

    def close(self) -> None:
        self._listener.close()
        self.cut()
