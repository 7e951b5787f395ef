"""``otrs-ext demo``: a private MariaDB + Redis + searchd, a seeded demo OTRS database, otrs-ext beside it."""

from __future__ import annotations

import shutil
import signal
import time
from contextlib import ExitStack
from pathlib import Path

import click
from sqlalchemy import create_engine

import schema_maps
from schema_maps.install import install

from ..api.keys import ApiKeys
from ..db import migrate
from ..doctor.checks import Doctor
from ..localservices import MariaDBServer, RedisServer, SphinxServer
from ..localservices.base import free_port
from ..runtime import build_runtime
from ..seed.runs import logged_seed
from ..settings import Settings
from ..tickets.compose import build_ticket_core
from ..tickets.inputs import NewArticle, NewTicket
from .demo_processes import ApiServer, Tailing


@click.command("demo")
@click.option("--dir", "base_dir", type=click.Path(path_type=Path), default=Path(".demo"), show_default=True,
              help="scratch directory for the servers' data (wiped at start)")
@click.option("--generation", type=click.Choice(list(schema_maps.GENERATIONS)), default="znuny71",
              show_default=True, help="OTRS schema generation of the demo database")
@click.option("--tickets", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--articles-per-ticket", type=click.FloatRange(min=1.0), default=4.0, show_default=True)
@click.option("--seed", "seed_value", type=int, default=1, show_default=True)
@click.option("--check", is_flag=True, help="stop after setting up and checking (exit code = doctor's)")
def command(base_dir: Path, generation: str, tickets: int, articles_per_ticket: float, seed_value: int,
            check: bool) -> None:
    """Bring up a complete demo and keep it running until Ctrl-C."""
    base_dir = base_dir.resolve()
    if base_dir.exists():
        shutil.rmtree(base_dir)
    base_dir.mkdir(parents=True)
    with ExitStack() as services:
        started = time.monotonic()
        mariadb = services.enter_context(MariaDBServer(base_dir / "mariadb", innodb_buffer_pool_size="512M"))
        redis_server = services.enter_context(RedisServer(base_dir / "redis"))
        sphinx = services.enter_context(SphinxServer(base_dir / "sphinx"))
        click.echo(f"services up in {time.monotonic() - started:.1f}s: MariaDB :{mariadb.port} (ROW binlog), "
                   f"Redis :{redis_server.port}, searchd :{sphinx.port}")
        mariadb.create_database("otrs")
        otrs_home = base_dir / "otrs"  # stands in for /opt/otrs: the file cache otrs-ext invalidates
        (otrs_home / "var" / "tmp").mkdir(parents=True)
        settings = Settings(db_url=mariadb.url("otrs"), redis_url=redis_server.url, search_url=sphinx.url,
                            otrs_home=otrs_home, state_dir=base_dir / "state", handlers=("event_log",),
                            tail_metrics_port=free_port()).validate()
        engine = create_engine(settings.db_url)
        try:
            with engine.begin() as conn:
                schema = install(conn, generation)
            migrate.upgrade(engine)
            click.echo(f"demo OTRS database: {schema.label}; own tables at migration {migrate.current(engine)}")
            report = logged_seed(engine, schema, tickets=tickets, articles_per_ticket=articles_per_ticket,
                                 seed=seed_value)
            click.echo(report.summary())
        finally:
            engine.dispose()
        tail = services.enter_context(Tailing(settings))
        tn = _welcome_ticket(settings)
        api = services.enter_context(ApiServer(settings, str(base_dir / "api.log")))
        intake_key, agent_key = _demo_keys(settings)
        created = api.create_ticket(intake_key, {
            "title": "Сайт не открывается", "queue": "Raw", "customer_user": "demo@example.ru",
            "source": "site-anonymous",
            "article": {"subject": "reg.ru domain", "body": "Since 10:00 the site is down"}})
        click.echo(f"API at {api.url}/api/v1 (docs: {api.url}/api/v1/docs): created ticket {created['number']}")
        seen = tail.wait_for_ticket(created["number"])
        click.echo(f"tailer: {seen}; metrics at http://127.0.0.1:{settings.tail_metrics_port}/metrics")
        checks = Doctor(settings).run()
        for c in checks:
            click.echo(f"  doctor [{c.status}] {c.name}: {c.detail}")
        failed = any(c.status == "fail" for c in checks)
        _print_environment(settings)
        click.echo(f"  then: otrs-ext ticket get {tn} --history")
        click.echo(f"  or:   curl -H 'Authorization: Bearer {agent_key}' {api.url}/api/v1/tickets")
        if check:
            raise SystemExit(1 if failed else 0)
        click.echo("demo running; press Ctrl-C to stop it")
        _wait_for_interrupt()
    click.echo("demo stopped")


def _print_environment(settings: Settings) -> None:
    click.echo("point other otrs-ext commands at the demo with:")
    click.echo(f"  export OTRS_EXT_DB_URL='{settings.db_url}'")
    click.echo(f"  export OTRS_EXT_REDIS_URL='{settings.redis_url}'")
    click.echo(f"  export OTRS_EXT_SEARCH_URL='{settings.search_url}'")
    click.echo(f"  export OTRS_EXT_OTRS_HOME='{settings.otrs_home}' OTRS_EXT_STATE_DIR='{settings.state_dir}'")


def _demo_keys(settings: Settings) -> tuple[str, str]:
    """An intake key (the website) and an agent key acting as OTRS's root@localhost."""
    runtime = build_runtime(settings)
    try:
        keys = ApiKeys(runtime.engine, settings.own_schema)
        return keys.create("intake", name="demo website"), keys.create("agent", name="demo agent", agent_id=1)
    finally:
        runtime.close()


def _welcome_ticket(settings: Settings) -> str:
    """One ticket written through the ticket core, as the API and ``otrs-ext ticket`` write them."""
    runtime = build_runtime(settings)
    try:
        core = build_ticket_core(runtime)
        created = core.service.create_ticket(1, NewTicket(title="Welcome to otrs-ext", queue="Raw"), NewArticle(
            body="This ticket was written by otrs-ext's ticket core, row for row as OTRS writes it.",
            subject="Welcome", channel="Internal", sender_type="system", visible_for_customer=True))
    finally:
        runtime.close()
    click.echo(f"ticket core: created ticket {created.tn}")
    return created.tn


def _wait_for_interrupt() -> None:
    stop = False

    def handle(signum, frame) -> None:  # noqa: ANN001 - signal handler signature
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, handle)
    try:
        while not stop:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
