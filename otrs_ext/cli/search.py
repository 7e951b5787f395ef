"""``otrs-ext search``: the full-text index."""

from __future__ import annotations

from pathlib import Path

import click

from ..search.indexdef import render_config


@click.group("search")
def command() -> None:
    """Full-text search on Sphinx / Manticore."""


@command.command("config")
@click.option("--flavour", type=click.Choice(["sphinx2", "manticore"]), default="sphinx2", show_default=True)
@click.option("--dir", "base_dir", type=click.Path(path_type=Path), default=Path("/var/lib/otrs-ext/search"),
              show_default=True, help="where searchd keeps index data, binlog and logs")
@click.option("--port", type=int, default=9306, show_default=True, help="SphinxQL port")
@click.option("--mem-limit", default="512M", show_default=True, help="rt_mem_limit of the index")
def config(flavour: str, base_dir: Path, port: int, mem_limit: str) -> None:
    """Print a complete searchd configuration with otrs-ext's RT index."""
    click.echo(render_config(base_dir=base_dir, port=port, flavour=flavour, mem_limit=mem_limit), nl=False)
