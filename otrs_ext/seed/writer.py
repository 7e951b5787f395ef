"""Bulk writes of generated rows: multi-row INSERT statements, one transaction per batch, in a writer thread.

Why not ``conn.execute(table.insert(), rows)``: for a million articles the per-value work of the generic path
(SQLAlchemy parameter processing, then PyMySQL's ``escape_item`` dispatch and ``%`` formatting) costs more
than generating the rows. Here each table's rows are rendered straight into ``INSERT … VALUES (…),(…)`` text
with a type-keyed escape table (the same escaping PyMySQL uses, so the server sees identical literals) and
sent through the raw DBAPI cursor in statements of about a megabyte. The rendering and sending run in a
thread: while MariaDB is busy inserting one batch, the main thread generates the next one (the server works
on the second core; the GIL is released while PyMySQL waits on the socket).

Rows must carry their ids (allocated by the runner from ``MAX(id) + 1``), except for columns the database
assigns (``article_data_mime.id``, the Znuny 7.1 surrogate ids of the flag tables). Seed into a database that
OTRS is not writing to at the same moment, or ids may collide.
"""

from __future__ import annotations

import operator
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Table, text

#: Upper bound of one INSERT statement in characters; also kept below a quarter of max_allowed_packet.
MAX_STATEMENT_CHARS = 1_000_000


def _text(v: str) -> str:
    # Inside a quoted literal MariaDB needs only the backslash and the quote escaped (PyMySQL also escapes
    # newlines etc., which is not required); str.replace is ~15x faster than translate() on Cyrillic text.
    if "\\" in v:
        v = v.replace("\\", "\\\\")
    if "'" in v:
        v = v.replace("'", "\\'")
    if "\x00" in v:
        v = v.replace("\x00", "\\0")
    return "'" + v + "'"


def _text_no_backslash(v: str) -> str:
    """For sql_mode NO_BACKSLASH_ESCAPES: a backslash is an ordinary character, quotes are doubled."""
    return "'" + v.replace("'", "''") + "'"


def escapes(no_backslash_escapes: bool = False) -> dict[type, Callable[[Any], str]]:
    """Python type -> SQL literal renderer, for the server's sql_mode."""
    quote = _text_no_backslash if no_backslash_escapes else _text

    def blob(v: bytes) -> str:
        try:  # mostly UTF-8 text (raw mails, logs): send it as text, half the size of hex
            return "_binary" + quote(v.decode("utf-8"))
        except UnicodeDecodeError:
            return "X'" + v.hex() + "'"

    return {
        int: int.__repr__, str: quote, type(None): lambda v: "NULL", bytes: blob, float: float.__repr__,
        bool: lambda v: "1" if v else "0", datetime: lambda v: f"'{v:%Y-%m-%d %H:%M:%S}'",
        date: lambda v: f"'{v:%Y-%m-%d}'", Decimal: str,
    }


_ESCAPE = escapes()


def render(table: Table, rows: list[dict[str, Any]], limit: int = MAX_STATEMENT_CHARS,
           esc: dict[type, Callable[[Any], str]] = _ESCAPE) -> Iterable[str]:
    """Multi-row INSERT statements for ``rows`` (all with the same keys) of about ``limit`` chars at most."""
    columns = list(rows[0])
    head = f"INSERT INTO `{table.name}` (" + ",".join(f"`{c}`" for c in columns) + ") VALUES "
    getter = operator.itemgetter(*columns)
    parts: list[str] = []
    size = len(head)
    for row in rows:
        values = getter(row)
        if len(columns) == 1:
            values = (values,)
        part = "(" + ",".join([esc[v.__class__](v) for v in values]) + ")"
        if parts and size + len(part) > limit:
            yield head + ",".join(parts)
            parts, size = [], len(head)
        parts.append(part)
        size += len(part) + 1
    if parts:
        yield head + ",".join(parts)


Statements = list[tuple[str, int, list[bytes]]]  # (table name, rows, INSERT statements)
Job = tuple[Statements, Callable[[], None] | None]


class BulkWriter:
    """Writes batches of (table, rows) in order, one transaction each; ``close()`` waits and re-raises errors.

    ``submit`` renders the statements in the calling thread; a writer thread sends them, so the database
    inserts one batch while the caller generates and renders the next.
    """

    def __init__(self, engine: Engine, *, threaded: bool = True, queue_size: int = 2) -> None:
        self.engine = engine
        self.rows: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)  # time in execute() per table (database work)
        self._error: BaseException | None = None
        self._conn = engine.connect()
        packet, sql_mode = self._conn.execute(text("SELECT @@max_allowed_packet, @@sql_mode")).one()
        # characters -> bytes: Cyrillic is 2 bytes in UTF-8, so stay well below the packet limit
        self.limit = min(MAX_STATEMENT_CHARS, int(packet or 16 << 20) // 4)
        self.escape = escapes("NO_BACKSLASH_ESCAPES" in (sql_mode or "").upper())
        self._conn.rollback()
        self._queue: queue.Queue[Job | None] | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=queue_size)
            self._thread = threading.Thread(target=self._run, name="seed-writer", daemon=True)
            self._thread.start()

    def submit(self, tables: list[tuple[Table, list[dict[str, Any]]]],
               done: Callable[[], None] | None = None) -> None:
        """Render and queue one batch; ``done`` is called after its commit (from the writer thread)."""
        self._raise()
        statements = [(table.name, len(rows), [s.encode("utf-8") for s in render(table, rows, self.limit,
                                                                                  self.escape)])
                      for table, rows in tables if rows]
        if self._queue is None:
            self._write(statements, done)
            return
        while True:  # a bounded put that notices a dead writer instead of blocking forever
            try:
                self._queue.put((statements, done), timeout=0.5)
                return
            except queue.Full:
                self._raise()

    def close(self) -> None:
        """Flush, stop the thread, close the connection; re-raise the first write error."""
        try:
            if self._queue is not None and self._thread is not None:
                if self._error is None:
                    self._queue.put(None)
                self._thread.join()
        finally:
            self._conn.close()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        assert self._queue is not None
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._write(*job)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread by submit()/close()
                self._error = exc
                self._conn.connection.dbapi_connection.rollback()
                return

    def _write(self, statements: Statements, done: Callable[[], None] | None) -> None:
        # The raw DBAPI connection: SQLAlchemy's Connection never saw these statements, so it would not
        # know there is a transaction to commit.
        dbapi = self._conn.connection.dbapi_connection
        cursor = dbapi.cursor()
        try:
            for name, count, sqls in statements:
                start = time.perf_counter()
                for sql in sqls:
                    cursor.execute(sql)
                self.seconds[name] += time.perf_counter() - start
                self.rows[name] += count
        finally:
            cursor.close()
        dbapi.commit()
        if done is not None:
            done()
