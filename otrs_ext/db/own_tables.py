"""otrs-ext's own tables: all named with one prefix, created only by the Alembic migrations.

They live in the OTRS database, or in a separate database (``OTRS_EXT_OWN_SCHEMA``) on the same server.
OTRS tables are never altered: these maps are the only tables otrs-ext creates.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Float, Integer, MetaData, String, Table

PREFIX = "otrs_ext_"
VERSION_TABLE = PREFIX + "alembic_version"


def own_metadata(schema: str | None = None) -> MetaData:
    """The own tables, qualified with ``schema`` when they live in a separate database."""
    md = MetaData(schema=schema)
    Table(
        PREFIX + "seed_run", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("seed", BigInteger, nullable=False),
        Column("tickets", Integer, nullable=False),
        Column("articles_per_ticket", Float, nullable=False),
        Column("generation", String(20), nullable=False),
        Column("status", String(20), nullable=False),  # running, done, failed
        Column("started_at", DateTime, nullable=False),
        Column("finished_at", DateTime),
        Column("seconds", Float),
        Column("counts", JSON),  # rows written per OTRS table
        Column("error", String(2000)),
    )
    return md
