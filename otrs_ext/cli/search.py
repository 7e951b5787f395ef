"""``otrs-ext search``: the full-text index (config, backfill, reconcile)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
from tqdm import tqdm

from ..runtime import build_runtime
from ..search import indexdef
from ..search.compose import reindex_position
from ..search.reconcile import DEFAULT_RANGE, reconcile
from ..search.reindex import DEFAULT_CHUNK, DEFAULT_WORKERS, ReindexState, reindex
from ..settings import ENV_PREFIX, Settings

DEFAULT_DATA_DIR = Path("/var/lib/otrs-ext/search")


@click.group("search")
def command() -> None:
    """Full-text search on Sphinx / Manticore."""


def _listen_address() -> tuple[str, int]:
    """Host and port of OTRS_EXT_SEARCH_URL, read alone: ``search config`` must work without the other settings
    (it runs on the search host, which has no database credentials)."""
    url = os.environ.get(ENV_PREFIX + "SEARCH_URL") or Settings.__dataclass_fields__["search_url"].default
    parts = urlsplit(url)
    if parts.scheme != "mysql" or not parts.hostname or not parts.port:
        raise click.BadParameter(f"{ENV_PREFIX}SEARCH_URL = {url!r} must be mysql://HOST:PORT")
    return parts.hostname, parts.port


@command.command("config")
@click.option("--engine", type=click.Choice(["sphinx", "manticore"]), default=None,
              help="searchd to configure  [default: sphinx]")
@click.option("--data-dir", "data_dir", type=click.Path(path_type=Path), default=None,
              help=f"where searchd keeps index data, binlog, logs, wordforms  [default: {DEFAULT_DATA_DIR}]")
@click.option("--flavour", type=click.Choice(["sphinx2", "manticore"]), default=None, hidden=True)  # old name
@click.option("--dir", "old_dir", type=click.Path(path_type=Path), default=None, hidden=True)  # old name
@click.option("--port", type=int, default=None, help="SphinxQL port  [default: the port of OTRS_EXT_SEARCH_URL]")
@click.option("--mem-limit", default="512M", show_default=True, help="rt_mem_limit of the index")
def config(engine: str | None, data_dir: Path | None, flavour: str | None, old_dir: Path | None, port: int | None,
           mem_limit: str) -> None:
    """Print a complete searchd configuration with otrs-ext's RT index, listening where OTRS_EXT_SEARCH_URL points.

    Also writes the files the config refers to (the wordforms file) and creates the directories under the data
    directory, so `searchd --config FILE` can start right away.
    """
    chosen = indexdef.engine_name(engine or flavour or "sphinx")
    base_dir = data_dir or old_dir or DEFAULT_DATA_DIR
    host, url_port = _listen_address()
    try:
        written = indexdef.write_support_files(base_dir)
    except OSError as error:
        raise click.ClickException(f"cannot write searchd's files under {base_dir}: {error}; "
                                   "pass a writable --data-dir (the directory searchd will own)") from error
    click.echo(indexdef.render_config(base_dir=base_dir, port=port or url_port, flavour=chosen, mem_limit=mem_limit,
                                      host=host), nl=False)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)


@command.command("reindex")
@click.option("--workers", type=click.IntRange(1, 32), default=DEFAULT_WORKERS, show_default=True,
              help="parallel workers, each with its own database and SphinxQL connection")
@click.option("--chunk", type=click.IntRange(100, 100_000), default=DEFAULT_CHUNK, show_default=True,
              help="articles (by id) per unit of work")
@click.option("--restart", is_flag=True, help="ignore the watermark of an unfinished run; start over")
@click.option("--optimize", is_flag=True,
              help="when done, merge the index's disk chunks into one (searchd does it in the background)")
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.pass_obj
def reindex_command(load_settings, workers: int, chunk: int, restart: bool, optimize: bool,  # noqa: ANN001
                    progress: bool) -> None:
    """(Re)index every article; resumes an interrupted run. Safe while the tailer updates the index.

    A complete run records the binlog position (or poll watermarks) it is consistent with: the tailer's search
    handler goes on from there instead of indexing every article again."""
    runtime = build_runtime(load_settings())
    try:
        bar = tqdm(total=0, unit="id", unit_scale=True, disable=not progress, file=sys.stderr)

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        report = reindex(runtime.engine, runtime.schema, runtime.search, state=ReindexState(runtime.redis),
                         workers=workers, chunk=chunk, resume=not restart, progress=advance, optimize=optimize,
                         position=reindex_position(runtime), own_schema=runtime.settings.own_schema)
        bar.close()
        click.echo(report.summary())
    finally:
        runtime.close()


@command.command("reconcile")
@click.option("--range-size", type=click.IntRange(100, 1_000_000), default=DEFAULT_RANGE, show_default=True,
              help="article ids per compared range")
@click.option("--dry-run", is_flag=True, help="report drift without repairing it")
@click.pass_obj
def reconcile_command(load_settings, range_size: int, dry_run: bool) -> None:  # noqa: ANN001
    """Compare the index with the database by article id ranges and repair what differs; exit 1 on drift
    with --dry-run."""
    runtime = build_runtime(load_settings())
    try:
        report = reconcile(runtime.engine, runtime.schema, runtime.search, range_size=range_size,
                           repair=not dry_run, own_schema=runtime.settings.own_schema)
        click.echo(report.summary())
        if dry_run and report.drift:
            sys.exit(1)
    finally:
        runtime.close()
