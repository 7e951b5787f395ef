"""``otrs-ext db``: otrs-ext's own tables (Alembic migrations)."""

from __future__ import annotations

import click

from ..db import migrate
from ..db.engine import make_engine


@click.group("db")
def command() -> None:
    """Create and upgrade otrs-ext's own tables (never an OTRS table)."""


@command.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="target migration")
@click.pass_obj
def upgrade(load_settings, revision: str) -> None:  # noqa: ANN001 - the settings loader
    """Apply the migrations up to REVISION."""
    settings = load_settings()
    engine = make_engine(settings.db_url, pool_size=1)
    try:
        before = migrate.current(engine, settings.own_schema)
        after = migrate.upgrade(engine, settings.own_schema, revision)
    finally:
        engine.dispose()
    where = f"database {settings.own_schema}" if settings.own_schema else "the OTRS database"
    click.echo(f"own tables in {where}: {before or 'none'} -> {after}")


@command.command("current")
@click.pass_obj
def current(load_settings) -> None:  # noqa: ANN001
    """Print the applied migration and the newest one."""
    settings = load_settings()
    engine = make_engine(settings.db_url, pool_size=1)
    try:
        click.echo(f"applied: {migrate.current(engine, settings.own_schema) or 'none'}; head: {migrate.head()}")
    finally:
        engine.dispose()
