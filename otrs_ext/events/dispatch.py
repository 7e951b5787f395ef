"""Hands domain events to the handler plugins, one handler at a time, and stops at the first failure.

Events come in batches (what the tailer delivers together). Each handler, in registration order, gets the
whole batch: through ``on_batch`` if it implements it, else event by event through the hooks it implements,
before the next handler gets it. A handler that raises stops
the pipeline (fail-stop): the tailer exits without storing a checkpoint past the event, logs which handler
failed on which event, and a restart retries it. An event that can never succeed (a poison event) is
skipped only when an operator names it (``otrs-ext tail --skip EVENT_ID``), and the skip is logged.
A handler that fails because a service it needs is unreachable (MariaDB, Redis, searchd: a restart, a dropped
connection) is not stopped for: that is an outage, not a bad event. It goes up as ``ServiceDown``, the tailer
backs off and hands the event over again from the last checkpoint until the service is back.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy
import pymysql
import redis
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.exc import DBAPIError

from schema_maps import OtrsSchema

from ..db.errors import database_gone
from ..db.lookups import Lookups
from ..db.own_tables import own_table
from ..errors import OtrsExtError
from ..settings import Settings
from .domain import (
    ArticleCreated,
    DomainEvent,
    DynamicFieldChanged,
    HistoryAdded,
    TicketChanged,
    TicketCreated,
    TicketDeleted,
    TicketMerged,
)

log = logging.getLogger(__name__)

HOOKS: dict[type[DomainEvent], str] = {
    TicketCreated: "on_ticket_created",
    ArticleCreated: "on_article_created",
    TicketChanged: "on_ticket_changed",
    DynamicFieldChanged: "on_dynamic_field_changed",
    TicketMerged: "on_ticket_merged",
    TicketDeleted: "on_ticket_deleted",
    HistoryAdded: "on_history_added",
}
BATCH_HOOK = "on_batch"


class HandlerFailed(OtrsExtError):
    status = 500
    code = "handler-failed"

    def __init__(self, handler: str, event: DomainEvent, error: BaseException) -> None:
        super().__init__(
            f"handler {handler!r} failed on {type(event).__name__} {event.event_id} (ticket {event.ticket_id}): "
            f"{type(error).__name__}: {error}. The tailer stopped before checkpointing it; fix the handler and "
            f"restart, or skip this event explicitly with `otrs-ext tail --skip {event.event_id}`"
        )
        self.handler = handler
        self.event = event


class ServiceDown(ConnectionError):
    """A handler could not reach a service it needs. Never a reason to skip the event: retry it later."""

    def __init__(self, handler: str, event: DomainEvent, error: BaseException, *, batch: int = 1) -> None:
        what = f"on a batch of {batch} events from" if batch > 1 else "on"
        super().__init__(
            f"handler {handler!r} could not reach a service {what} {type(event).__name__} {event.event_id} "
            f"(ticket {event.ticket_id}): {type(error).__name__}: {str(error).rstrip('.')}. The event is retried "
            f"with backoff once the service answers again; nothing is skipped"
        )
        self.handler = handler
        self.event = event


# transient server answers worth waiting out: too many connections, lock wait timeout, deadlock victim
TRANSIENT_CODES = frozenset({1040, 1205, 1213})
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)


def service_down(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says a service was unreachable or busy, not that the event or
    the handler was wrong: MariaDB and searchd (both spoken to through pymysql), Redis, plain sockets."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if database_gone(current) or isinstance(current, (*REDIS_DOWN, TimeoutError)):
            return True
        original = current.orig if isinstance(current, DBAPIError) else current
        if isinstance(original, pymysql.err.OperationalError) and original.args \
                and original.args[0] in TRANSIENT_CODES:
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass
class Services:
    """What handlers get besides the event. ``defer`` collects work for after the checkpoint. ``settings``: the
    process's settings, for handlers with options of their own (None in tests that build services by hand)."""

    engine: Engine
    schema: OtrsSchema
    own_schema: str | None = None
    search: Any = None
    redis: Any = None
    settings: Settings | None = None
    deferred: list[Callable[[], None]] = field(default_factory=list)

    def lookups(self) -> Lookups:
        with self.engine.connect() as conn:
            return Lookups.load(conn, self.schema)

    def defer(self, work: Callable[[], None]) -> None:
        """Run ``work`` (e.g. ``task.delay(...)``) once the transaction's checkpoint is stored."""
        self.deferred.append(work)

    def once(self, conn: Connection, handler: str, event_id: str) -> bool:
        """Record that ``handler`` applied ``event_id``, in the caller's transaction; False if it already had.

        For handlers whose effect is not idempotent by itself (counters, appended rows): do the effect in the
        same transaction only when this returns True.
        """
        table = own_table("handled_event", self.own_schema)
        result = conn.execute(insert(table).prefix_with("IGNORE").values(
            handler=handler, event_id=event_id, handled_at=_now(conn)))
        return result.rowcount == 1


