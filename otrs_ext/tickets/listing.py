"""Ticket lists for agents and customers: filters, newest first, keyset cursors and a total count.

Only tickets the viewer may see are ever counted or returned (the permission clauses of ``Permissions``),
so a total never leaks how many tickets exist elsewhere. Tag filters are EXISTS on otrs-ext's own link table
(``otrs_ext_ticket_tag``, primary key ticket then tag: one index probe per ticket), by tag ids the caller
resolved (``otrs_ext.tags.filters``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, and_, exists, false, func, or_, select

from schema_maps import OtrsSchema

from ..db.lookups import Lookups
from ..db.own_tables import own_table
from ..errors import ValidationError
from .permissions import Permissions

MAX_LIMIT = 200


@dataclass(frozen=True)
class TicketFilter:
    queues: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    state_types: tuple[str, ...] = ()  # e.g. "open", "closed", "pending reminder"
    customer_id: str | None = None
    customer_user: str | None = None
    owner_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    changed_from: datetime | None = None
    changed_to: datetime | None = None
    # used by the GenericInterface TicketSearch: OTRS's parameters beyond what the v1 list offers
    numbers: tuple[str, ...] = ()  # exact ticket numbers, or with * as OTRS's wildcard
    title: str | None = None  # * is the wildcard, as in OTRS's TicketSearch
    priorities: tuple[str, ...] = ()
    locks: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    owner_ids: tuple[int, ...] = ()
    responsible_ids: tuple[int, ...] = ()
    tag_ids: tuple[int, ...] = ()  # every one of these tags is on the ticket
    tag_any: tuple[tuple[int, ...], ...] = ()  # per group, one of its tags is (a kind's tags)


@dataclass(frozen=True)
class TicketSummary:
    ticket_id: int
    tn: str
    title: str
    queue: str
    state: str
    state_type: str
    priority: str
    lock: str
    owner_id: int
    customer_id: str | None
    customer_user: str | None
    created: datetime
    changed: datetime


@dataclass(frozen=True)
class Page:
    items: list[TicketSummary] = field(default_factory=list)
    total: int = 0
    next_cursor: str | None = None


def encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"t{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("t"):
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, UnicodeDecodeError):
        raise ValidationError([("cursor", "is not a cursor this API returned")]) from None


def _like(pattern: str) -> str:
    """OTRS's ``*`` wildcard as a LIKE pattern; LIKE's own % and _ match literally."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


