"""OTRS's ticket event modules (``Ticket::EventModulePost###<key>``) as the installation configured them, and
what each one would do for an event: nothing, or work otrs-ext hands to OTRS's daemon.

The modules come from the installation's deployed SysConfig (``otrs_ext.db.sysconfig``, OTRS 6+), so a
customised or extended installation is honoured; where it holds no valid module (OTRS 5, a bare test
database) Znuny 7's shipped defaults below stand in. ``Kernel/Config.pm`` overrides are invisible from the
database.

A module is skipped where its own first check would make it return without doing anything, decided from the
same data it reads (``otrs_tasks``): NotificationEvent only for events a valid notification listens to,
GenericAgent for events of a valid job, the GenericInterface handler for events an invoker of a valid web
service is bound to, process transitions only for process tickets, and so on. That keeps the daemon's queue
to the work that matters: a create with its article queues three tasks with the shipped configuration.

Modules whose effect otrs-ext writes itself, in the same transaction, are never queued (``REPRODUCED``).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy import Connection, select

from schema_maps import OtrsSchema

from ..db.perl_yaml import load_perl_yaml
from ..db.sysconfig import CachedSettings, SysConfig

log = logging.getLogger(__name__)
SETTING = "Ticket::EventModulePost###"
ALL = "*"

# Modules whose work otrs-ext does itself within the write (never queued, whatever the setting says).
REPRODUCED = {
    "Kernel::System::Ticket::Event::ForceUnlock": "the unlock after a move",
    "Kernel::System::Ticket::Event::TicketPendingTimeReset": "the pending-time reset on a non-pending state",
    "Kernel::System::Ticket::Event::TicketNewMessageUpdate": "the Seen flags of a new article",
    # acts only inside the AgentTicketPhone/AgentTicketEmail screens (its Action config): never for otrs-ext
    "Kernel::System::Ticket::Event::LockAfterCreate": "nothing outside OTRS's phone and e-mail screens",
}

# The scalar SysConfig settings the preconditions read, with OTRS's defaults.
CONFIG_DEFAULTS: dict[str, str] = {
    "Ticket::Service": "0",
    "Ticket::IndexModule": "Kernel::System::Ticket::IndexAccelerator::RuntimeDB",
    "Ticket::Responsible": "0",
    "Ticket::ResponsibleAutoSet": "1",
    "Ticket::ArchiveSystem": "0",
    "DisableAsyncCalls": "0",
    "Process::DynamicFieldProcessManagementProcessID": "ProcessManagementProcessID",
    "Process::DynamicFieldProcessManagementActivityID": "ProcessManagementActivityID",
}


@dataclass(frozen=True)
class EventModule:
    key: str  # what follows ``Ticket::EventModulePost###``, e.g. 9990-EscalationIndex
    module: str  # the Perl class
    config: Mapping[str, Any]  # the whole setting, which the module's Run gets as Config

    # Worked out once per module (the config is read from SysConfig and never changed afterwards): a write's
    # plan asks them for every module and event.
    @functools.cached_property
    def event(self) -> str:
        return str(self.config.get("Event") or "")

    @functools.cached_property
    def transaction(self) -> bool:
        return str(self.config.get("Transaction") or "0") not in ("", "0")

    def matches(self, event: str) -> bool:
        """Znuny's test: no Event config = every event, else ``$Event =~ /$Config{Event}/``."""
        if not self.event:
            return True
        found = _search(self.event, event)
        if found is None:
            log.warning("event module %s: its Event %r is no regular expression Python reads; not queued",
                        self.key, self.event, extra={"event": "otrs_event_module_bad_regex"})
        return bool(found)


@functools.lru_cache(maxsize=4096)
def _search(pattern: str, event: str) -> bool | None:
    """Whether ``pattern`` finds ``event``; None for a pattern Python cannot read. Every write asks this for
    each module and event: the answers are few and never change."""
    try:
        return re.search(pattern, event) is not None
    except re.error:
        return None


def _module(key: str, module: str, event: str = "", transaction: bool = False, **extra: str) -> EventModule:
    config: dict[str, Any] = {"Module": module, **extra}
    if event:
        config["Event"] = event
    if transaction:
        config["Transaction"] = "1"
    return EventModule(key, module, config)


