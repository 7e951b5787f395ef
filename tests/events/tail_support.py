"""The tailer harness shared by the event tests: a recording handler and a tailer running in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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


@dataclass
class Tail:
    engine: Engine
    schema: schema_maps.OtrsSchema
    recorder: Recorder
    tailer: Tailer | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    error: BaseException | None = None

    def start(self, **config: object) -> Tail:
        self.stop = threading.Event()
        self.tailer = self.make_tailer(self.dispatcher(), TailConfig(**{**FAST, **config}))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def dispatcher(self) -> Dispatcher:
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        manager.register(event_log, name="event_log")
        manager.register(self.recorder, name="recorder")
        return Dispatcher(manager, Services(engine=self.engine, schema=self.schema))

    def make_tailer(self, dispatcher: Dispatcher, config: TailConfig) -> Tailer:
        return Tailer(self.engine, self.schema, dispatcher, config=config)

    def _run(self) -> None:
        try:
            self.tailer.run(self.stop)
        except BaseException as error:  # noqa: BLE001 - reported to the test
            self.error = error

    def halt(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(10)
            assert not self.thread.is_alive(), "tailer did not stop"

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
