"""Builds the tailer from a ``Runtime``: settings → config, handlers → dispatcher."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .dispatch import Dispatcher, Services
from .metrics import TailMetrics
from .poll import PollConfig, PollTailer
from .tailer import TailConfig, Tailer

if TYPE_CHECKING:  # only its fields are read here; runtime.py itself imports events.plugins
    from ..runtime import Runtime


def tail_config(runtime: Runtime) -> TailConfig:
    s = runtime.settings
    return TailConfig(identity=s.tail_identity, server_id=s.tail_server_id, debounce=s.tail_debounce_seconds,
                      checkpoint_interval=s.tail_checkpoint_seconds)


def build_tailer(runtime: Runtime, *, skip: Iterable[str] = (), metrics: TailMetrics | None = None) -> Tailer:
    services = Services(engine=runtime.engine, schema=runtime.schema, own_schema=runtime.settings.own_schema,
                        search=runtime.search, redis=runtime.redis, settings=runtime.settings)
    runtime.plugins.hook.on_start(services=services)  # handlers check their configuration before any event
    dispatcher = Dispatcher(runtime.plugins, services, skip=skip)
    s = runtime.settings
    if s.tail_source == "poll":  # no usable binlog: read ticket_history and article by id
        poll = PollConfig(interval=s.tail_poll_seconds, gap_grace=s.tail_poll_gap_seconds, timezone=s.otrs_timezone)
        return PollTailer(runtime.engine, runtime.schema, dispatcher, own_schema=s.own_schema,
                          config=tail_config(runtime), metrics=metrics, poll=poll)
    return Tailer(runtime.engine, runtime.schema, dispatcher, own_schema=runtime.settings.own_schema,
                  config=tail_config(runtime), metrics=metrics)
