"""``pool``: the points ledger and the ticket pool, fed by what happens to tickets wherever it happens.

A lock, unlock, owner change or reply made in the unmodified OTRS UI reaches the ledger exactly like one made
through otrs-ext, because both arrive here as domain events:

* ``TicketChanged`` with ``lock_id`` and/or ``owner_id`` → the hold rules (``otrs_ext.pool.holds``): a credit when
  a hold starts, a penalty when it ends without a reply (an unlock, OTRS's unlock timeout, an owner change
  away); a pool assignment whose hold ended is released and its agent goes back in line. A state change out of
  the pool's state types releases the ticket's pool assignment.
* ``ArticleCreated`` by an agent, visible to the customer → his first one while he holds the ticket confirms
  the credit, releases his pool assignment and hands him the next ticket.
* ``TicketCreated``, an unlock, a move, a state change back to new/open → a ticket may have become eligible:
  a dispatch runs for the waiting agents. ``TicketDeleted`` → the ticket's state and assignment are dropped.

Events of a first start's snapshot (``backfill``) are left alone: the ledger starts with live changes
(``reconcile`` recomputes earlier periods from ticket_history). Idempotent by event id: the ledger and hold
state change in one transaction with ``services.once``; a replayed event changes nothing and only triggers a
dispatch, which is idempotent itself (an agent with an open assignment gets nothing). The dispatch runs right
after that transaction, not deferred to the checkpoint: the next ticket must reach the agent within a second of
his reply, and deferred work waits for the next checkpoint.
A dispatch that is refused (a wrong queue name in the settings, a revoked grant) is logged, never a reason to
stop the ledger; an unreachable MariaDB or Redis raises, so the tailer retries the event.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Connection, func, select

from ...errors import OtrsExtError
from ...pool.compose import Pool, build_pool_from
from ...pool.tracking import Outcome
from ..dispatch import Services
from ..domain import ArticleCreated, TicketChanged, TicketCreated, TicketDeleted
from ..hookspecs import hookimpl

log = logging.getLogger(__name__)
NAME = "pool"


class PoolHandler:
    """Registered as an instance (``otrs_ext.events.plugins``); builds the pool from the handler services'
    settings on first use, unless given one (tests)."""

    def __init__(self, pool: Pool | None = None) -> None:
        self._pool = pool
        self._lock = threading.Lock()

    def pool(self, services: Services) -> Pool:
        with self._lock:
            if self._pool is None:
                if services.settings is None or services.redis is None:
                    raise RuntimeError("the pool handler needs the settings and a Redis client in its services "
                                       "(the tailer built by otrs_ext.events.compose passes both)")
                self._pool = build_pool_from(services.settings, services.engine, services.schema, services.redis,
                                             services.search)
            return self._pool

    @hookimpl
    def on_start(self, services: Services) -> None:
        """A pool setting naming a queue or state type the database lacks stops the tailer at start."""
        pool = self.pool(services)
        with services.engine.connect() as conn:
            pool.eligibility.pool_queues(conn)

    @hookimpl
    def on_ticket_created(self, event: TicketCreated, services: Services) -> None:
        if event.backfill:
            return
        pool = self.pool(services)
        with services.engine.connect() as conn:
            lookups = pool.eligibility.lookups(conn)
            eligible = lookups.state_types.get(event.ticket.get("ticket_state_id")) in pool.config.state_types \
                and event.ticket.get("ticket_lock_id") == lookups.names("ticket_lock_type").get("unlock") \
                and event.ticket.get("queue_id") in pool.eligibility.pool_queues(conn)
        if eligible:
            self._dispatch(pool)

    @hookimpl
    def on_ticket_changed(self, event: TicketChanged, services: Services) -> None:
        if event.backfill:
            return
        pool = self.pool(services)
        changes = event.changes
        outcome = Outcome()
        with services.engine.begin() as conn:
            lookups = pool.eligibility.lookups(conn)
            lock_id = lookups.names("ticket_lock_type").get("lock")
            pool_states = set(lookups.states_of_type(*pool.config.state_types))
            state = changes.get("state_id")
            left = state is not None and state[1] not in pool_states
            if ("lock_id" in changes or "owner_id" in changes or left) and \
                    services.once(conn, NAME, event.event_id):
                if "lock_id" in changes or "owner_id" in changes:
                    before, after = changes.get("lock_id", (None, None))
                    locked = (before == lock_id, after == lock_id) if "lock_id" in changes else None
                    outcome = pool.tracker.changed(conn, event_id=event.event_id, ticket_id=event.ticket_id,
                                                   occurred_at=_now(conn), by=event.changed_by or 1, locked=locked,
                                                   owner=changes.get("owner_id"))
                if left:
                    outcome.released += pool.tracker.closed(conn, event.ticket_id, "state-change").released
        unlocked = "lock_id" in changes and changes["lock_id"][1] != lock_id
        entered = state is not None and state[1] in pool_states
        self._after(pool, outcome, dispatch=unlocked or entered or "queue_id" in changes)

    @hookimpl
    def on_article_created(self, event: ArticleCreated, services: Services) -> None:
        article = event.article
        agent_id = article.get("create_by")
        if event.backfill or not article.get("is_visible_for_customer") or not agent_id:
            return
        pool = self.pool(services)
        outcome = Outcome()
        with services.engine.begin() as conn:
            senders = pool.eligibility.lookups(conn).names("article_sender_type")
            if article.get("article_sender_type_id") != senders.get("agent"):
                return
            if services.once(conn, NAME, event.event_id):
                outcome = pool.tracker.replied(conn, event_id=event.event_id, ticket_id=event.ticket_id,
                                               agent_id=agent_id, occurred_at=_now(conn))
        self._after(pool, outcome, dispatch=False)

    @hookimpl
    def on_ticket_deleted(self, event: TicketDeleted, services: Services) -> None:
        pool = self.pool(services)
        with services.engine.begin() as conn:
            outcome = pool.tracker.forget(conn, event.ticket_id)
        self._after(pool, outcome, dispatch=False)

    # --- after the transaction --------------------------------------------------------------------------
    def _after(self, pool: Pool, outcome: Outcome, *, dispatch: bool) -> None:
        for agent_id, kind, points in outcome.entries:
            if kind == "confirm":
                pool.sessions.publish(agent_id, {"type": "confirmed", "points": str(points)})
        for agent_id, ticket_id, reason in outcome.released:
            pool.sessions.publish(agent_id, {"type": "released", "ticket_id": ticket_id, "reason": reason})
            pool.service.requeue(agent_id)
        if dispatch or outcome.released:
            self._dispatch(pool)

    def _dispatch(self, pool: Pool) -> None:
        if not pool.sessions.waiting_count():
            return  # nobody waits (most events, and every one while the pool is unused): one Redis call
        try:
            pool.service.dispatch()
        except OtrsExtError as refused:
            log.error("pool dispatch refused: %s", refused, extra={"event": "pool_dispatch_refused"})


def _now(conn: Connection) -> Any:
    """When the ledger learns of a change: the database's clock, as OTRS's own times (the binlog's event time is
    UTC, the poll source's the database's; the handler runs within a second of the change while the tailer
    keeps up)."""
    return conn.execute(select(func.now(6))).scalar_one()
