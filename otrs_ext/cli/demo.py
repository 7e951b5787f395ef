"""``otrs-ext demo``: a private MariaDB + Redis + searchd, a seeded demo OTRS database, otrs-ext beside it."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import click
from sqlalchemy import create_engine
from tqdm import tqdm

import schema_maps
from schema_maps.install import install

from ..client.compose import client_from_settings
from ..db import migrate
from ..doctor.checks import Doctor
from ..errors import ServiceStartError
from ..events.plugins import BUILTIN_HANDLERS
from ..localservices import MariaDBServer, RedisServer, SphinxServer
from ..localservices.base import free_port
from ..runtime import build_runtime
from ..search.compose import reindex_position
from ..search.reindex import ReindexState, reindex
from ..seed.runs import logged_seed
from ..settings import Settings
from ..tags.backfill import Backfill, TagsPosition
from ..tags.rules import load_rules
from ..tickets.compose import build_ticket_core
from ..tickets.inputs import NewArticle, NewTicket
from .demo_access import DemoAccess, create_demo_access
from .demo_check import ScreenCheckFailed, screen_search, search_url
from .demo_processes import ApiServer, OutboxWorker, Tailing

# The website's ticket: its domain is a word no seeded ticket has, so searching it finds this ticket first
WEBSITE_QUERY = "flamingo-flowers.ru"
WEBSITE_TICKET = {"title": "Сайт не открывается", "queue": "Raw", "subject": f"{WEBSITE_QUERY} is down",
                  "body": f"Since 10:00 our shop {WEBSITE_QUERY} is down: visitors get a 502 error."}
SEEDED_QUERY = "DNS"  # a word of the seed's phrases, in both languages


@click.command("demo")
@click.option("--dir", "base_dir", type=click.Path(path_type=Path), default=Path(".demo"), show_default=True,
              help="scratch directory for the servers' data (wiped at start)")
@click.option("--generation", type=click.Choice(list(schema_maps.GENERATIONS)), default="znuny71",
              show_default=True, help="OTRS schema generation of the demo database")
@click.option("--tickets", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--articles-per-ticket", type=click.FloatRange(min=1.0), default=4.0, show_default=True)
@click.option("--seed", "seed_value", type=int, default=1, show_default=True)
@click.option("--check", is_flag=True,
              help="stop after setting up and checking: doctor's checks and a search through the agent screens "
                   "(exit code 1 if any failed)")
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
        api_port = free_port()
        # every built-in handler, so one added later runs in the demo without touching it
        settings = Settings(db_url=mariadb.url("otrs"), redis_url=redis_server.url, search_url=sphinx.url,
                            otrs_home=otrs_home, state_dir=base_dir / "state", handlers=tuple(BUILTIN_HANDLERS),
                            tail_metrics_port=free_port(), client_api_url=f"http://127.0.0.1:{api_port}"
                            ).validate()
        engine = create_engine(settings.db_url)
        try:
            with engine.begin() as conn:
                schema = install(conn, generation)
            migrate.upgrade(engine)
            click.echo(f"demo OTRS database: {schema.label}; own tables at migration {migrate.current(engine)}")
            report = logged_seed(engine, schema, tickets=tickets, articles_per_ticket=articles_per_ticket,
                                 seed=seed_value)
            click.echo(report.summary())
            access = create_demo_access(engine, schema, settings.own_schema)
        finally:
            engine.dispose()
        # the website's client sends with the intake key, and the outbox worker delivers with the same key
        settings = settings.with_changes(client_api_key=access.intake_key)
        _tag_history(settings)  # first: the index then carries the seeded tickets' tags
        _fill_index(settings)
        tail = services.enter_context(Tailing(settings))
        worker = services.enter_context(OutboxWorker(settings, str(base_dir / "worker.log")))
        tn = _welcome_ticket(settings)
        api = services.enter_context(ApiServer(settings, str(base_dir / "api.log"), port=api_port))
        created = _website_ticket(settings, worker)
        click.echo(f"website: ticket {created} sent through the durable client's outbox, delivered to the API by "
                   "the outbox worker")
        seen = tail.wait_for_ticket(created)
        click.echo(f"tailer ({', '.join(settings.handlers)}): {seen}")
        total = tail.wait_until_searchable(WEBSITE_QUERY, created, access.agent_id)
        click.echo(f"search: ticket {created} is searchable ({WEBSITE_QUERY!r} finds {total} ticket(s))")
        checks = Doctor(settings).run()
        for c in checks:
            click.echo(f"  doctor [{c.status}] {c.name}: {c.detail}")
        failed = any(c.status == "fail" for c in checks)
        if check:
            try:
                click.echo(f"  check [ok] agent search screen: "
                           f"{screen_search(api.url, access.login, access.password, WEBSITE_QUERY, created)}")
            except (ScreenCheckFailed, OSError) as error:
                click.secho(f"  check [fail] agent search screen: {error}", fg="red")
                failed = True
        _print_guide(settings, api, access, worker, created, tn)
        if check:
            raise SystemExit(1 if failed else 0)
        click.echo("demo running; press Ctrl-C to stop it")
        _wait_for_interrupt()
    click.echo("demo stopped")


def _tag_history(settings: Settings) -> None:
    """``otrs-ext tags backfill`` over the seeded tickets: source and participant tags from their history, and
    the position the tailer's tags handler goes on from."""
    runtime = build_runtime(settings)
    try:
        bar = tqdm(total=0, unit="ticket", unit_scale=True, file=sys.stderr, desc="tags")

        def advance(done: int, total: int) -> None:
            bar.total, bar.n = total, done
            bar.refresh()

        own = settings.own_schema
        report = Backfill(runtime.engine, runtime.schema, load_rules(settings.tag_rules), own_schema=own).run(
            progress=advance, position=TagsPosition(runtime.engine, runtime.schema, own, settings.tail_source))
        bar.close()
    finally:
        runtime.close()
    click.echo(f"tags: {report.summary().splitlines()[0]}")


