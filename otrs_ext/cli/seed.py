"""``otrs-ext seed``: fill an OTRS database with realistic tickets (Russian and English)."""

from __future__ import annotations

import click

from ..db import migrate
from ..errors import ConfigurationError
from ..runtime import build_runtime
from ..seed.runs import logged_seed


@click.command("seed")
@click.option("--tickets", type=click.IntRange(min=1), required=True, help="number of tickets to add")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True,
              help="random seed; the same seed on the same database writes the same rows")
@click.option("--articles-per-ticket", type=click.FloatRange(min=1.0), default=5.0, show_default=True,
              help="mean number of articles per ticket")
@click.option("--no-progress", is_flag=True, help="no progress bar (logs only)")
@click.pass_obj
def command(load_settings, tickets: int, seed_value: int, articles_per_ticket: float,  # noqa: ANN001
            no_progress: bool) -> None:
    """Add TICKETS tickets with agents, queues, customers, articles, history, flags and attachments."""
    runtime = build_runtime(load_settings())
    try:
        own_schema = runtime.settings.own_schema
        if migrate.current(runtime.engine, own_schema) != migrate.head():
            raise ConfigurationError("otrs-ext's own tables are missing or old; run `otrs-ext db upgrade` first")
        report = logged_seed(runtime.engine, runtime.schema, own_schema=own_schema, tickets=tickets,
                             articles_per_ticket=articles_per_ticket, seed=seed_value, progress=not no_progress)
    finally:
        runtime.close()
    click.echo(report.summary() if hasattr(report, "summary") else str(report))
