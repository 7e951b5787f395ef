"""Statements of the hot write path built once per table and reused with parameters.

SQLAlchemy compiles a statement once and caches it, but building the statement object and computing its cache
key happen on every call: for ``table.insert().values(**row)`` that costs about twice the round trip to
MariaDB. The same INSERT passed the row as parameters, or an UPDATE whose WHERE names a bound parameter,
is built once here and costs only its execution.
"""

from __future__ import annotations

import functools

from sqlalchemy import Insert, Table, Update, bindparam

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