def _fill_index(settings: Settings) -> None:
    """``otrs-ext search reindex``'s service over the seeded articles, with its progress bar and its position."""
    runtime = build_runtime(settings)
    try:
        bar = tqdm(total=0, unit="id", unit_scale=True, file=sys.stderr, desc="search index")

        def advance(done: int, total: int) -> None:
            bar.total, bar.n = total, done
            bar.refresh()

        # recording the position the index is consistent with spares the tailer's search handler the seeded
        # articles: it goes on from there, as it does after `otrs-ext search reindex`
        report = reindex(runtime.engine, runtime.schema, runtime.search, state=ReindexState(runtime.redis),
                         progress=advance, position=reindex_position(runtime), own_schema=settings.own_schema)
        bar.close()
    finally:
        runtime.close()
    click.echo(f"search index: {report.summary()}")


def _website_ticket(settings: Settings, worker: OutboxWorker, timeout: float = 90.0) -> str:
    """The website's ticket, as its durable client sends it, left to the outbox worker (``queue_only``)."""
    client = client_from_settings(settings)
    try:
        sent = client.create_ticket(queue_only=True, customer_user="demo@example.ru", source="site-anonymous",
                                    **WEBSITE_TICKET)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            worker.check_alive()
            result = client.result(sent.outbox_id)
            if result is not None and result.number:
                return result.number
            envelope = client.outbox.store.meta(sent.outbox_id)
            if envelope is not None and envelope.state == "dead":
                raise ServiceStartError(f"the outbox gave up on the website's ticket ({envelope.dead_reason}): "
                                        f"{envelope.last_error}; see {worker.log_path}")
            time.sleep(0.2)
    finally:
        client.outbox.celery.close()
    raise ServiceStartError(f"the outbox worker did not deliver the website's ticket within {timeout:.0f}s; "
                            f"see {worker.log_path}")


def _print_guide(settings: Settings, api: ApiServer, access: DemoAccess, worker: OutboxWorker, website_tn: str,
                 welcome_tn: str) -> None:
    api_url = api.url
    seeded = api.search_total(access.agent_key, SEEDED_QUERY)
    rule = "-" * 100
    click.echo(rule)
    click.echo("The demo (otrs-ext beside a seeded OTRS database):")
    click.echo(f"  agent search screen:   {api_url}/agent/search  (log in at {api_url}/agent/login)")
    click.echo(f"  ticket pool screen:    {api_url}/agent/pool  (enter the pool: one ticket at a time, oldest first)")
    click.echo(f"  points screen:         {api_url}/agent/points  (the agent's ledger; heads: their departments)")
    click.echo(f"  demo agent login:      {access.login}")
    click.echo(f"  demo agent password:   {access.password}")
    click.echo(f"  try this search:       {search_url(api_url, WEBSITE_QUERY)}  (the website's ticket {website_tn})")
    if seeded:
        click.echo(f"  or, in seeded tickets: {search_url(api_url, SEEDED_QUERY)}  ({seeded} tickets)")
    click.echo(f"  JSON API:              {api_url}/api/v1  (docs: {api_url}/api/v1/docs)")
    click.echo(f"  website intake key:    {access.intake_key}  (what the website's client creates tickets with)")
    click.echo(f"  agent API key:         {access.agent_key}  (acts as the demo agent {access.login!r})")
    click.echo(f"  tailer metrics:        http://127.0.0.1:{settings.tail_metrics_port}/metrics  "
               f"(handlers: {', '.join(settings.handlers)})")
    click.echo(f"  outbox worker:         {worker.command()}  (log: {worker.log_path})")
    click.echo(f"  e.g. curl -H 'Authorization: Bearer {access.agent_key}' '{api_url}/api/v1/search?q={WEBSITE_QUERY}'")
    click.echo(f"  tags:                  otrs-ext tags list  (source, participant and notification tags from the "
               f"rules in {settings.tag_rules or 'otrs_ext/tags/default_rules.toml'}; the website's ticket has "
               "source:site-anonymous)")
    click.echo("point other otrs-ext commands at the demo with:")
    click.echo(f"  export OTRS_EXT_DB_URL='{settings.db_url}'")
    click.echo(f"  export OTRS_EXT_REDIS_URL='{settings.redis_url}'")
    click.echo(f"  export OTRS_EXT_SEARCH_URL='{settings.search_url}'")
    click.echo(f"  export OTRS_EXT_OTRS_HOME='{settings.otrs_home}' OTRS_EXT_STATE_DIR='{settings.state_dir}'")
    click.echo(f"  export OTRS_EXT_CLIENT_API_URL='{settings.client_api_url}' "
               f"OTRS_EXT_CLIENT_API_KEY='{settings.client_api_key}'")
    click.echo(f"  then: otrs-ext ticket get {welcome_tn} --history")
    click.echo(f"  or:   otrs-ext search query {WEBSITE_QUERY} --as {access.login}")
    click.echo(rule)


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
