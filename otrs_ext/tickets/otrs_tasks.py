"""OTRS's own side effects of an otrs-ext write, handed to OTRS's daemon in the write's transaction.

Znuny runs its ticket event modules inside the request that changed the ticket: the escalation index,
notification mails, calendar appointments, GenericAgent jobs, GenericInterface invokers, process transitions.
otrs-ext does not run Perl; it queues, for every event its write raised (``otrs_events``) and every configured
module that would act on it (``otrs_event_modules``), one ``scheduler_task`` row of type
``AsynchronousExecutor`` asking the daemon to call ``<Module>->Run(Event, Data, Config, UserID)`` - exactly
what Znuny's EventHandler calls - the way ``Kernel::System::AsynchronousExecutor::AsyncCall`` queues work:
``task_data`` = base64 of ``Storable::nfreeze({Object, Function, Params})``, ``attempts`` 1, the cache entry
``SchedulerDB``/``TaskListUnlocked`` deleted after the commit. The daemon then runs OTRS's own code.

Order: modules without ``Transaction`` run in Znuny at once, in the order the events were raised; the
transactional ones at the end of the request, per Perl object (ticket, article, article backend) and event,
modules by key. The tasks are inserted in that order (the daemon takes them by id; with several workers they
may overlap).

Where a module itself only queues more work or guards against running twice in one request, the task is
what that leaves: TicketAppointments' one ``Kernel::System::Calendar-TicketAppointmentProcessTicket()`` task per
ticket (the row Znuny itself writes), one escalation index rebuild per ticket (after its last event; the
rebuild reads only the final ticket), process transitions once per ticket, GenericAgent once per ticket
and event.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from schema_maps import OtrsSchema

from . import otrs_cache, statements
from .clock import epoch
from .otrs_event_modules import ALL, EventModule, Installation, InstallationReader
from .otrs_events import ENDED_STATE_TYPES, EventRecorder, OtrsEvent
from .otrs_storable import nfreeze

if TYPE_CHECKING:
    from .write import Row, Write

TASK_TYPE = "AsynchronousExecutor"
NAME_LIMIT = 150  # scheduler_task.name VARCHAR(150)
_EVENT = "Kernel::System::Ticket::Event::"
APPOINTMENTS = _EVENT + "TicketAppointments"
ESCALATION_INDEX = _EVENT + "TicketEscalationIndex"
ONCE_PER_TICKET = {APPOINTMENTS, _EVENT + "TicketProcessTransitions"}
ONCE_PER_TICKET_AND_EVENT = {_EVENT + "GenericAgent"}
MENTION_IN_TEXT = re.compile(r"\[\d+\]\S")


@dataclass(frozen=True)
class Task:
    """One AsynchronousExecutor task: ``Object->Function(%Params)``."""

    object: str
    function: str
    params: Mapping[str, Any]

    @property
    def name(self) -> str:
        return f"{self.object}-{self.function}()"[:NAME_LIMIT]

    @property
    def data(self) -> dict[str, Any]:
        return {"Object": self.object, "Function": self.function, "Params": dict(self.params)}


def module_task(module: EventModule, event: OtrsEvent) -> Task:
    """The call Znuny's EventHandler makes: ``Module->new()->Run(%Event, Config => ...)``."""
    params: dict[str, Any] = {"Event": event.name, "Data": dict(event.data), "Config": dict(module.config),
                              "UserID": event.user_id}
    if module.transaction:
        params["Transaction"] = 1
    return Task(module.module, "Run", params)


def appointment_task(ticket_id: int) -> Task:
    """What TicketAppointments queues itself (AsyncCall), once per ticket and request."""
    return Task("Kernel::System::Calendar", "TicketAppointmentProcessTicket", {"TicketID": ticket_id})