class TicketLister:
    def __init__(self, engine: Engine, schema: OtrsSchema, permissions: Permissions, *,
                 own_schema: str | None = None) -> None:
        """``own_schema``: where otrs-ext's own tables are (the tag links), None for the OTRS database."""
        self.engine = engine
        self.schema = schema
        self.permissions = permissions
        self.ticket_tag = own_table("ticket_tag", own_schema)

    def list(self, flt: TicketFilter, *, user_id: int | None = None, customer_login: str | None = None,
             limit: int = 50, cursor: str | None = None) -> Page:
        """One page, newest ticket first, as agent ``user_id`` or customer ``customer_login`` sees them."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError([("limit", f"must be between 1 and {MAX_LIMIT}")])
        t = self.schema.tables.ticket
        with self.engine.connect() as conn:
            lookups = Lookups.load(conn, self.schema)
            if customer_login is not None:
                visible = self.permissions.customer_ticket_filter(conn, customer_login)
            elif user_id is not None:
                visible = self.permissions.agent_ticket_filter(conn, user_id, "ro")
            else:
                raise ValueError("a ticket list needs a viewer")
            where = and_(visible, *self._conditions(flt, lookups))
            total = conn.execute(select(func.count()).select_from(t).where(where)).scalar_one()
            page_where = where if cursor is None else and_(where, t.c.id < decode_cursor(cursor))
            rows = conn.execute(select(t).where(page_where).order_by(t.c.id.desc()).limit(limit + 1)).mappings().all()
        names = {table: {i: n for n, i in lookups.names(table).items()}
                 for table in ("queue", "ticket_state", "ticket_priority", "ticket_lock_type")}
        items = [self._summary(dict(r), names, lookups.state_types) for r in rows[:limit]]
        more = len(rows) > limit
        return Page(items=items, total=total, next_cursor=encode_cursor(items[-1].ticket_id) if more else None)

    def _conditions(self, flt: TicketFilter, lookups: Lookups) -> list[ColumnElement[bool]]:
        t = self.schema.tables.ticket
        problems: list[tuple[str, str]] = []

        def ids(table: str, names: tuple[str, ...], path: str) -> list[int]:
            return lookups.ids_named(table, names, path, problems)

        conditions: list[ColumnElement[bool]] = []
        if flt.queues:
            conditions.append(t.c.queue_id.in_(ids("queue", flt.queues, "queue")))
        if flt.states:
            conditions.append(t.c.ticket_state_id.in_(ids("ticket_state", flt.states, "state")))
        if flt.state_types:
            types = set(lookups.state_types.values())
            for i, name in enumerate(flt.state_types):
                if name not in types:
                    problems.append((f"state_type[{i}]", f"unknown state type {name!r}; known: {sorted(types)}"))
            conditions.append(t.c.ticket_state_id.in_(lookups.states_of_type(*flt.state_types)))
        if flt.customer_id is not None:
            conditions.append(t.c.customer_id == flt.customer_id)
        if flt.customer_user is not None:
            conditions.append(t.c.customer_user_id == flt.customer_user)
        if flt.owner_id is not None:
            conditions.append(t.c.user_id == flt.owner_id)
        if flt.priorities:
            conditions.append(t.c.ticket_priority_id.in_(ids("ticket_priority", flt.priorities, "priority")))
        if flt.locks:
            conditions.append(t.c.ticket_lock_id.in_(ids("ticket_lock_type", flt.locks, "lock")))
        if flt.types:
            conditions.append(t.c.type_id.in_(ids("ticket_type", flt.types, "type")))
        if flt.owner_ids:
            conditions.append(t.c.user_id.in_(flt.owner_ids))
        if flt.responsible_ids:
            conditions.append(t.c.responsible_user_id.in_(flt.responsible_ids))
        if flt.numbers:
            conditions.append(or_(*(t.c.tn.like(_like(n)) if "*" in n else t.c.tn == n for n in flt.numbers)))
        if flt.title is not None:
            conditions.append(t.c.title.like(_like(flt.title)) if "*" in flt.title else t.c.title == flt.title)
        link = self.ticket_tag
        for tag_id in flt.tag_ids:
            conditions.append(exists().where(link.c.ticket_id == t.c.id, link.c.tag_id == tag_id))
        for group in flt.tag_any:
            conditions.append(exists().where(link.c.ticket_id == t.c.id, link.c.tag_id.in_(sorted(set(group))))
                              if group else false())
        for column, low, high in ((t.c.create_time, flt.created_from, flt.created_to),
                                  (t.c.change_time, flt.changed_from, flt.changed_to)):
            if low is not None:
                conditions.append(column >= low)
            if high is not None:
                conditions.append(column < high)
        if problems:
            raise ValidationError(problems)
        return conditions

    @staticmethod
    def _summary(row: dict, names: dict[str, dict[int, str]], state_types: dict[int, str]) -> TicketSummary:
        return TicketSummary(
            ticket_id=row["id"], tn=row["tn"], title=row["title"] or "", queue=names["queue"].get(row["queue_id"], ""),
            state=names["ticket_state"].get(row["ticket_state_id"], ""),
            state_type=state_types.get(row["ticket_state_id"], ""),
            priority=names["ticket_priority"].get(row["ticket_priority_id"], ""),
            lock=names["ticket_lock_type"].get(row["ticket_lock_id"], ""), owner_id=row["user_id"],
            customer_id=row["customer_id"], customer_user=row["customer_user_id"], created=row["create_time"],
            changed=row["change_time"],
        )
