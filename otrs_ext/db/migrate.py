"""Create and upgrade otrs-ext's own tables with Alembic (``otrs-ext db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from .own_tables import VERSION_TABLE

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection, own_schema: str | None) -> Config:  # noqa: ANN001 - a SQLAlchemy Connection
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["own_schema"] = own_schema
    return config


def upgrade(engine: Engine, own_schema: str | None = None, revision: str = "head") -> str | None:
    """Bring the own tables to ``revision``; create the separate own database first if one is set."""
    with engine.begin() as conn:
        if own_schema:
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{own_schema}` CHARACTER SET utf8mb4"))
        command.upgrade(_config(conn, own_schema), revision)
    return current(engine, own_schema)


def downgrade(engine: Engine, own_schema: str | None = None, revision: str = "base") -> str | None:
    with engine.begin() as conn:
        command.downgrade(_config(conn, own_schema), revision)
    return current(engine, own_schema)


def current(engine: Engine, own_schema: str | None = None) -> str | None:
    """The applied revision, or None when the own tables were never created."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "version_table_schema": own_schema}
        )
        return context.get_current_revision()


def head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()
