"""Which tickets an agent may be handed, in which order, with each one's position and points.

Eligible for an agent: a ticket in a pool queue (``OTRS_EXT_POOL_QUEUES``, empty = every valid queue, minus
``OTRS_EXT_POOL_EXCLUDED_QUEUES``) whose group grants the agent the pool permission (``rw`` by default) directly
or through a role (``tickets.permissions``, OTRS's own rules), in a state of a pool state type (``new``, ``open``:
OTRS's ``Ticket::UnlockStateType``, the states its queue view asks agents to work on; pending tickets wait for
their time), and unlocked (lock ``unlock``; ``tmp_lock`` is someone at work).

Order: each queue orders its tickets by its setting: ``create_time`` oldest first; ``escalation_time`` soonest
escalation first, tickets without one after them oldest first; ``priority`` highest first, then oldest. "Oldest"
is creation order, the ticket id: OTRS numbers tickets as it creates them, and OTRS's queue view index
``(ticket_state_id, ticket_lock_id)`` holds each state's tickets in id order, so an agent's first tickets are read
from it without sorting (``FORCE INDEX``: left alone, MariaDB walks the primary key from the oldest, long closed,
ticket on: 48 ms instead of 0.3 ms at 100k open of 150k tickets). One statement per state (``UNION ALL``, one
round trip), per priority for the ``priority`` order (from the highest, until the list is full); the escalation
order reads the tickets with an escalation time through its own index. Queues with different orders are
interleaved in creation order of their next ticket (a k-way merge), so an agent with one order everywhere (the
default) gets plain oldest first.

Points need a position only up to the formula's horizon (past it the position term is at its minimum), so a
ticket is priced from at most ``horizon`` rows per order group.
"""

from __future__ import annotations

import functools
import heapq
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select, select, text, union_all

from schema_maps import OtrsSchema

from ..db.lookups import Lookups
from ..errors import ConfigurationError
from ..tickets.clock import Clock, DatabaseClock
from ..tickets.permissions import VALID_ID, Permissions
from .config import PoolConfig

CACHE_SECONDS = 10.0  # pool queue names and agents' queue grants are re-read this often (admins change them)


@dataclass(frozen=True)
class Candidate:
    """An eligible ticket as an agent sees it in the pool: its place in the agent's list and its points."""

    ticket_id: int
    tn: str
    title: str
    queue_id: int
    create_time: datetime
    priority_id: int
    escalation_time: int
    customer_id: str | None
    customer_user: str | None
    position: int
    points: Decimal
    age_seconds: float


SortKey = tuple[Any, ...]


def _sort_key(order: str, row: Any) -> SortKey:
    """A queue order as a key of the rows it orders (the statements read them in this order already)."""
    if order == "escalation_time":
        return (row.escalation_time == 0, row.escalation_time, row.id)
    if order == "priority":
        return (-row.ticket_priority_id, row.id)
    return (row.id,)


