"""The points ledger (``otrs_ext_points_ledger``): append-only entries, balances, monthly reports, adjustments.

Kinds: ``credit`` (+points, pending: written when a hold starts), ``confirm`` (+the same points, when the holder
replies to the customer), ``penalty`` (-factor x points, when the hold ends without that reply), ``adjust``
(either sign, by a head of support, with a reason). A balance counts what is settled: confirms, penalties and
adjustments; credits not yet confirmed or penalised are shown as ``pending`` beside it.

Departments (for the reports) are OTRS groups: ``OTRS_EXT_POOL_DEPARTMENT_GROUPS``, or the groups owning the pool
queues; an agent belongs to each one on which he holds the pool permission, directly or through a role. Heads of
support are the ``rw`` members of ``OTRS_EXT_POOL_HEADS_GROUP``; a head's departments are those he holds ``rw``
on (none: every department); he reads and adjusts the agents of his departments.

Times are the database's own clock, as OTRS's ``create_time`` columns; a month is ``YYYY-MM`` in that clock.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.dialects.mysql import insert

from schema_maps import OtrsSchema

from ..db.own_tables import own_table
from ..errors import NotFound, PermissionDenied, ValidationError
from ..tickets.inputs import control_character
from ..tickets.permissions import VALID_ID, Permissions
from .config import PoolConfig

KINDS = ("credit", "confirm", "penalty", "adjust")
MAX_ADJUST = Decimal(100_000)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Entry:
    id: int
    agent_id: int
    ticket_id: int | None
    kind: str
    points: Decimal
    reason: str
    by_agent_id: int | None
    rule: str | None
    credit_id: int | None
    event_id: str
    occurred_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class Balance:
    agent_id: int
    confirmed: Decimal = Decimal(0)
    penalties: Decimal = Decimal(0)  # negative
    adjustments: Decimal = Decimal(0)
    pending: Decimal = Decimal(0)  # credits neither confirmed nor penalised yet

    @property
    def total(self) -> Decimal:
        return self.confirmed + self.penalties + self.adjustments


@dataclass(frozen=True)
class AgentLine:
    agent_id: int
    login: str
    name: str
    departments: tuple[str, ...]
    balance: Balance
    entries: int


@dataclass(frozen=True)
class DepartmentLine:
    group_id: int
    name: str
    agents: int
    confirmed: Decimal
    penalties: Decimal
    adjustments: Decimal
    pending: Decimal
    total: Decimal


@dataclass(frozen=True)
class MonthReport:
    month: str
    agents: list[AgentLine]
    departments: list[DepartmentLine]


def month_range(month: str, *, path: str = "month") -> tuple[datetime, datetime]:
    """``YYYY-MM`` -> [first moment, first moment of the next month); ``ValidationError`` otherwise."""
    found = MONTH.match(month or "")
    if found is None:
        raise ValidationError([(path, f"{month!r} is not a month; use YYYY-MM, e.g. 2026-12")])
    year, number = int(found.group(1)), int(found.group(2))
    start = datetime(year, number, 1)
    return start, datetime(year + number // 12, number % 12 + 1, 1)


class Ledger:
    def __init__(self, engine: Engine, schema: OtrsSchema, permissions: Permissions, config: PoolConfig, *,
                 own_schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.permissions = permissions
        self.config = config
        self.table = own_table("points_ledger", own_schema)

    # --- writes -----------------------------------------------------------------------------------------
    def add(self, conn: Connection, *, agent_id: int, kind: str, points: Decimal, reason: str, event_id: str,
            occurred_at: datetime, ticket_id: int | None = None, by_agent_id: int | None = None,
            rule: str | None = None, credit_id: int | None = None) -> int | None:
        """One entry in the caller's transaction; None (nothing written) when ``event_id`` is there already."""
        assert kind in KINDS, kind
        result = conn.execute(insert(self.table).prefix_with("IGNORE").values(
            agent_id=agent_id, ticket_id=ticket_id, kind=kind, points=points, reason=reason[:500],
            by_agent_id=by_agent_id, rule=rule, credit_id=credit_id, event_id=event_id[:191],
            occurred_at=occurred_at, created_at=func.now(6)))
        return int(result.inserted_primary_key[0]) if result.rowcount == 1 else None

    def adjust(self, head_id: int, agent_id: int, points: Any, reason: str, *, key: str | None = None) -> Entry:
        """An ``adjust`` entry by head of support ``head_id``; every input and the right checked first, nothing
        written on a refusal. ``key`` (an idempotency key) makes a repeated request write it once."""
        problems: list[tuple[str, str]] = []
        amount = _amount(points, problems)
        text = (reason or "").strip()
        if not text:
            problems.append(("reason", "say why the points change; the agent and the other heads read it"))
        elif len(text) > 500:
            problems.append(("reason", f"at most 500 characters (got {len(text)})"))
        elif (at := control_character(text, single_line=False)) is not None:
            problems.append(("reason", f"contains the control character U+{ord(text[at]):04X} at position {at}"))
        if key is not None and not (0 < len(key) <= 100):
            problems.append(("key", "an idempotency key is 1 to 100 characters"))
        if problems:
            raise ValidationError(problems)
        event_id = f"adjust:{head_id}:{key}" if key else f"adjust:{uuid.uuid4().hex}"
        with self.engine.begin() as conn:
            self._agent(conn, agent_id, "agent")
            self.require_head(conn, head_id, agent_id)
            now = conn.execute(select(func.now(6))).scalar_one()
            self.add(conn, agent_id=agent_id, kind="adjust", points=amount, reason=text, event_id=event_id,
                     occurred_at=now, by_agent_id=head_id, rule="adjust")
            row = conn.execute(select(self.table).where(self.table.c.event_id == event_id)).mappings().one()
        return _entry(row)

    # --- heads and departments --------------------------------------------------------------------------
    def is_head(self, conn: Connection, agent_id: int) -> bool:
        group = self._group_id(conn, self.config.heads_group)
        return group is not None and group in self.permissions.agent_group_ids(conn, agent_id, "rw")

    def head_scope(self, conn: Connection, head_id: int) -> frozenset[int] | None:
        """The department groups a head reads and adjusts; None = all of them."""
        departments = self.departments(conn)
        held = self.permissions.agent_group_ids(conn, head_id, "rw") & set(departments)
        return frozenset(held) or None

    def require_head(self, conn: Connection, head_id: int, agent_id: int | None = None) -> None:
        """``PermissionDenied`` unless ``head_id`` is a head of support (of ``agent_id``'s department)."""
        if not self.is_head(conn, head_id):
            login = self._agent(conn, head_id, "head")
            raise PermissionDenied(
                f"agent {login!r} is not a head of support: only agents with 'rw' on the OTRS group "
                f"{self.config.heads_group!r} (OTRS_EXT_POOL_HEADS_GROUP), directly or through a role, may read "
                "other agents' points and adjust them")
        if agent_id is None or agent_id == head_id:
            return
        scope = self.head_scope(conn, head_id)
        if scope is not None and not scope & self.departments_of(conn, agent_id):
            names = self.departments(conn)
            raise PermissionDenied(
                f"agent {self._agent(conn, agent_id, 'agent')!r} is in none of the departments of head "
                f"{self._agent(conn, head_id, 'head')!r} ({', '.join(sorted(names[g] for g in scope))}); a head "
                "adjusts the agents of the departments (OTRS groups) he holds 'rw' on")

    def departments(self, conn: Connection) -> dict[int, str]:
        """Department group id -> name (see the module docstring)."""
        g, q = self.schema.tables.groups, self.schema.tables.queue
        if self.config.department_groups:
            query = select(g.c.id, g.c.name).where(g.c.name.in_(self.config.department_groups))
        else:
            pool = select(q.c.group_id).where(q.c.valid_id == VALID_ID)
            if self.config.queues:
                pool = pool.where(q.c.name.in_(self.config.queues))
            if self.config.excluded_queues:
                pool = pool.where(q.c.name.not_in(self.config.excluded_queues))
            query = select(g.c.id, g.c.name).where(g.c.id.in_(pool))
        return dict(conn.execute(query.where(g.c.valid_id == VALID_ID)).all())

    def departments_of(self, conn: Connection, agent_id: int) -> frozenset[int]:
        return frozenset(self.permissions.agent_group_ids(conn, agent_id, self.config.permission)
                         & set(self.departments(conn)))

    # --- reads ------------------------------------------------------------------------------------------
    def balance(self, agent_id: int, start: datetime | None = None, end: datetime | None = None) -> Balance:
        """The agent's balance over [start, end) (open ends: all time)."""
        return self.balances(start, end, [agent_id]).get(agent_id, Balance(agent_id))

    def balances(self, start: datetime | None, end: datetime | None,
                 agent_ids: Iterable[int] | None = None) -> dict[int, Balance]:
        t = self.table
        settled = t.alias("settled")
        closed = select(settled.c.id).where(settled.c.credit_id == t.c.id,
                                            settled.c.kind.in_(("confirm", "penalty"))).exists()
        pending = func.sum(func.IF(and_(t.c.kind == "credit", ~closed), t.c.points, 0))
        query = select(t.c.agent_id,
                       func.sum(func.IF(t.c.kind == "confirm", t.c.points, 0)),
                       func.sum(func.IF(t.c.kind == "penalty", t.c.points, 0)),
                       func.sum(func.IF(t.c.kind == "adjust", t.c.points, 0)),
                       pending).group_by(t.c.agent_id)
        query = self._period(query, start, end)
        if agent_ids is not None:
            query = query.where(t.c.agent_id.in_(list(agent_ids)))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return {r[0]: Balance(r[0], *(Decimal(v or 0) for v in r[1:])) for r in rows}

    def entries(self, agent_id: int | None = None, month: str | None = None, *, start: datetime | None = None,
                end: datetime | None = None, ticket_id: int | None = None) -> list[Entry]:
        """Entries in order (of an agent, a month, a ticket)."""
        if month is not None:
            start, end = month_range(month)
        t = self.table
        query = self._period(select(t), start, end).order_by(t.c.occurred_at, t.c.id)
        if agent_id is not None:
            query = query.where(t.c.agent_id == agent_id)
        if ticket_id is not None:
            query = query.where(t.c.ticket_id == ticket_id)
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query).mappings()]

    def by_ids(self, ids: Iterable[int]) -> list[Entry]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(select(self.table).where(self.table.c.id.in_(wanted)))
                    .mappings()]

    def report(self, month: str, *, head_id: int | None = None) -> MonthReport:
        """Balances per agent and per department for ``month``; with ``head_id``, only his departments'
        agents (``PermissionDenied`` unless he is a head)."""
        start, end = month_range(month)
        balances = self.balances(start, end)
        t = self.table
        with self.engine.connect() as conn:
            if head_id is not None:
                self.require_head(conn, head_id)
            scope = self.head_scope(conn, head_id) if head_id is not None else None
            counts = dict(conn.execute(self._period(select(t.c.agent_id, func.count()).group_by(t.c.agent_id),
                                                    start, end)).all())
            departments = self.departments(conn)
            users = self.schema.tables.users
            people = {r.id: r for r in conn.execute(select(users.c.id, users.c.login, users.c.first_name,
                                                           users.c.last_name).where(users.c.id.in_(list(balances))))}
            agents: list[AgentLine] = []
            per_department: dict[int, list[Balance]] = defaultdict(list)
            for agent_id in sorted(balances):
                member = self.departments_of(conn, agent_id)
                if scope is not None and not member & scope:
                    continue
                person = people.get(agent_id)
                agents.append(AgentLine(
                    agent_id, person.login if person else str(agent_id),
                    f"{person.first_name} {person.last_name}".strip() if person else "",
                    tuple(sorted(departments[g] for g in member)), balances[agent_id], counts.get(agent_id, 0)))
                for group in member:
                    per_department[group].append(balances[agent_id])
        lines = []
        for group, name in sorted(departments.items(), key=lambda item: item[1]):
            if scope is not None and group not in scope:
                continue
            found = per_department.get(group, [])
            sums = [sum((getattr(b, f) for b in found), Decimal(0))
                    for f in ("confirmed", "penalties", "adjustments", "pending")]
            lines.append(DepartmentLine(group, name, len(found), *sums, total=sums[0] + sums[1] + sums[2]))
        return MonthReport(month, agents, lines)

    # --- plumbing ---------------------------------------------------------------------------------------
    def _period(self, query: Any, start: datetime | None, end: datetime | None) -> Any:
        if start is not None:
            query = query.where(self.table.c.occurred_at >= start)
        if end is not None:
            query = query.where(self.table.c.occurred_at < end)
        return query

    def _group_id(self, conn: Connection, name: str) -> int | None:
        g = self.schema.tables.groups
        return conn.execute(select(g.c.id).where(g.c.name == name, g.c.valid_id == VALID_ID)).scalar()

    def _agent(self, conn: Connection, agent_id: int, path: str) -> str:
        users = self.schema.tables.users
        row = conn.execute(select(users.c.login, users.c.valid_id).where(users.c.id == agent_id)).first()
        if row is None:
            raise NotFound(f"{path}: no agent with id {agent_id}")
        return row.login


def _amount(points: Any, problems: list[tuple[str, str]]) -> Decimal:
    try:
        amount = Decimal(str(points).strip())
    except (InvalidOperation, ValueError):
        problems.append(("points", f"{points!r} is not a number; e.g. 5 or -2.5"))
        return Decimal(0)
    if not amount.is_finite() or amount == 0:
        problems.append(("points", "must be a number other than 0"))
    elif amount != amount.quantize(Decimal("0.01")):
        problems.append(("points", "at most two decimal places"))
    elif abs(amount) > MAX_ADJUST:
        problems.append(("points", f"at most {MAX_ADJUST} either way"))
    return amount


def _entry(row: Any) -> Entry:
    return Entry(id=row["id"], agent_id=row["agent_id"], ticket_id=row["ticket_id"], kind=row["kind"],
                 points=Decimal(row["points"]), reason=row["reason"], by_agent_id=row["by_agent_id"],
                 rule=row["rule"], credit_id=row["credit_id"], event_id=row["event_id"],
                 occurred_at=row["occurred_at"], created_at=row["created_at"])
