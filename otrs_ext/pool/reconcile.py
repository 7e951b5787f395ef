"""Recompute the ledger's credits, confirms and penalties of a period from ``ticket_history`` and show where the
stored ledger differs.

OTRS writes a history row for every lock (``Lock``), unlock (``Unlock``), owner change (``OwnerUpdate``) and
article (a row naming the article): the same facts the ``pool`` handler reads from the binlog. Each ticket with
such a row in the period is replayed from its first row through the hold rules (``holds``), and every hold
yields what the ledger should hold: a credit if the hold started in the period on a ticket that was the agent's
to take (its queue, as the history row records it, one of his pool queues; its state of a pool state type), a
confirm if he replied while holding it, a penalty if it ended in the period without a reply. The amounts cannot
be recomputed (a ticket's position depended on the whole queue at that moment): they are checked against the
credit they follow (confirm = credit, penalty = -factor x credit).

The ledger dates an entry when the handler wrote it (within a second of the change while the tailer keeps up);
a change made just before a period's end while the tailer lagged may be dated in the next period: reconcile
periods that end a while ago, or read a difference at the very edge of a period with that in mind.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, or_, select

from schema_maps import OtrsSchema

from .config import PoolConfig
from .eligibility import Eligibility
from .holds import Confirmed, Ended, HoldState, Started, change, reply
from .ledger import Entry, Ledger

LOCK_TYPES = ("Lock", "Unlock", "OwnerUpdate")
CHUNK = 500


@dataclass(frozen=True)
class Difference:
    ticket_id: int
    agent_id: int
    kind: str  # credit, confirm, penalty
    expected: int  # entries the history calls for
    found: int  # entries the ledger holds
    detail: str


@dataclass(frozen=True)
class Reconciliation:
    start: datetime
    end: datetime
    tickets: int
    expected: int
    found: int
    differences: list[Difference]

    @property
    def clean(self) -> bool:
        return not self.differences


class Reconciler:
    def __init__(self, engine: Engine, schema: OtrsSchema, eligibility: Eligibility, ledger: Ledger,
                 config: PoolConfig) -> None:
        self.engine = engine
        self.schema = schema
        self.eligibility = eligibility
        self.ledger = ledger
        self.config = config

    def run(self, start: datetime, end: datetime) -> Reconciliation:
        h = self.schema.tables.ticket_history
        with self.engine.connect() as conn:
            lookups = self.eligibility.lookups(conn)
            types = {lookups.id("ticket_history_type", name): name for name in LOCK_TYPES}
            touched = set(conn.execute(select(h.c.ticket_id).distinct().where(
                h.c.create_time >= start, h.c.create_time < end,
                or_(h.c.history_type_id.in_(list(types)), h.c.article_id.is_not(None)))).scalars())
        stored = [e for e in self.ledger.entries(start=start, end=end) if e.kind != "adjust"]
        touched |= {e.ticket_id for e in stored if e.ticket_id is not None}
        expected: Counter[tuple[int, int, str]] = Counter()
        tickets = sorted(touched)
        for i in range(0, len(tickets), CHUNK):
            with self.engine.connect() as conn:
                expected.update(self._expected(conn, tickets[i:i + CHUNK], types, start, end))
        found: Counter[tuple[int, int, str]] = Counter((e.ticket_id or 0, e.agent_id, e.kind) for e in stored)
        differences = [
            Difference(ticket, agent, kind, expected[key], found[key],
                       f"ticket_history calls for {expected[key]} {kind} entr{'y' if expected[key] == 1 else 'ies'}, "
                       f"the ledger holds {found[key]}")
            for key in sorted(set(expected) | set(found)) for ticket, agent, kind in [key]
            if expected[key] != found[key]]
        differences += self._amounts(stored)
        return Reconciliation(start, end, len(tickets), sum(expected.values()), len(stored), differences)

    def _expected(self, conn: Connection, tickets: list[int], types: dict[int, str], start: datetime,
                  end: datetime) -> Iterable[tuple[int, int, str]]:
        h = self.schema.tables.ticket_history
        rows = conn.execute(select(h.c.id, h.c.ticket_id, h.c.history_type_id, h.c.article_id, h.c.owner_id,
                                   h.c.queue_id, h.c.state_id, h.c.create_by, h.c.create_time)
                            .where(h.c.ticket_id.in_(tickets), h.c.create_time < end,
                                   or_(h.c.history_type_id.in_(list(types)), h.c.article_id.is_not(None)))
                            .order_by(h.c.ticket_id, h.c.id)).all()
        replies = self._agent_replies(conn, {r.article_id for r in rows if r.article_id})
        first_owner = self._first_owners(conn, tickets)
        states = set(self.eligibility.lookups(conn).states_of_type(*self.config.state_types))
        by_ticket: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            by_ticket[row.ticket_id].append(row)
        queues_of: dict[int, dict[int, str]] = {}
        for ticket_id, history in by_ticket.items():
            state = HoldState.initial(False, first_owner.get(ticket_id, 1))
            credited = False  # the running hold has (would have) a credit
            for row in history:
                kind = types.get(row.history_type_id)
                if kind == "Lock":
                    effects = change(state, by=row.create_by, locked=True)
                elif kind == "Unlock":
                    effects = change(state, by=row.create_by, locked=False)
                elif kind == "OwnerUpdate":
                    effects = change(state, by=row.create_by, owner_id=row.owner_id)
                elif row.article_id in replies and replies[row.article_id] is not None:
                    effects = reply(state, agent_id=replies[row.article_id])
                else:
                    continue
                within = start <= row.create_time < end
                for effect in effects:
                    if isinstance(effect, Ended):
                        if credited and not effect.replied and within and self.config.penalty_factor > 0:
                            yield ticket_id, effect.agent_id, "penalty"
                        credited = False
                    elif isinstance(effect, Started):
                        if effect.agent_id not in queues_of:
                            queues_of[effect.agent_id] = self.eligibility.agent_queues(conn, effect.agent_id)
                        credited = row.queue_id in queues_of[effect.agent_id] and row.state_id in states
                        if credited and within:
                            yield ticket_id, effect.agent_id, "credit"
                    elif isinstance(effect, Confirmed) and credited and within:
                        yield ticket_id, effect.agent_id, "confirm"

    def _agent_replies(self, conn: Connection, article_ids: set[int]) -> dict[int, int | None]:
        """Article id -> the agent who wrote it, for agent articles visible to the customer (None otherwise)."""
        if not article_ids:
            return {}
        source = self.schema.articles.meta_source()
        a = self.schema.tables.article
        agent = self.eligibility.lookups(conn).id("article_sender_type", "agent")
        found: dict[int, int | None] = {}
        ids = sorted(article_ids)
        for i in range(0, len(ids), CHUNK):
            query = select(a.c.id, a.c.article_sender_type_id, a.c.create_by, source.visible.label("visible")) \
                .select_from(source.joined).where(a.c.id.in_(ids[i:i + CHUNK]))
            for row in conn.execute(query):
                found[row.id] = row.create_by if row.article_sender_type_id == agent and row.visible else None
        return found

    def _first_owners(self, conn: Connection, tickets: list[int]) -> dict[int, int]:
        """The owner each ticket was created with (its first history row's snapshot)."""
        h = self.schema.tables.ticket_history
        first = select(h.c.ticket_id, h.c.id).where(h.c.ticket_id.in_(tickets)).order_by(h.c.ticket_id, h.c.id)
        owners: dict[int, int] = {}
        for ticket_id, row_id in conn.execute(first):
            if ticket_id not in owners:
                owners[ticket_id] = row_id
        if not owners:
            return {}
        rows = conn.execute(select(h.c.ticket_id, h.c.owner_id).where(h.c.id.in_(list(owners.values()))))
        return {ticket_id: owner for ticket_id, owner in rows}

    def _amounts(self, stored: list[Entry]) -> list[Difference]:
        """Confirms and penalties whose amount does not follow from their credit."""
        credits = {e.id: e for e in self.ledger.by_ids({s.credit_id for s in stored if s.credit_id})}
        factor = Decimal(str(self.config.penalty_factor))
        wrong = []
        for entry in stored:
            credit = credits.get(entry.credit_id or 0)
            if credit is None or entry.kind not in ("confirm", "penalty"):
                continue
            due = credit.points if entry.kind == "confirm" else -(factor * credit.points).quantize(Decimal("0.01"))
            if entry.points != due:
                wrong.append(Difference(entry.ticket_id or 0, entry.agent_id, entry.kind, 1, 1,
                                        f"entry {entry.id} is {entry.points} points; its credit {credit.id} of "
                                        f"{credit.points} calls for {due}"))
        return wrong