_TICKET_EVENT = "Kernel::System::Ticket::Event::"
# Znuny 7.0's shipped, valid modules (Kernel/Config/Files/XML/*.xml), for installations without SysConfig tables.
DEFAULT_MODULES: tuple[EventModule, ...] = (
    _module("2000-TicketAllChildrenClosed", _TICKET_EVENT + "TicketAllChildrenClosed",
            "TicketStateUpdate|TicketCreate"),
    _module("2300-ArchiveRestore", _TICKET_EVENT + "ArchiveRestore", "TicketStateUpdate"),
    _module("2600-AcceleratorUpdate", _TICKET_EVENT + "TicketAcceleratorUpdate",
            "TicketStateUpdate|TicketQueueUpdate|TicketLockUpdate"),
    _module("3000-ResponsibleAutoSet", _TICKET_EVENT + "ResponsibleAutoSet", "TicketOwnerUpdate"),
    _module("3300-TicketPendingTimeReset", _TICKET_EVENT + "TicketPendingTimeReset", "TicketStateUpdate"),
    _module("3600-ForceUnlockOnMove", _TICKET_EVENT + "ForceUnlock", "TicketQueueUpdate"),
    _module("4000-TicketArticleNewMessageUpdate", _TICKET_EVENT + "TicketNewMessageUpdate",
            "ArticleCreate|ArticleFlagSet"),
    _module("4300-EscalationStopEvents", _TICKET_EVENT + "TriggerEscalationStopEvents",
            "TicketSLAUpdate|TicketQueueUpdate|TicketStateUpdate|ArticleCreate", Transaction="0"),
    _module("7000-NotificationEvent", _TICKET_EVENT + "NotificationEvent", transaction=True),
    _module("950-TicketAppointments", _TICKET_EVENT + "TicketAppointments",
            "TicketSLAUpdate|TicketQueueUpdate|TicketStateUpdate|TicketCreate|ArticleCreate|"
            "TicketPendingTimeUpdate|TicketDynamicFieldUpdate_.*", transaction=True),
    _module("9700-GenericAgent", _TICKET_EVENT + "GenericAgent", transaction=True),
    _module("9800-TicketProcessTransitions", _TICKET_EVENT + "TicketProcessTransitions", transaction=True),
    _module("9900-GenericInterface", "Kernel::GenericInterface::Event::Handler", transaction=True),
    _module("9990-EscalationIndex", _TICKET_EVENT + "TicketEscalationIndex",
            "TicketSLAUpdate|TicketQueueUpdate|TicketStateUpdate|TicketCreate|ArticleCreate|"
            "TicketDynamicFieldUpdate|TicketTypeUpdate|TicketServiceUpdate|TicketCustomerUpdate|"
            "TicketPriorityUpdate|TicketMerge", transaction=True),
    _module("999-DynamicFieldWebservice", _TICKET_EVENT + "DynamicFieldWebservice", "TicketDynamicFieldUpdate",
            transaction=True),
    _module("999-NotifyOnEmptyProcessTickets", _TICKET_EVENT + "NotifyOnEmptyProcessTickets", "TicketCreate",
            transaction=True),
    _module("Mentions", _TICKET_EVENT + "Mentions", "ArticleCreate", transaction=True),
)
# OTRS 5 (no SysConfig tables) shipped these of them; the calendar, child-ticket, mention and web-service-field
# modules came with OTRS 6 and Znuny.
OTRS5_CLASSES = {_TICKET_EVENT + name for name in (
    "ArchiveRestore", "TicketAcceleratorUpdate", "ResponsibleAutoSet", "TicketPendingTimeReset", "ForceUnlock",
    "TicketNewMessageUpdate", "TriggerEscalationStopEvents", "NotificationEvent", "GenericAgent",
    "TicketProcessTransitions", "TicketEscalationIndex")} | {"Kernel::GenericInterface::Event::Handler"}