class Eligibility:
    """Eligible tickets per agent (see the module docstring); every method takes the caller's connection."""

    def __init__(self, schema: OtrsSchema, permissions: Permissions, config: PoolConfig, *,
                 clock: Clock | None = None, cache_seconds: float = CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.schema = schema
        self.permissions = permissions
        self.config = config
        self.clock = clock or DatabaseClock()
        self.cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._pool: tuple[float, dict[int, str], Lookups] | None = None
        self._agents: dict[int, tuple[float, dict[int, str]]] = {}
        self._index: tuple[str] | None = None

    # --- queues -----------------------------------------------------------------------------------------
    def pool_queues(self, conn: Connection) -> dict[int, str]:
        """Pool queue id -> its order; ``ConfigurationError`` naming a configured queue that does not exist."""
        return self._pool_state(conn)[0]

    def lookups(self, conn: Connection) -> Lookups:
        return self._pool_state(conn)[1]

    def _pool_state(self, conn: Connection) -> tuple[dict[int, str], Lookups]:
        with self._lock:
            cached = self._pool
        if cached is not None and self._monotonic() - cached[0] < self.cache_seconds:
            return cached[1], cached[2]
        lookups = Lookups.load(conn, self.schema)
        q = self.schema.tables.queue
        valid = {name: ident for ident, name in conn.execute(select(q.c.id, q.c.name).where(q.c.valid_id == VALID_ID))}
        every = lookups.names("queue")
        missing = [n for n in (*self.config.queues, *self.config.excluded_queues, *self.config.queue_orders)
                   if n not in every]
        if missing:
            raise ConfigurationError(
                f"the pool settings name queues the OTRS database does not have: {', '.join(sorted(set(missing)))} "
                "(OTRS_EXT_POOL_QUEUES, OTRS_EXT_POOL_EXCLUDED_QUEUES, OTRS_EXT_POOL_QUEUE_ORDERS); use full "
                f"queue names such as {', '.join(sorted(every)[:5])}")
        unknown_types = [t for t in self.config.state_types if t not in lookups.names("ticket_state_type")]
        if unknown_types:
            raise ConfigurationError(
                f"OTRS_EXT_POOL_STATE_TYPES names unknown state types {', '.join(unknown_types)}; known: "
                + ", ".join(sorted(lookups.names("ticket_state_type"))))
        names = [n for n in self.config.queues if n in valid] if self.config.queues else list(valid)
        excluded = set(self.config.excluded_queues)
        queues = {valid[n]: self.config.order_of(n) for n in names if n not in excluded}
        with self._lock:
            self._pool = (self._monotonic(), queues, lookups)
        return queues, lookups

    def agent_queues(self, conn: Connection, agent_id: int) -> dict[int, str]:
        """The pool queues whose group grants ``agent_id`` the pool permission (directly or through a role),
        id -> order. Remembered for ``cache_seconds`` (every dispatch asks for every waiting agent)."""
        now = self._monotonic()
        with self._lock:
            cached = self._agents.get(agent_id)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        pool = self.pool_queues(conn)
        granted = self.permissions.agent_queue_ids(conn, agent_id, self.config.permission, valid_only=True)
        queues = {q: order for q, order in pool.items() if q in granted}
        with self._lock:
            if len(self._agents) > 10_000:
                self._agents.clear()
            self._agents[agent_id] = (now, queues)
        return queues

    def forget(self) -> None:
        """Drop what is remembered (tests, or after an admin changed queues or grants)."""
        with self._lock:
            self._pool = None
            self._agents.clear()

    # --- tickets ----------------------------------------------------------------------------------------
    def tickets(self, conn: Connection, agent_id: int, *, limit: int = 20, skip: Iterable[int] = ()) -> list[Candidate]:
        """The agent's first ``limit`` eligible tickets in pool order, priced; ``skip``: ticket ids left out."""
        queues = self.agent_queues(conn, agent_id)
        if not queues or limit <= 0:
            return []
        skipped = frozenset(skip)
        rows = self._merged(conn, queues, limit, skipped)
        now = self.clock.now(conn)
        return [self._candidate(row, i + 1, now) for i, row in enumerate(rows)]

    def first(self, conn: Connection, agent_id: int, *, skip: Iterable[int] = ()) -> Candidate | None:
        """The ticket the agent should take now, or None when there is none."""
        found = self.tickets(conn, agent_id, limit=1, skip=skip)
        return found[0] if found else None

    def price(self, conn: Connection, agent_id: int, ticket_id: int) -> Candidate | None:
        """Ticket ``ticket_id`` where it stands (or stood, before it was just locked) in the agent's list: its
        position among the eligible tickets plus itself (read up to the formula's horizon: a ticket further back
        gets horizon + 1, which is worth the same), and its points. None when it is not the agent's to take at
        all (not in one of his pool queues, or not in a pool state)."""
        queues = self.agent_queues(conn, agent_id)
        t = self.schema.tables.ticket
        target = conn.execute(self._columns().where(t.c.id == ticket_id)).first()
        if target is None or target.queue_id not in queues or target.ticket_state_id not in self._states(conn):
            return None
        horizon = self.config.formula.position_horizon
        rows = self._merged(conn, queues, horizon, frozenset({ticket_id}), extra=target)
        index = next((i for i, row in enumerate(rows) if row.id == ticket_id), len(rows))
        return self._candidate(target, index + 1, self.clock.now(conn))

    # --- plumbing ---------------------------------------------------------------------------------------
    def _candidate(self, row: Any, position: int, now: datetime) -> Candidate:
        age = max(0.0, (now - row.create_time).total_seconds())
        return Candidate(ticket_id=row.id, tn=row.tn, title=row.title or "", queue_id=row.queue_id,
                         create_time=row.create_time, priority_id=row.ticket_priority_id,
                         escalation_time=row.escalation_time or 0, customer_id=row.customer_id,
                         customer_user=row.customer_user_id, position=position,
                         points=self.config.formula.points(position, age), age_seconds=age)

    def _states(self, conn: Connection) -> list[int]:
        return self.lookups(conn).states_of_type(*self.config.state_types)

    def _columns(self) -> Select:
        t = self.schema.tables.ticket
        return select(t.c.id, t.c.tn, t.c.title, t.c.queue_id, t.c.create_time, t.c.ticket_priority_id,
                      t.c.escalation_time, t.c.customer_id, t.c.customer_user_id, t.c.ticket_state_id)

    def eligible_query(self, conn: Connection, queue_ids: Sequence[int], limit: int,
                       skip: frozenset[int] = frozenset(), **also: Any) -> Select | CompoundSelect:
        """The agent's first ``limit`` eligible tickets in creation order, in one statement: per pool state, the
        rows of the ``(ticket_state_id, ticket_lock_id)`` index (which holds each state's tickets in id order)
        filtered by queue, ``UNION ALL``. ``also``: further column conditions (``ticket_priority_id=3``).
        Public for EXPLAIN in tests and benchmarks."""
        t = self.schema.tables.ticket
        unlock = self.lookups(conn).id("ticket_lock_type", "unlock")
        hint = self._queue_view(conn)
        parts = []
        for state in self._states(conn):
            part = self._columns().where(t.c.queue_id.in_(sorted(queue_ids)), t.c.ticket_state_id == state,
                                         t.c.ticket_lock_id == unlock,
                                         *(t.c[column] == value for column, value in also.items()))
            if skip:
                part = part.where(t.c.id.not_in(sorted(skip)))
            if hint is not None:
                # the optimizer prefers walking the primary key from the oldest (long closed) ticket on
                part = part.with_hint(t, f"FORCE INDEX ({hint})", "*")
            parts.append(part.order_by(t.c.id).limit(limit))
        return union_all(*parts) if len(parts) > 1 else parts[0]

    def _group(self, conn: Connection, queue_ids: Sequence[int], order: str, limit: int,
               skip: frozenset[int]) -> list[Any]:
        """The first ``limit`` eligible tickets of ``queue_ids`` (queues sharing ``order``), in that order."""
        key = functools.partial(_sort_key, order)
        if order == "priority":
            # highest priority first: one statement per priority, from the highest, until the list is full
            rows: list[Any] = []
            for priority in sorted(self.lookups(conn).names("ticket_priority").values(), reverse=True):
                found = conn.execute(self.eligible_query(conn, queue_ids, limit - len(rows), skip,
                                                         ticket_priority_id=priority)).all()
                rows += sorted(found, key=key)[: limit - len(rows)]
                if len(rows) >= limit:
                    break
            return rows
        rows = []
        if order == "escalation_time":
            # tickets with an escalation time by it (its own index; OTRS keeps it 0 on closed tickets), then
            # the ones without
            t = self.schema.tables.ticket
            unlock = self.lookups(conn).id("ticket_lock_type", "unlock")
            query = self._columns().where(t.c.queue_id.in_(sorted(queue_ids)),
                                          t.c.ticket_state_id.in_(self._states(conn)), t.c.ticket_lock_id == unlock,
                                          t.c.escalation_time > 0)
            if skip:
                query = query.where(t.c.id.not_in(sorted(skip)))
            rows = list(conn.execute(query.order_by(t.c.escalation_time, t.c.id).limit(limit)))
            if len(rows) >= limit:
                return rows
        rows += conn.execute(self.eligible_query(conn, queue_ids, limit, skip, escalation_time=0)
                             if order == "escalation_time" else
                             self.eligible_query(conn, queue_ids, limit, skip)).all()
        return sorted(rows, key=key)[:limit]

    def _queue_view(self, conn: Connection) -> str | None:
        """The name of the ticket index on (ticket_state_id, ticket_lock_id), OTRS's queue view index, as the
        live database has it; None when it has none (then the optimizer chooses)."""
        if self._index is None:
            rows = conn.execute(text(
                "SELECT index_name, column_name FROM information_schema.statistics WHERE table_schema = DATABASE() "
                "AND table_name = :t AND seq_in_index <= 2 ORDER BY index_name, seq_in_index"),
                {"t": self.schema.tables.ticket.name}).all()
            columns: dict[str, list[str]] = {}
            for name, column in rows:
                columns.setdefault(name, []).append(column.lower())
            found = [name for name, cols in columns.items() if cols == ["ticket_state_id", "ticket_lock_id"]]
            self._index = (found[0] if found else "",)
        return self._index[0] or None

    def _merged(self, conn: Connection, queues: dict[int, str], limit: int, skip: frozenset[int], *,
                extra: Any = None) -> list[Any]:
        """The first ``limit`` rows of the agent's list: per order group its ordered rows (``extra``, a row, put
        in its place in its group), merged in creation order of each group's next row."""
        groups: dict[str, list[int]] = {}
        for queue_id, order in sorted(queues.items()):
            groups.setdefault(order, []).append(queue_id)
        lists: list[list[Any]] = []
        for order, queue_ids in groups.items():
            rows = self._group(conn, queue_ids, order, limit, skip)
            if extra is not None and extra.queue_id in queue_ids:
                key = _sort_key(order, extra)
                place = next((i for i, row in enumerate(rows) if _sort_key(order, row) > key), len(rows))
                rows.insert(place, extra)
            lists.append(rows)
        if len(lists) == 1:
            return lists[0][:limit]
        # k-way merge by each list's next row's id (creation order)
        heap = [(rows[0].id, n, 0) for n, rows in enumerate(lists) if rows]
        heapq.heapify(heap)
        merged: list[Any] = []
        while heap and len(merged) < limit:
            _, n, i = heapq.heappop(heap)
            merged.append(lists[n][i])
            if i + 1 < len(lists[n]):
                heapq.heappush(heap, (lists[n][i + 1].id, n, i + 1))
        return merged
