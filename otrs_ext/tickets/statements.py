"""Statements of the hot write path built once per table and reused with parameters.

SQLAlchemy compiles a statement once and caches it, but building the statement object and computing its cache
key happen on every call: for ``table.insert().values(**row)`` that costs about twice the round trip to
MariaDB. The same INSERT passed the row as parameters, or an UPDATE whose WHERE names a bound parameter,
is built once here and costs only its execution. ``run_insert`` goes one step further for rows of plain
values: their SQL is rendered once and handed to the driver as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, CursorResult, Dialect, Insert, Table, Update, bindparam

#: The bound parameter an ``update_by_id`` statement's WHERE takes (no OTRS column has this name).
WHERE_ID = "where_id_"


@functools.lru_cache(maxsize=512)
def insert(table: Table) -> Insert:
    """``INSERT INTO table``; execute it with the row (or rows) as parameters."""
    return table.insert()


@functools.lru_cache(maxsize=512)
def update_by_id(table: Table) -> Update:
    """``UPDATE table SET <the parameters' columns> WHERE id = :where_id_``."""
    return table.update().where(table.c.id == bindparam(WHERE_ID))


def run_insert(conn: Connection, table: Table, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> CursorResult:
    """``INSERT INTO table`` of one row, or of several with the same keys (one multi-row INSERT); the new id
    of a single row is the result's ``lastrowid``.

    The SQL is rendered once per table and column set and run as driver SQL: for a row of plain values that
    is exactly what SQLAlchemy would send, without the per-execute compile-cache lookup and parameter
    processing that cost about a quarter of the round trip. Where SQLAlchemy would change a value (a type with
    a bind processor, such as binary columns) or add one (a Python-side column default), it runs the INSERT."""
    first = rows if isinstance(rows, Mapping) else rows[0]
    sql = _plain_insert_sql(table, tuple(first), conn.dialect)
    if sql is None:
        return conn.execute(insert(table), rows)
    return conn.exec_driver_sql(sql, rows if isinstance(rows, Mapping) else list(rows))


def insert_row(conn: Connection, table: Table, row: dict[str, Any]) -> int:
    """``run_insert`` of one row, returning its new id (how the article layouts of ``schema_maps`` take it)."""
    return int(run_insert(conn, table, row).lastrowid)


@functools.lru_cache(maxsize=1024)
def _plain_insert_sql(table: Table, keys: tuple[str, ...], dialect: Dialect) -> str | None:
    """The INSERT's SQL with ``%(column)s`` parameters, or None where the values cannot go to the driver as they
    are (see ``run_insert``)."""
    if dialect.paramstyle != "pyformat" or any(key not in table.c for key in keys):
        return None
    if any(column.default is not None for column in table.c if column.key not in keys):
        return None
    if any(table.c[key].type.dialect_impl(dialect).bind_processor(dialect) is not None for key in keys):
        return None
    compiled = table.insert().compile(dialect=dialect, column_keys=list(keys))
    if compiled.escaped_bind_names or set(compiled.binds) != set(keys):
        return None  # parameters renamed: the rows' keys would not match
    return str(compiled)
