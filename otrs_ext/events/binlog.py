"""The binlog source: committed row changes of the OTRS tables, read as a replica reads them.

Built on python-mysql-replication's ``BinLogStreamReader``. Yields ``Transaction`` objects at each commit
(``XidEvent``) and markers the tailer checkpoints on: ``Idle`` (the server sent a heartbeat: we are caught
up), ``Rotated`` (a new binlog file) and ``SchemaChanged`` (DDL on an OTRS table). Column names come from
each table map (``binlog_row_metadata=FULL``), so rows written before and after an ``ALTER TABLE`` both
decode, whatever the live schema is now.

Resuming: by MariaDB GTID when the position has one (``auto_position``, survives a switch to a replica),
else by file and position with the MySQL-style dump (python-mysql-replication ignores the file/position in
its MariaDB mode and would start from the first binlog).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import (
    GtidEvent,
    HeartbeatLogEvent,
    MariadbGtidEvent,
    QueryEvent,
    RotateEvent,
    XidEvent,
)
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from schema_maps import OtrsSchema

from ..errors import ConfigurationError
from .rows import Position, RowChange, Transaction

# the OTRS tables whose changes become domain events (uniform names)
WATCHED = ("ticket", "article", "article_data_mime", "article_data_mime_attachment", "article_attachment",
           "ticket_history", "dynamic_field_value")


@dataclass(frozen=True)
class Idle:
    """The server has nothing new: everything up to ``position`` has been read."""

    position: Position


@dataclass(frozen=True)
class Rotated:
    position: Position


@dataclass(frozen=True)
class SchemaChanged:
    position: Position
    table: str
    query: str


Item = Transaction | Idle | Rotated | SchemaChanged


def watched_tables(schema: OtrsSchema) -> dict[str, str]:
    """Real table name -> uniform name, for the watched tables this OTRS generation has."""
    return {schema.tables[name].name: name for name in WATCHED if name in schema.tables}


class BinlogSource:
    def __init__(self, connection: dict[str, Any], database: str, schema: OtrsSchema, *, server_id: int,
                 start: Position, heartbeat: float = 1.0, use_gtid: bool = True) -> None:
        self.database = database
        self.tables = watched_tables(schema)
        self._position = start
        # The server sends a heartbeat every ``heartbeat`` seconds when it has nothing else: silence for several
        # means a half-open connection (a network partition, a NAT that forgot the flow), on which a read without
        # a timeout would block forever. The timeout ends the read; the reader reconnects (see ``_follow``).
        connection = {"read_timeout": max(5 * heartbeat, 2.0), **connection}
        resume: dict[str, Any]
        if use_gtid and start.gtid:
            resume = {"auto_position": start.gtid, "is_mariadb": True}
        else:
            resume = {"log_file": start.log_file, "log_pos": start.log_pos, "is_mariadb": False}
        self._stream = BinLogStreamReader(
            connection_settings=connection, server_id=server_id, blocking=True, resume_stream=True,
            only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, XidEvent, QueryEvent, RotateEvent,
                         MariadbGtidEvent, GtidEvent, HeartbeatLogEvent],
            only_schemas=[database], only_tables=list(self.tables), slave_heartbeat=heartbeat,
            enable_logging=False, **resume,
        )

    def close(self) -> None:
        self._stream.close()

    def __iter__(self) -> Iterator[Item]:
        stream = self._stream
        changes: list[RowChange] = []
        start = self._position
        gtid: str | None = None
        txid = ""
        timestamp = 0
        for event in stream:
            here = Position(stream.log_file, stream.log_pos, self._position.gtid)
            if isinstance(event, MariadbGtidEvent | GtidEvent):
                # only MariaDB's domain-server-sequence GTIDs name a resumable point by themselves
                start, changes, timestamp = self._position, [], event.timestamp
                gtid = event.gtid if isinstance(event, MariadbGtidEvent) else None
                txid = gtid or f"{start.log_file}:{start.log_pos}"
            elif isinstance(event, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
                timestamp = timestamp or event.timestamp
                changes.extend(self._rows(event))
            elif isinstance(event, XidEvent) or (isinstance(event, QueryEvent) and _query(event) == "COMMIT"):
                self._position = Position(here.log_file, here.log_pos, gtid or self._position.gtid)
                self._follow()
                yield Transaction(txid or f"{start.log_file}:{start.log_pos}", start, self._position,
                                  _utc(timestamp or event.timestamp), tuple(changes))
                changes, gtid, txid, timestamp = [], None, "", 0
            elif isinstance(event, QueryEvent):
                query = _query(event)
                if query in ("BEGIN", "COMMIT") or changes:
                    continue
                # DDL is its own transaction: there is no Xid after it
                self._position = Position(here.log_file, here.log_pos, gtid or self._position.gtid)
                self._follow()
                gtid = None
                table = _ddl_table(query, self.tables)
                if table is not None:
                    yield SchemaChanged(self._position, table, query)
            elif isinstance(event, RotateEvent):
                if event.timestamp and not changes:  # a real rotation between transactions
                    self._position = Position(event.next_binlog, event.position, self._position.gtid)
                    yield Rotated(self._position)
            elif isinstance(event, HeartbeatLogEvent) and not changes:
                yield Idle(self._position)

    def _follow(self) -> None:
        """Move the reader's own reconnect point along. On a dropped connection (2013/2006: a network blip, a
        proxy failover) BinLogStreamReader reconnects by itself, from ``auto_position`` when resuming by GTID;
        left alone that stays where this session began, and everything since would be read again (hours of
        binlog, with wrong start positions for the transactions read twice). By file and position it
        tracks the position itself."""
        if self._stream.auto_position is not None and self._position.gtid:
            self._stream.auto_position = self._position.gtid

    def _rows(self, event: WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent) -> Iterator[RowChange]:
        table = self.tables.get(event.table)
        if table is None:
            return
        for row in event.rows:
            if isinstance(event, UpdateRowsEvent):
                before, after = row["before_values"], row["after_values"]
            elif isinstance(event, WriteRowsEvent):
                before, after = None, row["values"]
            else:
                before, after = row["values"], None
            _require_column_names(before or after, event.table)
            kind = "insert" if before is None else "delete" if after is None else "update"
            yield RowChange(table, kind, before, after)


def _query(event: QueryEvent) -> str:
    query = event.query
    return (query.decode("utf-8", "replace") if isinstance(query, bytes) else query).strip()


def _ddl_table(query: str, tables: dict[str, str]) -> str | None:
    """The watched table a DDL statement names, if any (ALTER/RENAME/TRUNCATE/DROP/CREATE)."""
    words = query.replace("`", " ").replace("(", " ").replace(",", " ").split()
    for word in words:
        name = word.rsplit(".", 1)[-1]
        if name in tables:
            return tables[name]
    return None


def _require_column_names(row: dict[str, Any], table: str) -> None:
    if any(str(column).startswith("UNKNOWN_COL") for column in row):
        raise ConfigurationError(
            f"the binlog has no column names for {table}: set binlog_row_metadata=FULL on the server "
            "(SET GLOBAL binlog_row_metadata = 'FULL', and in my.cnf); `otrs-ext doctor` checks it"
        )


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)
