"""A pool on a fresh OTRS database: the ticket core (database clock), the pool services on the session's Redis
(under a prefix of their own), agents, groups, roles and queues, tickets as OTRS writes them, and a tailer
running the ``pool`` handler."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Engine, func, select, text
from support import agents
from support.tailing import Recorder, Tail, dispatcher

from otrs_ext.events.dispatch import Dispatcher
from otrs_ext.events.handlers.pool import PoolHandler
from otrs_ext.pool.compose import Pool, assemble
from otrs_ext.pool.config import PoolConfig
from otrs_ext.tickets.inputs import NewArticle, NewTicket
from otrs_ext.tickets.numbers import TicketNumbers
from otrs_ext.tickets.otrs_cache import FileStorableCache, Invalidator
from otrs_ext.tickets.permissions import Permissions
from otrs_ext.tickets.service import TicketService
from otrs_ext.tickets.storage import DatabaseStore
from schema_maps import OtrsSchema


class PoolTail(Tail):
    """A tailer whose handlers are ``pool`` (on the world's pool) and the recorder."""

    handler: PoolHandler | None = None

    def dispatcher(self) -> Dispatcher:
        return dispatcher(self.engine, self.schema, {"pool": self.handler, "recorder": self.recorder})


@dataclass
class World:
    engine: Engine
    schema: OtrsSchema
    redis: redis.Redis
    home: Path
    config: PoolConfig
    tickets: TicketService = field(init=False)
    permissions: Permissions = field(init=False)
    pool: Pool = field(init=False)
    tails: list[PoolTail] = field(default_factory=list)
    _serial: int = 0

    def __post_init__(self) -> None:
        with self.engine.begin() as conn:  # the installer's welcome ticket is not in the tests' way
            conn.execute(text("UPDATE ticket SET ticket_state_id = (SELECT id FROM ticket_state WHERE name = "
                              "'closed successful') WHERE id = 1"))
        self.permissions = Permissions(self.schema)
        self.tickets = TicketService(
            self.engine, self.schema,
            numbers=TicketNumbers(self.engine, self.schema, generator="AutoIncrement", system_id="10",
                                  otrs_home=self.home, sleep=lambda s: None),
            permissions=self.permissions,
            invalidator=Invalidator(FileStorableCache(self.home), spool_dir=self.home / "spool"),
            store=DatabaseStore(self.schema))
        self.pool = assemble(self.engine, self.schema, self.redis, self.tickets, self.permissions, self.config)

    def reconfigure(self, **changes: Any) -> Pool:
        """The pool again with other settings (same database, Redis prefix and ticket core)."""
        self.config = replace(self.config, **changes)
        self.pool = assemble(self.engine, self.schema, self.redis, self.tickets, self.permissions, self.config)
        return self.pool

    # --- people and queues ------------------------------------------------------------------------------
    def name(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial}-{uuid.uuid4().hex[:4]}"

    def group(self, name: str | None = None) -> int:
        with self.engine.begin() as conn:
            return agents.add_group(conn, self.schema, name or self.name("group"))

    def group_id(self, name: str) -> int:
        with self.engine.connect() as conn:
            return agents.group_id(conn, self.schema, name)

    def agent(self, login: str | None = None, *, groups: tuple[int, ...] = (), keys: tuple[str, ...] = ("rw",),
              role: int | None = None, valid: bool = True) -> int:
        """An agent holding ``keys`` on ``groups`` directly, and/or a member of ``role``."""
        with self.engine.begin() as conn:
            agent_id = agents.add_agent(conn, self.schema, login or self.name("agent"), valid=valid)
            for group in groups:
                agents.grant(conn, self.schema, agent_id, group, *keys)
            if role is not None:
                agents.assign_role(conn, self.schema, agent_id, role)
        return agent_id

    def role(self, group: int, *keys: str, valid: bool = True) -> int:
        with self.engine.begin() as conn:
            role_id = agents.add_role(conn, self.schema, self.name("role"), valid=valid)
            agents.grant_role(conn, self.schema, role_id, group, *(keys or ("rw",)))
        return role_id

    def queue(self, group: int, name: str | None = None, **columns: Any) -> str:
        name = name or self.name("queue")
        t = self.schema.tables
        with self.engine.begin() as conn:
            def first(table: str) -> int:
                return conn.execute(select(func.min(t[table].c.id))).scalar_one()
            conn.execute(t.queue.insert().values(
                name=name, group_id=group, unlock_timeout=0, system_address_id=first("system_address"),
                salutation_id=first("salutation"), signature_id=first("signature"),
                follow_up_id=first("follow_up_possible"), follow_up_lock=0, comments="", valid_id=1,
                **agents.audit(conn), **columns))
        self.pool.eligibility.forget()
        return name

    def queue_id(self, name: str) -> int:
        q = self.schema.tables.queue
        with self.engine.connect() as conn:
            return conn.execute(select(q.c.id).where(q.c.name == name)).scalar_one()

    # --- tickets ----------------------------------------------------------------------------------------
    def ticket(self, queue: str, *, title: str = "Printer on fire", age_hours: float | None = None,
               priority: str = "3 normal", state: str = "new", escalation_time: int = 0) -> int:
        """A ticket as OTRS's mail gateway makes it (a customer mail), optionally ``age_hours`` old."""
        created = self.tickets.create_ticket(
            1, NewTicket(title=title, queue=queue, state=state, priority=priority, customer_id="ACME",
                         customer_user="bob@acme.test"),
            NewArticle(body="It burns.", subject=title, channel="Email", sender_type="customer",
                       visible_for_customer=True, from_="bob@acme.test", history_type="EmailCustomer",
                       history_comment="%%"), as_system=True)
        if age_hours is not None or escalation_time:
            with self.engine.begin() as conn:
                now = conn.execute(select(func.current_timestamp())).scalar_one()
                values: dict[str, Any] = {"escalation_time": escalation_time}
                if age_hours is not None:
                    values["create_time"] = now - timedelta(hours=age_hours)
                t = self.schema.tables.ticket
                conn.execute(t.update().where(t.c.id == created.ticket_id).values(**values))
        return created.ticket_id

    def reply(self, agent_id: int, ticket_id: int, *, visible: bool = True) -> int:
        """The agent's answer by mail, as AgentTicketCompose writes it (or an internal note)."""
        article = NewArticle(body="We are on it.", subject="Re: Printer on fire", channel="Email",
                             sender_type="agent", visible_for_customer=visible, to="bob@acme.test",
                             history_type="SendAnswer" if visible else "AddNote",
                             history_comment="%%bob@acme.test" if visible else "%%Note")
        return self.tickets.add_article(agent_id, ticket_id, article)

    def ticket_row(self, ticket_id: int) -> dict[str, Any]:
        t = self.schema.tables.ticket
        with self.engine.connect() as conn:
            return dict(conn.execute(select(t).where(t.c.id == ticket_id)).mappings().one())

    def holder(self, ticket_id: int) -> int | None:
        """The owner if the ticket is locked."""
        row = self.ticket_row(ticket_id)
        return row["user_id"] if row["ticket_lock_id"] == 2 else None

    def lock_history(self, ticket_ids: list[int] | None = None) -> list[tuple[int, str, int, int]]:
        """(ticket, Lock/Unlock/OwnerUpdate, owner after, by) in history order."""
        query = ("SELECT h.ticket_id, t.name, h.owner_id, h.create_by FROM ticket_history h "
                 "JOIN ticket_history_type t ON t.id = h.history_type_id "
                 "WHERE t.name IN ('Lock', 'Unlock', 'OwnerUpdate')")
        if ticket_ids:
            query += f" AND h.ticket_id IN ({', '.join(str(int(i)) for i in ticket_ids)})"
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query + " ORDER BY h.id"))]

    # --- ledger -----------------------------------------------------------------------------------------
    def ledger(self, agent_id: int | None = None) -> list[tuple[int, int | None, str, str]]:
        """(agent, ticket, kind, points) in order."""
        return [(e.agent_id, e.ticket_id, e.kind, str(e.points)) for e in self.pool.ledger.entries(agent_id)]

    # --- tailer -----------------------------------------------------------------------------------------
    def tail(self) -> PoolTail:
        tail = PoolTail(self.engine, self.schema, Recorder())
        tail.handler = PoolHandler(self.pool)
        self.tails.append(tail)
        tail.start()
        # changes before the tailer streams would only reach it as its first start's snapshot
        self.wait(lambda: tail.tailer is not None and tail.tailer.metrics.state == "streaming", "the tailer to stream")
        return tail

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 10.0) -> float:
        """Seconds until ``condition`` held (a tailer error fails at once)."""
        started = time.monotonic()
        while not condition():
            for tail in self.tails:
                if tail.error is not None:
                    raise tail.error
            if time.monotonic() - started > timeout:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.02)
        return time.monotonic() - started
