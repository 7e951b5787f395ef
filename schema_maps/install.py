"""Create an OTRS database of a chosen generation from otrs-ext's own definitions (tests and the demo).

Only for empty databases that otrs-ext owns: a real installation is created by OTRS's installer.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, inspect, select

from otrs_ext.errors import OtrsExtError

from . import load
from .initial_data import initial_rows, welcome_ticket
from .schema import OtrsSchema


def install(conn: Connection, generation: str) -> OtrsSchema:
    """Create the mapped tables and the standard initial data of ``generation`` in the connected database."""
    schema = load(generation)
    existing = set(inspect(conn).get_table_names()) & {t.name for t in schema.metadata.sorted_tables}
    if existing:
        raise OtrsExtError(
            f"refusing to install the {schema.label} schema: the database already has OTRS tables "
            f"({', '.join(sorted(existing)[:5])}...); use an empty database"
        )
    schema.metadata.create_all(conn)
    # OTRS writes create_time with the database clock; so does the install.
    now = conn.execute(select(func.current_timestamp())).scalar_one()
    for uniform, rows in initial_rows(schema.traits, now):
        conn.execute(schema.tables[uniform].insert(), rows)
    ticket, article, history = welcome_ticket(schema.traits, now)
    conn.execute(schema.tables.ticket.insert(), [ticket])
    ids = lookup_ids(conn, schema)
    for table, row in schema.articles.bulk_rows(article, ids):
        conn.execute(table.insert(), [row])
    conn.execute(schema.tables.ticket_history.insert(), [history])
    return schema


def lookup_ids(conn: Connection, schema: OtrsSchema) -> dict[str, dict[str, int]]:
    """Name -> id of the lookup tables an article layout needs."""
    name = "communication_channel" if schema.traits.article_split else "article_type"
    table = schema.tables[name]
    return {name: {n: i for i, n in conn.execute(select(table.c.id, table.c.name))}}
