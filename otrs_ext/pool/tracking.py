"""The ledger fed by what happens to tickets: the hold rules (``holds``) on stored per-ticket state
(``otrs_ext_points_hold``), writing credits, confirms and penalties, and closing the pool's assignments whose
hold ended or was answered.

Every method runs in the caller's transaction (the ``pool`` handler's, one per event) and is given the event's id:
the ledger entries are keyed by it, so a replayed event writes nothing twice. Points of a new hold: the pool's
own quote when the pool handed the ticket to that agent (``otrs_ext_pool_assignment``), else the ticket's price
in the agent's list at the moment the event is handled (``Eligibility.price``: where it stood among the tickets
he could have taken); 0 (no entries) for a ticket that is not his to take from the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.mysql import insert

from schema_maps import OtrsSchema

from ..db.own_tables import own_table
from .assignments import Assignments
from .config import PoolConfig
from .eligibility import Eligibility
from .holds import Confirmed, Effect, Ended, HoldState, Started, change, reply
from .ledger import Ledger

REASONS = {
    "unlock": "unlocked without a reply to the customer",
    "system-unlock": "unlocked by OTRS (unlock timeout, or the forced unlock of a move) without a reply",
    "owner-change": "owner changed away without a reply to the customer",
}


@dataclass
class Outcome:
    """What an event did, for the caller to act on after its commit."""

    effects: list[Effect] = field(default_factory=list)
    released: list[tuple[int, int, str]] = field(default_factory=list)  # (agent, ticket, reason) of assignments
    entries: list[tuple[int, str, Decimal]] = field(default_factory=list)  # (agent, kind, points) written


class HoldTracker:
    def __init__(self, schema: OtrsSchema, eligibility: Eligibility, ledger: Ledger, assignments: Assignments,
                 config: PoolConfig, *, own_schema: str | None = None) -> None:
        self.schema = schema
        self.eligibility = eligibility
        self.ledger = ledger
        self.assignments = assignments
        self.config = config
        self.table = own_table("points_hold", own_schema)

    # --- facts ------------------------------------------------------------------------------------------
    def changed(self, conn: Connection, *, event_id: str, ticket_id: int, occurred_at: datetime, by: int,
                locked: tuple[bool | None, bool] | None = None, owner: tuple[int | None, int] | None = None) -> Outcome:
        """The ticket's lock (before, after) and/or owner (before, after) changed, by user ``by``."""
        state = self._load(conn, ticket_id, locked[0] if locked else None, owner[0] if owner else None)
        effects = change(state, by=by, locked=locked[1] if locked else None, owner_id=owner[1] if owner else None)
        return self._apply(conn, ticket_id, state, effects, event_id, occurred_at)

    def replied(self, conn: Connection, *, event_id: str, ticket_id: int, agent_id: int,
                occurred_at: datetime) -> Outcome:
        """Agent ``agent_id`` wrote an article visible to the customer on the ticket."""
        state = self._load(conn, ticket_id, None, None)
        effects = reply(state, agent_id=agent_id)
        return self._apply(conn, ticket_id, state, effects, event_id, occurred_at)

    def closed(self, conn: Connection, ticket_id: int, reason: str) -> Outcome:
        """The ticket left the states the pool works on (closed, merged, pending): its open assignments end, the
        agent is free for the next one; the hold goes on until the unlock (OTRS's screens unlock after a close),
        which settles it like any other."""
        outcome = Outcome()
        for assignment in self.assignments.open_of_ticket(conn, ticket_id, for_update=True):
            if self.assignments.release(conn, assignment.id, reason):
                outcome.released.append((assignment.agent_id, ticket_id, reason))
        return outcome

    def forget(self, conn: Connection, ticket_id: int) -> Outcome:
        """The ticket is gone (deleted): its state and open assignments go, nothing is owed."""
        outcome = self.closed(conn, ticket_id, "gone")
        conn.execute(self.table.delete().where(self.table.c.ticket_id == ticket_id))
        return outcome

    def state(self, conn: Connection, ticket_id: int) -> HoldState | None:
        row = conn.execute(select(self.table).where(self.table.c.ticket_id == ticket_id)).mappings().first()
        return None if row is None else _state(row)

    # --- plumbing ---------------------------------------------------------------------------------------
    def _load(self, conn: Connection, ticket_id: int, locked_before: bool | None,
              owner_before: int | None) -> HoldState:
        """The stored state (row locked for this transaction); first seen: from the event's before values,
        completed from the ticket row."""
        row = conn.execute(select(self.table).where(self.table.c.ticket_id == ticket_id).with_for_update()) \
            .mappings().first()
        if row is not None:
            return _state(row)
        t = self.schema.tables.ticket
        current = conn.execute(select(t.c.ticket_lock_id, t.c.user_id).where(t.c.id == ticket_id)).first()
        lookups = self.eligibility.lookups(conn)
        if locked_before is None:
            locked_before = current is not None and lookups.id("ticket_lock_type", "lock") == current.ticket_lock_id
        if owner_before is None:
            owner_before = current.user_id if current is not None else 1
        return HoldState.initial(locked_before, owner_before)

    def _apply(self, conn: Connection, ticket_id: int, state: HoldState, effects: list[Effect], event_id: str,
               occurred_at: datetime) -> Outcome:
        outcome = Outcome(effects=list(effects))
        factor = Decimal(str(self.config.penalty_factor))
        for effect in effects:
            if isinstance(effect, Started):
                points, quoted = self._points(conn, ticket_id, effect.agent_id)
                state.credit_points, state.since = points, occurred_at
                if points > 0:
                    why = (f"pool ticket, position {quoted}" if isinstance(quoted, int) else quoted)
                    state.credit_id = self.ledger.add(
                        conn, agent_id=effect.agent_id, ticket_id=ticket_id, kind="credit", points=points,
                        reason=f"locked ({why})", event_id=f"{event_id}#credit", occurred_at=occurred_at,
                        by_agent_id=effect.by, rule="lock") or self._entry_id(conn, f"{event_id}#credit")
                    outcome.entries.append((effect.agent_id, "credit", points))
            elif isinstance(effect, Ended):
                if not effect.replied and effect.credit_points:
                    penalty = -(factor * effect.credit_points).quantize(Decimal("0.01"))
                    if penalty:
                        self.ledger.add(conn, agent_id=effect.agent_id, ticket_id=ticket_id, kind="penalty",
                                        points=penalty, reason=REASONS[effect.rule],
                                        event_id=f"{event_id}#penalty", occurred_at=occurred_at,
                                        by_agent_id=effect.by, rule=effect.rule, credit_id=effect.credit_id)
                        outcome.entries.append((effect.agent_id, "penalty", penalty))
                outcome.released += self._release(conn, ticket_id, effect.agent_id, effect.rule)
            elif isinstance(effect, Confirmed):
                if effect.credit_points:
                    self.ledger.add(conn, agent_id=effect.agent_id, ticket_id=ticket_id, kind="confirm",
                                    points=effect.credit_points, reason="replied to the customer",
                                    event_id=f"{event_id}#confirm", occurred_at=occurred_at,
                                    by_agent_id=effect.agent_id, rule="reply", credit_id=effect.credit_id)
                    outcome.entries.append((effect.agent_id, "confirm", effect.credit_points))
                outcome.released += self._release(conn, ticket_id, effect.agent_id, "replied")
        self._store(conn, ticket_id, state)
        return outcome

    def _points(self, conn: Connection, ticket_id: int, agent_id: int) -> tuple[Decimal, int | str]:
        """(points, position or how they were found) of a hold starting now."""
        for assignment in self.assignments.open_of_ticket(conn, ticket_id):
            if assignment.agent_id == agent_id:
                return assignment.points, assignment.position
        priced = self.eligibility.price(conn, agent_id, ticket_id)
        if priced is None:
            return Decimal(0), "not a pool ticket for this agent"
        return priced.points, f"position {priced.position} in the agent's pool list"

    def _release(self, conn: Connection, ticket_id: int, agent_id: int, reason: str) -> list[tuple[int, int, str]]:
        released = []
        for assignment in self.assignments.open_of_ticket(conn, ticket_id, for_update=True):
            if assignment.agent_id == agent_id and self.assignments.release(conn, assignment.id, reason):
                released.append((agent_id, ticket_id, reason))
        return released

    def _entry_id(self, conn: Connection, event_id: str) -> int | None:
        t = self.ledger.table
        return conn.execute(select(t.c.id).where(t.c.event_id == event_id)).scalar()

    def _store(self, conn: Connection, ticket_id: int, state: HoldState) -> None:
        values = {"locked": state.locked, "owner_id": state.owner_id, "awaiting_owner": state.awaiting_owner,
                  "holder_id": state.holder_id, "credit_id": state.credit_id, "credit_points": state.credit_points,
                  "replied": state.replied, "since": state.since, "updated_at": func.now(6)}
        conn.execute(insert(self.table).values(ticket_id=ticket_id, **values).on_duplicate_key_update(**values))


def _state(row: Any) -> HoldState:
    return HoldState(locked=bool(row["locked"]), owner_id=row["owner_id"], awaiting_owner=bool(row["awaiting_owner"]),
                     holder_id=row["holder_id"], credit_id=row["credit_id"],
                     credit_points=Decimal(row["credit_points"]) if row["credit_points"] is not None else None,
                     replied=bool(row["replied"]), since=row["since"])
