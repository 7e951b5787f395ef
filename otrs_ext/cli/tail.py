"""``otrs-ext tail``: the daemon that turns the OTRS binlog into domain events for the handlers."""

from __future__ import annotations

import logging
import signal
import threading

import click

from ..db import migrate
from ..errors import ConfigurationError
from ..events.compose import build_tailer
from ..events.metrics import TailMetrics, serve_metrics
from ..events.plugins import BUILTIN_HANDLERS
from ..runtime import build_runtime

log = logging.getLogger(__name__)


@click.command("tail")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="serve /metrics and /healthz on this port (default: OTRS_EXT_TAIL_METRICS_PORT; 0 = off)")
@click.option("--skip", "skip", multiple=True, metavar="EVENT_ID",
              help="skip this (poison) event instead of handing it to the handlers; repeatable, logged")
@click.pass_obj
def command(load_settings, metrics_port: int | None, skip: tuple[str, ...]) -> None:  # noqa: ANN001
    """Stream row changes of the OTRS tables into domain events until SIGTERM or Ctrl-C."""
    settings = load_settings()
    runtime = build_runtime(settings)
    stop = threading.Event()
    server = None
    try:
        if migrate.current(runtime.engine, settings.own_schema) != migrate.head():
            raise ConfigurationError("otrs-ext's own tables are missing or old; run `otrs-ext db upgrade` first")
        metrics = TailMetrics()
        port = settings.tail_metrics_port if metrics_port is None else metrics_port
        if port:
            server = serve_metrics(metrics, port)
        tailer = build_tailer(runtime, skip=skip, metrics=metrics)
        names = tailer.dispatcher.handler_names()
        if settings.handlers:
            log.info("tailer starts with handlers %s", ", ".join(names),
                     extra={"event": "tail_handlers", "handlers": names})
        else:  # a tailer that feeds nobody is almost always a forgotten setting
            message = ("no handlers: OTRS_EXT_HANDLERS is empty, so events are read and checkpointed but nothing "
                       f"is indexed or tagged; set e.g. OTRS_EXT_HANDLERS={','.join(BUILTIN_HANDLERS)}")
            log.warning(message, extra={"event": "tail_no_handlers"})
            click.echo(f"otrs-ext tail: {message}", err=True)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        tailer.run(stop)
    finally:
        if server is not None:
            server.shutdown()
        runtime.close()
