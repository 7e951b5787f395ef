"""The in-process tailer harness of the event and search tests: a dispatcher for the handlers a test names, a
recording handler, a tailer running in a thread (``Running``), and ``Tail``, which puts the three together and
waits on what the recorder saw."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy
from sqlalchemy import Engine

import schema_maps
from otrs_ext.events import hookspecs
from otrs_ext.events.dispatch import Dispatcher, Services
from otrs_ext.events.domain import DomainEvent
from otrs_ext.events.handlers import event_log
from otrs_ext.events.tailer import TailConfig, Tailer

# short waits so tests run in seconds
FAST = {"debounce": 0.5, "heartbeat": 0.2, "checkpoint_interval": 0.2}


def dispatcher(engine: Engine, schema: schema_maps.OtrsSchema, plugins: Mapping[str, object], *,
               skip: Iterable[str] = (), **services: Any) -> Dispatcher:
    """A dispatcher handing every event to ``plugins`` (name -> handler plugin), in that order; ``services``
    (``search``, ``redis``) are what the handlers get besides the database."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name, plugin in plugins.items():
        manager.register(plugin, name=name)
    return Dispatcher(manager, Services(engine=engine, schema=schema, **services), skip=skip)


class Recorder:
    """A handler plugin that keeps every event it is given, in order."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []
        self.lock = threading.Lock()

    def _keep(self, event: DomainEvent) -> None:
        with self.lock:
            self.events.append(event)

    @hookspecs.hookimpl
    def on_ticket_created(self, event):
        self._keep(event)

    @hookspecs.hookimpl
    def on_article_created(self, event):
        self._keep(event)

    @hookspecs.hookimpl
    def on_ticket_changed(self, event):
        self._keep(event)

    @hookspecs.hookimpl
    def on_dynamic_field_changed(self, event):
        self._keep(event)

    @hookspecs.hookimpl
    def on_ticket_merged(self, event):
        self._keep(event)

    @hookspecs.hookimpl
    def on_ticket_deleted(self, event):
        self._keep(event)

    @hookspecs.hookimpl
    def on_history_added(self, event):
        self._keep(event)


class Running:
    """A tailer's ``run`` in a thread, started at once; ``error`` is what it raised (None while it runs or after
    a clean stop)."""

    def __init__(self, tailer: Tailer) -> None:
        self.tailer = tailer
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.tailer.run(self.stop)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.error = error

    def halt(self, timeout: float = 15.0) -> None:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "tailer did not stop"

    def ended(self, timeout: float) -> BaseException | None:
        """Wait for the tailer to end by itself; return what it raised."""
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"tailer still running after {timeout} s"
        return self.error


@dataclass
class Tail:
    """A tailer with the ``event_log`` handler and ``recorder``; subclasses change the handlers
    (``dispatcher``) or the tailer (``make_tailer``)."""

    engine: Engine
    schema: schema_maps.OtrsSchema
    recorder: Recorder
    running: Running | None = None

    def start(self, **config: object) -> Tail:
        self.running = Running(self.make_tailer(self.dispatcher(), TailConfig(**{**FAST, **config})))
        return self

    def dispatcher(self) -> Dispatcher:
        return dispatcher(self.engine, self.schema, {"event_log": event_log, "recorder": self.recorder})

    def make_tailer(self, dispatcher: Dispatcher, config: TailConfig) -> Tailer:
        return Tailer(self.engine, self.schema, dispatcher, config=config)

    @property
    def tailer(self) -> Tailer | None:
        return self.running.tailer if self.running else None

    @property
    def thread(self) -> threading.Thread | None:
        return self.running.thread if self.running else None

    @property
    def error(self) -> BaseException | None:
        return self.running.error if self.running else None

    def halt(self) -> None:
        if self.running is not None:
            self.running.halt(10)

    def wait(self, done: Callable[[list[DomainEvent]], bool], timeout: float = 15.0) -> list[DomainEvent]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise self.error
            with self.recorder.lock:
                events = list(self.recorder.events)
            if done(events):
                return events
            time.sleep(0.05)
        raise AssertionError(f"timed out; recorded {len(events)} events: {events[-5:]}")

    def of(self, kind: type, ticket_id: int | None = None) -> list:
        with self.recorder.lock:
            return [e for e in self.recorder.events
                    if isinstance(e, kind) and (ticket_id is None or e.ticket_id == ticket_id)]
