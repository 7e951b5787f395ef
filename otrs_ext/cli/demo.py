"""``otrs-ext demo``: a private MariaDB + Redis + searchd, a seeded demo OTRS database, otrs-ext beside it."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import click
from sqlalchemy import create_engine, func, select

import schema_maps
from schema_maps.install import install

from ..db import migrate
from ..db.own_tables import own_table
from ..doctor.checks import Doctor
from ..errors import ServiceStartError
from ..events.compose import build_tailer
from ..events.metrics import TailMetrics, serve_metrics
from ..localservices import MariaDBServer, RedisServer, SphinxServer
from ..localservices.base import free_port
from ..runtime import build_runtime
from ..seed.runs import logged_seed
from ..settings import Settings
from ..tickets.compose import build_ticket_core
from ..tickets.inputs import NewArticle, NewTicket


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
        tail = services.enter_context(_Tailing(settings))
        tn = _welcome_ticket(settings)
        seen = tail.wait_for_ticket(tn)
        click.echo(f"tailer: {seen}; metrics at http://127.0.0.1:{settings.tail_metrics_port}/metrics")
        checks = Doctor(settings).run()
        for c in checks:
            click.echo(f"  doctor [{c.status}] {c.name}: {c.detail}")
        failed = any(c.status == "fail" for c in checks)
        _print_environment(settings)
        click.echo(f"  then: otrs-ext ticket get {tn} --history")
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


class _Tailing:
    """``otrs-ext tail`` in a thread of the demo process, with the event_log handler and its metrics."""

    def __init__(self, settings: Settings) -> None:
        self.runtime = build_runtime(settings)
        self.metrics = TailMetrics()
        self.server = serve_metrics(self.metrics, settings.tail_metrics_port)
        self.tailer = build_tailer(self.runtime, metrics=self.metrics)
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="tailer", daemon=True)

    def _run(self) -> None:
        try:
            self.tailer.run(self.stop)
        except BaseException as error:  # noqa: BLE001 - shown by wait_for_ticket
            self.error = error

    def __enter__(self) -> _Tailing:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(15)
        self.server.shutdown()
        self.runtime.close()

    def wait_for_ticket(self, tn: str, timeout: float = 120.0) -> str:
        """Wait until the tailer handed the creation of ticket ``tn`` to the handlers."""
        log = own_table("event_log", self.runtime.settings.own_schema)
        ticket = self.runtime.schema.tables.ticket
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise self.error
            with self.runtime.engine.connect() as conn:
                ticket_id = conn.execute(select(ticket.c.id).where(ticket.c.tn == tn)).scalar()
                seen = conn.execute(select(log.c.first_seen).where(log.c.event_id == f"ticket-created:{ticket_id}"))
                if seen.first() is not None:
                    events = conn.execute(select(func.count()).select_from(log)).scalar()
                    return f"saw ticket {tn} created ({events} events handled, snapshot included)"
            time.sleep(0.2)
        raise ServiceStartError(f"the tailer did not report ticket {tn} within {timeout:.0f}s")


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
