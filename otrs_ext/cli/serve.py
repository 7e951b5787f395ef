"""``otrs-ext serve``: the JSON API under gunicorn; ``otrs-ext apikey create``: a new API key, shown once."""

from __future__ import annotations

import click
from gunicorn.app.base import BaseApplication

from ..api.app import create_app
from ..api.keys import SCOPES, ApiKeys
from ..runtime import build_runtime
from ..tickets import names

# gthread rather than gevent: the app's clients (PyMySQL, redis-py, the ticket-number thread) stay plain threads,
# and 2 workers x 128 threads hold 200 pool event streams (mostly idle in a 1 s Redis wait) with room for requests
THREADS = 128
DB_CONNECTIONS = 16  # per worker, at most (plus two): MariaDB's max_connections is shared with OTRS


class _Gunicorn(BaseApplication):
    """gunicorn with the app built in each worker after the fork (engines and sockets are per process)."""

    def __init__(self, load_settings, options: dict) -> None:  # noqa: ANN001
        self.load_settings = load_settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # noqa: ANN202 - gunicorn's signature
        # a connection per request thread up to DB_CONNECTIONS, one for the ticket-number pool's thread and one
        # spare: most threads may hold a pool event stream, which uses the database only for a moment per event
        threads = self.options["threads"]
        return create_app(build_runtime(self.load_settings(), db_pool_size=min(threads, DB_CONNECTIONS) + 2))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--workers", type=int, default=2, show_default=True, help="gunicorn worker processes")
@click.option("--threads", type=int, default=THREADS, show_default=True,
              help="threads per worker; each open pool event stream (GET /api/v1/pool/events) holds one")
@click.pass_obj
def serve(load_settings, host: str, port: int, workers: int, threads: int) -> None:  # noqa: ANN001
    """Serve the JSON API (/api/v1) until SIGTERM."""
    load_settings()  # fail here, once, on a bad setting rather than in every worker
    _Gunicorn(load_settings, {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                              # gthread, with gunicorn's own error answers (URL too long, ...) as problem+json
                              "worker_class": "otrs_ext.api.gunicorn_worker.ProblemThreadWorker",
                              # a worker with every thread busy (event streams) accepts no more: the other
                              # worker takes the connection instead of it queueing behind streams for minutes
                              "worker_connections": threads,
                              "accesslog": None, "timeout": 60,
                              "graceful_timeout": 20}).run()


@click.group("apikey")
def apikey() -> None:
    """API keys for the JSON API (shown once when created, stored hashed)."""


@apikey.command("create")
@click.option("--scope", type=click.Choice(SCOPES), required=True,
              help="intake: may only create tickets (the website); agent: acts as --agent with his OTRS rights")
@click.option("--agent", "agent_login", metavar="LOGIN", help="the OTRS agent an agent key acts as")
@click.option("--name", default="", help="what the key is for (shown in logs)")
@click.option("--rate", type=click.IntRange(min=1), default=600, show_default=True, help="requests per minute")
@click.pass_obj
def create_key(load_settings, scope: str, agent_login: str | None, name: str, rate: int) -> None:  # noqa: ANN001
    """Print a new API key. It is stored hashed and cannot be shown again."""
    runtime = build_runtime(load_settings())
    try:
        agent_id = names.agent_id(runtime.engine, runtime.schema, agent_login) if agent_login else None
        key = ApiKeys(runtime.engine, runtime.settings.own_schema).create(
            scope, name=name or f"{scope} key" + (f" for {agent_login}" if agent_login else ""), agent_id=agent_id,
            rate_per_minute=rate)
    finally:
        runtime.close()
    click.echo(key)