@dataclass(frozen=True)
class Installation:
    """What the installation configured, read in one go and kept for a short while (``InstallationReader``)."""

    modules: tuple[EventModule, ...]  # the valid ones, in Znuny's order (sorted keys)
    config: Mapping[str, str] = field(default_factory=lambda: dict(CONFIG_DEFAULTS))
    notification_events: frozenset[str] = frozenset()
    generic_agent_events: frozenset[str] = frozenset()
    invoker_events: frozenset[str] | None = frozenset()  # None: a web service config could not be read

    def flag(self, name: str) -> bool:
        return str(self.config.get(name, CONFIG_DEFAULTS.get(name, "0"))) not in ("", "0")

    def selected(self, wanted: Iterable[str]) -> tuple[EventModule, ...]:
        """The modules to queue: ``*`` = every valid one otrs-ext does not reproduce, else the named keys."""
        names = tuple(wanted)
        chosen = [m for m in self.modules if m.module not in REPRODUCED and (ALL in names or m.key in names)]
        return tuple(chosen)


class InstallationReader:
    """Reads the ``Installation``, at most every ``ttl`` seconds per process (OTRS caches these too)."""

    def __init__(self, schema: OtrsSchema, *, ttl: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.schema = schema
        self._cached = CachedSettings(self.read, ttl=ttl, clock=monotonic)

    def get(self, conn: Connection) -> Installation:
        return self._cached.get(conn)

    def read(self, conn: Connection) -> Installation:
        values = SysConfig(self.schema).read(conn, names=CONFIG_DEFAULTS, prefixes=[SETTING])
        modules = [EventModule(name[len(SETTING):], str(value["Module"]), dict(value))
                   for name, value in values.items()
                   if name.startswith(SETTING) and isinstance(value, Mapping) and value.get("Module")]
        if not modules:  # OTRS 5, or SysConfig tables without the shipped settings
            modules = [m for m in DEFAULT_MODULES
                       if self.schema.traits.sysconfig_tables or m.module in OTRS5_CLASSES]
        modules.sort(key=lambda m: m.key)  # Perl's ``sort keys``: plain string order
        config = dict(CONFIG_DEFAULTS)
        for name in CONFIG_DEFAULTS:
            if name in values and not isinstance(values[name], Mapping | list):
                config[name] = "" if values[name] is None else str(values[name])
        return Installation(
            modules=tuple(modules), config=config,
            notification_events=self._notification_events(conn),
            generic_agent_events=self._generic_agent_events(conn),
            invoker_events=self._invoker_events(conn),
        )

    def _notification_events(self, conn: Connection) -> frozenset[str]:
        n, i, v = (self.schema.tables[t] for t in ("notification_event", "notification_event_item", "valid"))
        query = (select(i.c.event_value).distinct()
                 .select_from(i.join(n, n.c.id == i.c.notification_id).join(v, v.c.id == n.c.valid_id))
                 .where(i.c.event_key == "Events", v.c.name == "valid"))
        return frozenset(r[0] for r in conn.execute(query))

    def _generic_agent_events(self, conn: Connection) -> frozenset[str]:
        jobs = self.schema.tables.generic_agent_jobs
        rows = conn.execute(select(jobs.c.job_name, jobs.c.job_key, jobs.c.job_value)
                            .where(jobs.c.job_key.in_(("EventValues", "Valid")))).all()
        valid = {name for name, key, value in rows if key == "Valid" and str(value) == "1"}
        return frozenset(str(value) for name, key, value in rows if key == "EventValues" and name in valid)

    def _invoker_events(self, conn: Connection) -> frozenset[str] | None:
        ws, v = self.schema.tables.gi_webservice_config, self.schema.tables.valid
        events: set[str] = set()
        for name, raw in conn.execute(select(ws.c.name, ws.c.config).join(v, v.c.id == ws.c.valid_id)
                                      .where(v.c.name == "valid")):
            config = _yaml(raw)
            if raw and not isinstance(config, Mapping):
                log.warning("web service %s: its configuration is no YAML otrs-ext reads; the GenericInterface "
                            "handler is queued for every event", name, extra={"event": "otrs_webservice_unread"})
                return None
            requester = config.get("Requester") if isinstance(config, Mapping) else None
            invokers = requester.get("Invoker") if isinstance(requester, Mapping) else None
            for invoker in (invokers or {}).values() if isinstance(invokers, Mapping) else ():
                for bound in (invoker or {}).get("Events") or () if isinstance(invoker, Mapping) else ():
                    if isinstance(bound, Mapping) and bound.get("Event"):
                        events.add(str(bound["Event"]))
        return frozenset(events)


def _yaml(raw: bytes | str | None) -> Any:
    try:
        return load_perl_yaml(raw)
    except yaml.YAMLError:
        return None
