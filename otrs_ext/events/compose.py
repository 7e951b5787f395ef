"""Builds the tailer from a ``Runtime``: settings → config, handlers → dispatcher."""

from __future__ import annotations

from collections.abc import Iterable

from ..runtime import Runtime
from .dispatch import Dispatcher, Services
from .metrics import TailMetrics
from .tailer import TailConfig, Tailer


def tail_config(runtime: Runtime) -> TailConfig:
    s = runtime.settings
    return TailConfig(identity=s.tail_identity, server_id=s.tail_server_id, debounce=s.tail_debounce_seconds,
                      checkpoint_interval=s.tail_checkpoint_seconds)


def build_tailer(runtime: Runtime, *, skip: Iterable[str] = (), metrics: TailMetrics | None = None) -> Tailer:
    services = Services(engine=runtime.engine, schema=runtime.schema, own_schema=runtime.settings.own_schema,
                        search=runtime.search, redis=runtime.redis)
    dispatcher = Dispatcher(runtime.plugins, services, skip=skip)
    return Tailer(runtime.engine, runtime.schema, dispatcher, own_schema=runtime.settings.own_schema,
                  config=tail_config(runtime), metrics=metrics)
