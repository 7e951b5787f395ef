"""The pool's assignments (``otrs_ext_pool_assignment``): which ticket the pool handed to which agent, at which
position and for how many points, and when and why it was released. At most one open assignment per agent, kept
by the database (``open_agent_id`` is unique), whatever process assigns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, update

from ..db.own_tables import own_table


@dataclass(frozen=True)
class Assignment:
    id: int
    agent_id: int
    ticket_id: int
    position: int
    points: Decimal
    assigned_at: datetime
    released_at: datetime | None
    release_reason: str | None


class Assignments:
    def __init__(self, own_schema: str | None = None) -> None:
        self.table = own_table("pool_assignment", own_schema)

    def add(self, conn: Connection, agent_id: int, ticket_id: int, position: int, points: Decimal) -> int:
        """An open assignment; IntegrityError when the agent has one open already (the caller's transaction
        then rolls back whole)."""
        result = conn.execute(self.table.insert().values(
            agent_id=agent_id, ticket_id=ticket_id, position=position, points=points, assigned_at=func.now(6),
            open_agent_id=agent_id))
        return int(result.inserted_primary_key[0])

    def open_of_agent(self, conn: Connection, agent_id: int) -> Assignment | None:
        t = self.table
        return _one(conn.execute(select(t).where(t.c.open_agent_id == agent_id)).mappings().first())

    def open_of_ticket(self, conn: Connection, ticket_id: int, *, for_update: bool = False) -> list[Assignment]:
        t = self.table
        query = select(t).where(t.c.ticket_id == ticket_id, t.c.released_at.is_(None))
        rows = conn.execute(query.with_for_update() if for_update else query).mappings()
        return [a for a in map(_one, rows) if a is not None]

    def release(self, conn: Connection, assignment_id: int, reason: str) -> bool:
        """Close it (once: False when it was closed already)."""
        t = self.table
        result = conn.execute(update(t).where(t.c.id == assignment_id, t.c.released_at.is_(None)).values(
            released_at=func.now(6), release_reason=reason, open_agent_id=None))
        return result.rowcount == 1

    def of_agent(self, conn: Connection, agent_id: int, *, limit: int = 50) -> list[Assignment]:
        t = self.table
        rows = conn.execute(select(t).where(t.c.agent_id == agent_id).order_by(t.c.id.desc()).limit(limit))
        return [a for a in map(_one, rows.mappings()) if a is not None]


def _one(row: Any) -> Assignment | None:
    if row is None:
        return None
    return Assignment(id=row["id"], agent_id=row["agent_id"], ticket_id=row["ticket_id"], position=row["position"],
                      points=Decimal(row["points"]), assigned_at=row["assigned_at"], released_at=row["released_at"],
                      release_reason=row["release_reason"])
