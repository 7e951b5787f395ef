"""The ``otrs-ext`` command line: one module per command group, each only translating to services."""

from __future__ import annotations

import sys

import click

from ..errors import OtrsExtError, ValidationError
from ..logs import configure_logging
from ..settings import Settings
from . import db, demo, doctor, outbox, pool, search, search_query, seed, serve, tags, tail, ticket


class _Group(click.Group):
    """Prints an otrs-ext error as one readable message instead of a traceback."""

    def invoke(self, ctx: click.Context):  # noqa: ANN202 - returns whatever the command returns
        try:
            return super().invoke(ctx)
        except OtrsExtError as exc:
            if isinstance(exc, ValidationError):
                click.secho("error: the input was refused, nothing was written:", fg="red", err=True)
                for path, problem in exc.problems:
                    click.echo(f"  {path}: {problem}", err=True)
            else:
                click.secho(f"error: {exc.message}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="otrs-ext")
@click.pass_context
def main(ctx: click.Context) -> None:
    """otrs-ext: a fast, modern layer beside an existing OTRS / Znuny / OTOBO helpdesk."""
    ctx.obj = _SettingsLoader()


class _SettingsLoader:
    """Settings are loaded on first use, so commands that need none (``search config``) work anywhere."""

    def __init__(self) -> None:
        self._settings: Settings | None = None

    def __call__(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load()
            configure_logging(self._settings.log_level, self._settings.log_json)
        return self._settings


for module in (db, demo, doctor, outbox, search, seed, tags, tail, ticket):
    main.add_command(module.command)
search.command.add_command(search_query.query)  # otrs-ext search query
main.add_command(serve.serve)
main.add_command(serve.apikey)
main.add_command(pool.command)  # otrs-ext pool status
main.add_command(pool.points)  # otrs-ext points report|reconcile