@dataclass
class _Facts:
    """Per-write answers to the modules' preconditions, each read at most once."""

    w: Write
    installation: Installation
    cache: dict[tuple[str, Any], Any] = field(default_factory=dict)

    def once(self, key: tuple[str, Any], read: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = read()
        return self.cache[key]

    # A ticket this write inserted has only the rows this write gave it (``Write.new_tickets``): no parent
    # link, and no dynamic field value but those in ``Write.fields_written``. Its articles' values are known.

    def ticket(self, ticket_id: int) -> Row | None:
        t = self.w.schema.tables.ticket
        return self.once(("ticket", ticket_id), lambda: self.w.conn.execute(
            select(t).where(t.c.id == ticket_id)).mappings().first())

    def field_value(self, ticket_id: int, field_name: str) -> bool:
        if ticket_id in self.w.new_tickets and (ticket_id, field_name) not in self.w.fields_written:
            return False
        df, dfv = self.w.schema.tables.dynamic_field, self.w.schema.tables.dynamic_field_value
        return self.once(("df", (ticket_id, field_name)), lambda: self.w.conn.execute(
            select(dfv.c.object_id).join(df, df.c.id == dfv.c.field_id)
            .where(df.c.name == field_name, df.c.object_type == "Ticket", dfv.c.object_id == ticket_id)
            .limit(1)).first() is not None)

    def field_type(self, field_name: str) -> str:
        df = self.w.schema.tables.dynamic_field
        return self.once(("df_type", field_name), lambda: self.w.conn.execute(
            select(df.c.field_type).where(df.c.name == field_name)).scalar() or "")

    def process_ticket(self, ticket_id: int) -> bool:
        config = self.installation.config
        return all(self.field_value(ticket_id, config[name]) for name in (
            "Process::DynamicFieldProcessManagementProcessID", "Process::DynamicFieldProcessManagementActivityID"))

    def has_parent(self, ticket_id: int) -> bool:
        tables = self.w.schema.tables
        if ticket_id in self.w.new_tickets:
            return False
        r, o, ty, st = tables.link_relation, tables.link_object, tables.link_type, tables.link_state
        source, target = o.alias("source"), o.alias("target")
        return self.once(("parent", ticket_id), lambda: self.w.conn.execute(
            select(r.c.target_key)
            .join(source, source.c.id == r.c.source_object_id).join(target, target.c.id == r.c.target_object_id)
            .join(ty, ty.c.id == r.c.type_id).join(st, st.c.id == r.c.state_id)
            .where(source.c.name == "Ticket", target.c.name == "Ticket", ty.c.name == "ParentChild",
                   st.c.name == "Valid", r.c.target_key == str(ticket_id)).limit(1)).first() is not None)

    def article(self, article_id: int) -> Mapping[str, Any] | None:
        written = self.w.written_article(article_id)
        if written is not None:
            return written  # as this write inserted it: sender type id, channel, a_body
        query = self.w.schema.articles.select()
        return self.once(("article", article_id), lambda: self.w.conn.execute(
            query.where(query.selected_columns.id == article_id)).mappings().first())


def _applies(module: EventModule, event: OtrsEvent, facts: _Facts) -> bool:
    """False where the module's own first checks make it return without doing anything."""
    inst, data = facts.installation, event.data
    if module.module == "Kernel::GenericInterface::Event::Handler":
        return inst.invoker_events is None or event.name in inst.invoker_events
    # the class name after Kernel::System::Ticket::Event:: (asked for every module and event of a write)
    name = module.module[len(_EVENT):] if module.module.startswith(_EVENT) else None
    if name == "NotificationEvent":
        return event.name in inst.notification_events
    if name == "GenericAgent":
        return event.name in inst.generic_agent_events
    if name in ("TicketProcessTransitions", "NotifyOnEmptyProcessTickets"):
        return facts.process_ticket(event.ticket_id)
    if name == "TriggerEscalationStopEvents":
        old = data.get("OldTicketData") or {}
        return any(old.get(k) for k in ("FirstResponseTimeEscalation", "UpdateTimeEscalation",
                                        "SolutionTimeEscalation"))
    if name == "TicketAcceleratorUpdate":
        return inst.config.get("Ticket::IndexModule", "").endswith("StaticDB")
    if name == "ResponsibleAutoSet":
        return inst.flag("Ticket::Responsible") and inst.flag("Ticket::ResponsibleAutoSet")
    if name == "ArchiveRestore":
        ticket = facts.ticket(event.ticket_id)
        return inst.flag("Ticket::ArchiveSystem") and ticket is not None and bool(ticket["archive_flag"])
    if name == "TicketAllChildrenClosed":
        return facts.has_parent(event.ticket_id)
    if name == "DynamicFieldWebservice":
        return facts.field_type(str(data.get("FieldName") or "")).startswith("Webservice")
    if name == "Mentions":
        # Only an agent's or a phone article, and only mention links: every mention must also appear in the
        # article's text as a numbered link, "[1]@login", which is what the module's last check looks for.
        article = facts.article(int(data.get("ArticleID") or 0))
        return article is not None and (
            facts.w.name_of("article_sender_type", article["article_sender_type_id"]) == "agent"
            or article["channel"] == "Phone") and MENTION_IN_TEXT.search(article["a_body"] or "") is not None
    if name == "TicketAppointments":
        return not inst.flag("DisableAsyncCalls")
    return True


def plan(installation: Installation, modules: Iterable[EventModule], events: list[OtrsEvent],
         facts: _Facts) -> list[Task]:
    """The tasks for ``events``, in the order Znuny would run the modules."""
    modules = tuple(modules)
    # the modules each event name calls, worked out once per name: a write raises the same few names often
    matching: dict[str, tuple[EventModule, ...]] = {}
    for event in events:
        if event.name not in matching:
            matching[event.name] = tuple(m for m in modules if m.matches(event.name))
    immediate = [(m, e) for e in events for m in matching[e.name] if not m.transaction]
    ordered = sorted(enumerate(events), key=lambda pair: (pair[1].source, pair[0]))
    deferred = [(m, e) for _, e in ordered for m in matching[e.name] if m.transaction]
    done: set[tuple[Any, ...]] = set()
    tasks: list[tuple[tuple[Any, ...] | None, Task]] = []
    for module, event in immediate + deferred:
        if not _applies(module, event, facts):
            continue
        if module.module in ONCE_PER_TICKET or module.module in ONCE_PER_TICKET_AND_EVENT:
            key: tuple[Any, ...] = (module.module, event.ticket_id)
            if module.module in ONCE_PER_TICKET_AND_EVENT:
                key += (event.name,)
            if key in done:
                continue
            done.add(key)
        task = appointment_task(event.ticket_id) if module.module == APPOINTMENTS else module_task(module, event)
        last_key = (module.key, event.ticket_id) if module.module == ESCALATION_INDEX else None
        if last_key is not None:
            tasks = [(k, t) for k, t in tasks if k != last_key]
        tasks.append((last_key, task))
    return [t for _, t in tasks]


def identifier() -> int:
    """An 18-digit task identifier shaped like OTRS's own: process id, microseconds, random digits."""
    head = f"{os.getpid()}{int(time.time() * 1_000_000) % 1_000_000}"[:17]
    width = 18 - len(head)
    return int(head + f"{secrets.randbelow(10 ** width):0{width}d}")  # one draw, not one per digit


def encode(data: Mapping[str, Any]) -> bytes:
    """``task_data`` as TaskAdd stores it: base64 (76-character lines, as Perl's encode_base64) of nfreeze."""
    return base64.encodebytes(nfreeze(data))


def insert_tasks(conn: Connection, schema: OtrsSchema, tasks: Iterable[Task], *, now: datetime) -> int:
    """One row per task (``SchedulerDB::TaskAdd``). OTRS inserts locked and unlocks right after; inside this
    transaction nobody sees the row before the commit, so it is written unlocked at once."""
    table = schema.tables.scheduler_task
    rows = [{"ident": identifier(), "name": t.name, "task_type": TASK_TYPE, "task_data": encode(t.data),
             "attempts": 1, "lock_key": 0, "create_time": now} for t in tasks]
    if rows:
        conn.execute(statements.insert(table), rows)
    return len(rows)


class OtrsSideEffects:
    """What ``TicketService`` asks for: a recorder for each write and, before its commit, the queueing.

    ``modules`` is the setting ``OTRS_EXT_OTRS_EVENT_MODULES``: ``("*",)`` = every valid module otrs-ext does
    not reproduce, ``()`` = none, else SysConfig keys such as ``9990-EscalationIndex``."""

    def __init__(self, schema: OtrsSchema, *, modules: Iterable[str] = (ALL,), timezone: str = "UTC",
                 reader: InstallationReader | None = None) -> None:
        self.schema = schema
        self.modules = tuple(modules)
        self.timezone = timezone
        self.reader = reader or InstallationReader(schema)

    @property
    def enabled(self) -> bool:
        return bool(self.modules)

    def recorder(self, conn: Connection) -> EventRecorder | None:
        if not self.enabled:
            return None
        installation = self.reader.get(conn)
        return EventRecorder(escalation_flags=lambda w, row: self._escalation_flags(w, row, installation))

    def queue(self, w: Write) -> int:
        """Insert the tasks of ``w``'s events; returns how many."""
        if w.recorder is None:
            return 0
        events = w.recorder.finish()
        if not events:
            return 0
        installation = self.reader.get(w.conn)
        tasks = plan(installation, installation.selected(self.modules), events, _Facts(w, installation))
        count = insert_tasks(w.conn, self.schema, tasks, now=w.now)
        if count:
            w.stale.extend(otrs_cache.scheduler_keys())
        return count

    def _escalation_flags(self, w: Write, ticket: Row, installation: Installation) -> dict[str, int]:
        """TicketGet's ``*TimeEscalation`` flags of ``ticket``: its destination time has passed, in a state that
        escalates, and the queue (or, with Ticket::Service, the SLA) still sets that escalation."""
        columns = {"FirstResponse": "escalation_response_time", "Update": "escalation_update_time",
                   "Solution": "escalation_solution_time"}
        if not any(ticket.get(c) for c in columns.values()):
            return {}
        if w.lookups.state_types.get(ticket["ticket_state_id"]) in ENDED_STATE_TYPES:
            return {}
        minutes = _escalation_minutes(w, ticket, installation.flag("Ticket::Service"))
        now = epoch(w.now, self.timezone)
        return {f"{kind}TimeEscalation": 1 for kind, column in columns.items()
                if ticket.get(column) and minutes.get(kind) and int(ticket[column]) <= now}


def _escalation_minutes(w: Write, ticket: Row, service: bool) -> dict[str, int]:
    """TicketEscalationPreferences: the SLA's times with Ticket::Service and an SLA, else the queue's."""
    tables = w.schema.tables
    source, key = (tables.sla, ticket.get("sla_id")) if service and ticket.get("sla_id") else (
        tables.queue, ticket["queue_id"])
    row = w.conn.execute(select(source.c.first_response_time, source.c.update_time, source.c.solution_time)
                         .where(source.c.id == key)).first()
    if row is None:
        return {}
    return {"FirstResponse": row[0] or 0, "Update": row[1] or 0, "Solution": row[2] or 0}

