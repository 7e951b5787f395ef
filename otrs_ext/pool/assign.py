"""The pool: agents enter, wait in line (first come, first served) and are each handed one ticket, the first
one eligible for them; a reply to the customer frees them for the next one.

Handing a ticket over is one transaction of the ticket core (``TicketService.claim``: the ticket row locked FOR
UPDATE, still unlocked, then lock + owner with OTRS's history rows) plus the assignment row, whose unique
``open_agent_id`` keeps every agent at one pool ticket; so two dispatchers, or a dispatcher and an OTRS user
locking at the same moment, never both get a ticket. Dispatch runs one at a time (a Redis lock); a trigger while
it runs is picked up by the running one.

Leaving the pool, or a session that expires (no heartbeat for ``OTRS_EXT_POOL_SESSION_SECONDS``, found by
``sweep``), gives an unanswered ticket back: it is unlocked (``TicketService.release``), so it is again the
oldest in line, and the ledger's penalty follows from the unlock like any other (the ``pool`` handler).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from schema_maps import OtrsSchema

from ..errors import Conflict, NotFound, OtrsExtError, PermissionDenied, ValidationError
from ..tickets.clock import Clock, DatabaseClock
from ..tickets.permissions import VALID_ID
from ..tickets.service import TicketService
from .assignments import Assignment, Assignments
from .config import PoolConfig
from .eligibility import Candidate, Eligibility
from .sessions import PoolSessions

log = logging.getLogger(__name__)
CLAIM_TRIES = 5  # candidates tried per agent and round when others lock them first
# rounds one dispatch runs at most while triggers keep coming (or claims keep failing); the next trigger goes on
MAX_ROUNDS = 20


class NoEligibleQueue(OtrsExtError):
    status = 422
    code = "pool-no-queue"


class SessionBusy(Conflict):
    code = "pool-session-busy"


class NotInPool(Conflict):
    code = "pool-not-entered"


@dataclass(frozen=True)
class CurrentTicket:
    """The ticket an agent works on from the pool, as his pool screen shows it."""

    assignment_id: int
    ticket_id: int
    tn: str
    title: str
    queue: str
    customer_user: str | None
    customer_id: str | None
    created: datetime
    age_seconds: float
    position: int
    points: Decimal
    assigned_at: datetime


@dataclass(frozen=True)
class PoolStatus:
    agent_id: int
    in_pool: bool
    ticket: CurrentTicket | None
    place: int | None  # 1 = first in line; None when not waiting
    waiting: int  # agents waiting
    agents: int  # agents in the pool


class PoolService:
    def __init__(self, engine: Engine, schema: OtrsSchema, tickets: TicketService, eligibility: Eligibility,
                 sessions: PoolSessions, assignments: Assignments, config: PoolConfig, *,
                 clock: Clock | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.tickets = tickets
        self.eligibility = eligibility
        self.sessions = sessions
        self.assignments = assignments
        self.config = config
        self.clock = clock or DatabaseClock()

    # --- an agent's requests ------------------------------------------------------------------------------
    def enter(self, agent_id: int, session_id: str) -> PoolStatus:
        """Enter the pool (or renew the same session): the agent waits in line unless he holds a pool ticket,
        and a dispatch runs. Refused, with nothing written, for an agent with no pool queue or with another
        pool session open."""
        _check_session_id(session_id)
        with self.engine.connect() as conn:
            login = self._agent(conn, agent_id)
            if not self.eligibility.agent_queues(conn, agent_id):
                raise NoEligibleQueue(
                    f"agent {login!r} may take tickets from no pool queue: the pool hands out tickets of queues "
                    f"whose group grants the agent {self.config.permission!r} (directly or through a role)"
                    + (f" among {', '.join(self.config.queues)}" if self.config.queues else "")
                    + "; grant it in OTRS (Agents <-> Groups or Roles) or set OTRS_EXT_POOL_QUEUES")
            holding = self.assignments.open_of_agent(conn, agent_id)
        opened, session = self.sessions.open(agent_id, session_id)
        if not opened:
            since = datetime.fromtimestamp(session.entered_at).strftime("%Y-%m-%d %H:%M:%S")
            raise SessionBusy(
                f"agent {login!r} is in the pool already, in another session (entered {since}); one pool session "
                f"per agent: leave it there, or wait until it expires {self.config.session_seconds} s after its "
                "last heartbeat (OTRS_EXT_POOL_SESSION_SECONDS)")
        if holding is None:
            self.sessions.wait(agent_id)
        self.dispatch()
        return self.status(agent_id)

    def heartbeat(self, agent_id: int, session_id: str) -> PoolStatus:
        """Keep the session open; ``NotInPool`` when it expired or was left (enter again)."""
        if not self.sessions.touch(agent_id, session_id):
            raise NotInPool(f"pool session {session_id!r} of agent {agent_id} is not open (it was left, or it "
                            f"expired {self.config.session_seconds} s after its last heartbeat): enter again")
        return self.status(agent_id)

    def leave(self, agent_id: int, session_id: str | None = None) -> PoolStatus:
        """Leave the pool: an unanswered pool ticket is unlocked (and the penalty follows)."""
        session = self.sessions.session(agent_id)
        if session is not None and session_id is not None and session.id != session_id:
            raise SessionBusy(f"pool session {session_id!r} is not agent {agent_id}'s open pool session; leave "
                              "from the session that entered")
        self.sessions.close(agent_id, session_id)
        if self.release(agent_id, "left"):
            self.dispatch()
        return self.status(agent_id)

    def status(self, agent_id: int) -> PoolStatus:
        """Where the agent stands: his ticket (never a list of tickets), or his place in line."""
        session = self.sessions.session(agent_id)
        with self.engine.connect() as conn:
            assignment = self.assignments.open_of_agent(conn, agent_id)
            ticket = self._current(conn, assignment) if assignment is not None else None
        return PoolStatus(agent_id, session is not None, ticket, self.sessions.place(agent_id),
                          self.sessions.waiting_count(), self.sessions.count_in_pool())

    # --- the pool's own work ------------------------------------------------------------------------------
    def dispatch(self) -> list[tuple[int, int]]:
        """Hand tickets to waiting agents in line order until no waiting agent has one to take; returns
        (agent, ticket) of each hand-over. When another dispatch runs, it does the work (returns [])."""
        token = self.sessions.try_dispatch()
        if token is None:
            return []
        made: list[tuple[int, int]] = []
        rounds = 0
        try:
            while rounds < MAX_ROUNDS and self.sessions.take_wanted():
                made += self._round()
                rounds += 1
        finally:
            self.sessions.end_dispatch(token)
        if rounds < MAX_ROUNDS and self.sessions.wanted():  # a trigger between the last round and the unlock
            made += self.dispatch()
        return made

    def sweep(self) -> list[int]:
        """End expired sessions (their unanswered tickets go back); returns their agents."""
        ended = self.sessions.expired()
        released = [agent for agent in ended if self.release(agent, "expired")]
        if released:
            self.dispatch()
        return ended

    def release(self, agent_id: int, reason: str) -> bool:
        """Close the agent's open assignment; unlock its ticket if he still holds it (he has not replied: a
        reply closes the assignment). True when there was one."""
        with self.engine.connect() as conn:
            assignment = self.assignments.open_of_agent(conn, agent_id)
        if assignment is None:
            return False
        with self.engine.connect() as conn:
            answered = self._answered(conn, assignment)
        if answered:  # his reply is committed, the handler has not seen it yet: the ticket stays his
            reason = "replied"
            with self.engine.begin() as conn:
                self.assignments.release(conn, assignment.id, reason)
        else:
            self.tickets.release(agent_id, assignment.ticket_id,
                                 also=lambda conn: self.assignments.release(conn, assignment.id, reason))
        self.sessions.publish(agent_id, {"type": "released", "ticket_id": assignment.ticket_id, "reason": reason})
        return True

    def requeue(self, agent_id: int) -> bool:
        """Back in line after his pool ticket was answered or taken away, if he is still in the pool."""
        with self.engine.connect() as conn:
            if self.assignments.open_of_agent(conn, agent_id) is not None:
                return False
        return self.sessions.wait(agent_id)

    # --- plumbing ---------------------------------------------------------------------------------------
    def _round(self) -> list[tuple[int, int]]:
        self._heal()
        made: list[tuple[int, int]] = []
        exhausted: set[frozenset[tuple[int, str]]] = set()  # queue sets with nothing left this round
        taken: set[int] = set()
        for agent_id in self.sessions.waiting():
            if self.sessions.session(agent_id) is None:
                self.sessions.unwait(agent_id)
                continue
            with self.engine.connect() as conn:
                if self.assignments.open_of_agent(conn, agent_id) is not None:
                    self.sessions.unwait(agent_id)
                    continue
                queues = self.eligibility.agent_queues(conn, agent_id)
                key = frozenset(queues.items())
                if not queues or key in exhausted:
                    continue
                candidates = self.eligibility.tickets(conn, agent_id, limit=CLAIM_TRIES, skip=taken)
            if not candidates:
                exhausted.add(key)
                continue
            for candidate in candidates:
                outcome = self._claim(agent_id, candidate)
                taken.add(candidate.ticket_id)
                if outcome is None:
                    break  # he holds one already (another process handed it over)
                if outcome:
                    self.sessions.unwait(agent_id)
                    made.append((agent_id, candidate.ticket_id))
                    self._announce(agent_id, candidate)
                    break
            else:
                self.sessions.want()  # every candidate was taken by others meanwhile: look again next round
        return made

    def _claim(self, agent_id: int, candidate: Candidate) -> bool | None:
        """True when the ticket is now the agent's; False when someone was first or it is no longer eligible;
        None when the agent already has an open assignment."""
        def still(conn: Connection, row: dict[str, Any]) -> bool:
            queues = self.eligibility.agent_queues(conn, agent_id)
            states = self.eligibility.lookups(conn).states_of_type(*self.config.state_types)
            return row["queue_id"] in queues and row["ticket_state_id"] in states

        def also(conn: Connection, row: dict[str, Any]) -> None:
            self.assignments.add(conn, agent_id, row["id"], candidate.position, candidate.points)

        try:
            return self.tickets.claim(agent_id, candidate.ticket_id, still=still, also=also)
        except IntegrityError:
            return None
        except (PermissionDenied, NotFound) as refused:
            log.info("pool could not hand ticket %s to agent %s: %s", candidate.ticket_id, agent_id, refused,
                     extra={"event": "pool_claim_refused", "ticket_id": candidate.ticket_id, "agent_id": agent_id})
            return False

    def _heal(self) -> None:
        """Agents in the pool with no ticket who are not in line (a requeue lost to a crash) join the line."""
        in_pool = set(self.sessions.agents_in_pool())
        if not in_pool:
            return
        waiting = set(self.sessions.waiting())
        t = self.assignments.table
        with self.engine.connect() as conn:
            holding = set(conn.execute(select(t.c.open_agent_id).where(t.c.open_agent_id.in_(sorted(in_pool))))
                          .scalars())
        for agent_id in sorted(in_pool - waiting - holding):
            self.sessions.wait(agent_id)

    def _answered(self, conn: Connection, assignment: Assignment) -> bool:
        """Whether the agent has written an article visible to the customer on the ticket since he got it."""
        a, source = self.schema.tables.article, self.schema.articles.meta_source()
        senders = self.eligibility.lookups(conn).names("article_sender_type")
        found = conn.execute(select(a.c.id).select_from(source.joined).where(
            a.c.ticket_id == assignment.ticket_id, a.c.create_by == assignment.agent_id,
            a.c.article_sender_type_id == senders.get("agent"), source.visible == 1,
            a.c.create_time >= assignment.assigned_at.replace(microsecond=0)).limit(1)).first()
        return found is not None

    def _announce(self, agent_id: int, candidate: Candidate) -> None:
        self.sessions.publish(agent_id, {"type": "assigned", "ticket": {
            "id": candidate.ticket_id, "number": candidate.tn, "title": candidate.title,
            "points": str(candidate.points), "position": candidate.position}})

    def _current(self, conn: Connection, assignment: Assignment) -> CurrentTicket | None:
        t, q = self.schema.tables.ticket, self.schema.tables.queue
        row = conn.execute(select(t.c.id, t.c.tn, t.c.title, t.c.customer_user_id, t.c.customer_id, t.c.create_time,
                                  q.c.name.label("queue")).join(q, q.c.id == t.c.queue_id)
                           .where(t.c.id == assignment.ticket_id)).first()
        if row is None:
            return None
        now = self.clock.now(conn)
        return CurrentTicket(assignment.id, row.id, row.tn, row.title or "", row.queue, row.customer_user_id,
                             row.customer_id, row.create_time, max(0.0, (now - row.create_time).total_seconds()),
                             assignment.position, assignment.points, assignment.assigned_at)

    def _agent(self, conn: Connection, agent_id: int) -> str:
        users = self.schema.tables.users
        row = conn.execute(select(users.c.login, users.c.valid_id).where(users.c.id == agent_id)).first()
        if row is None:
            raise NotFound(f"no agent with id {agent_id}")
        if row.valid_id != VALID_ID:
            raise PermissionDenied(f"agent {row.login!r} is invalid in OTRS and cannot enter the pool")
        return row.login


def _check_session_id(session_id: str) -> None:
    if not isinstance(session_id, str) or not 1 <= len(session_id) <= 100 or not session_id.isprintable():
        raise ValidationError([("session_id", "a pool session id is 1 to 100 printable characters")])