def _now(conn: Connection) -> Any:
    return conn.execute(select(func.now())).scalar_one()


@dataclass(frozen=True)
class _Handler:
    name: str
    batch: pluggy.HookImpl | None  # its on_batch, which then takes every event
    hooks: dict[str, pluggy.HookImpl]  # per-event hook name -> its implementation


class Dispatcher:
    def __init__(self, plugins: pluggy.PluginManager, services: Services, *, skip: Iterable[str] = ()) -> None:
        self.plugins = plugins
        self.services = services
        self.skip = set(skip)
        self.dispatched = 0
        self.handled: Counter[str] = Counter()  # events handed to each handler (by name)
        self._handlers: list[_Handler] | None = None

    def handler_names(self) -> list[str]:
        return [name for name, _ in self.plugins.list_name_plugin()]

    def handlers(self) -> list[_Handler]:
        """The registered handlers in registration order, with their hooks (looked up once: plugins are
        registered before the tailer starts)."""
        if self._handlers is None:
            found: dict[str, dict[str, pluggy.HookImpl]] = {}
            for hook_name in (*HOOKS.values(), BATCH_HOOK):
                for impl in getattr(self.plugins.hook, hook_name).get_hookimpls():
                    found.setdefault(impl.plugin_name, {})[hook_name] = impl
            self._handlers = [_Handler(name, hooks.pop(BATCH_HOOK, None), hooks)
                              for name, plugin in self.plugins.list_name_plugin()
                              if plugin is not None and (hooks := found.get(name))]
        return self._handlers

    def dispatch(self, events: Iterable[DomainEvent], *, exclude: Collection[str] = ()) -> int:
        """Hand ``events`` (delivered together) to every handler not named in ``exclude`` (handlers whose
        store already reflects them, see ``checkpoint.HandlerPositions``); returns how many were handed on."""
        batch: list[DomainEvent] = []
        for event in events:
            if event.event_id in self.skip:
                log.warning("skipping event %s as the operator asked", event.event_id,
                            extra={"event": "tail_event_skipped", "event_id": event.event_id,
                                   "ticket_id": event.ticket_id})
                continue
            batch.append(event)
        if not batch:
            return 0
        for handler in self.handlers():
            if handler.name in exclude:
                continue
            if handler.batch is not None:
                self._deliver_batch(handler, batch)
                self.handled[handler.name] += len(batch)
                continue
            for event in batch:
                impl = handler.hooks.get(HOOKS[type(event)])
                if impl is not None:
                    self._call(handler.name, impl, event, {"event": event, "services": self.services})
                    self.handled[handler.name] += 1
        self.dispatched += len(batch)
        return len(batch)

    def _deliver_batch(self, handler: _Handler, events: list[DomainEvent]) -> None:
        """``on_batch``; when it fails for another reason than an outage, the events again one at a time, to
        name the event that fails (for the operator's ``--skip``). Handlers are idempotent: those before it
        are applied again harmlessly, and if none fails alone, the batch is applied."""
        assert handler.batch is not None
        try:
            self._call(handler.name, handler.batch, events[0], {"events": events, "services": self.services},
                       batch=len(events))
        except HandlerFailed as failed:
            if len(events) == 1:
                raise
            log.warning("handler %r failed on a batch of %d events (%s); handing them over one at a time",
                        handler.name, len(events), failed.__cause__,
                        extra={"event": "tail_batch_failed", "handler": handler.name, "events": len(events)})
            for event in events:
                self._deliver_batch(handler, [event])

    def _call(self, name: str, impl: pluggy.HookImpl, event: DomainEvent, arguments: dict[str, Any], *,
              batch: int = 1) -> None:
        try:
            impl.function(**{argument: arguments[argument] for argument in impl.argnames})
        except Exception as error:
            if service_down(error):
                # not the handler's fault (a restart, a dropped connection): the tailer backs off and
                # hands the event over again, instead of stopping for an operator
                raise ServiceDown(name, event, error, batch=batch) from error
            raise HandlerFailed(name, event, error) from error
    def run_deferred(self) -> None:
        """Run the work deferred until the checkpoint. Work that meets an outage stays queued (with what
        follows it) for the next checkpoint, so a Redis restart does not lose a Celery message."""
        work = self.services.deferred
        while work:
            try:
                work[0]()
            except Exception as error:
                if service_down(error):
                    raise ConnectionError(f"deferred work could not reach a service: {error}") from error
                raise
            work.pop(0)
