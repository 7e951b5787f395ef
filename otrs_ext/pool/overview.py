"""The pool at a glance (``otrs-ext pool status``): agents in the pool, waiting, holding a pool ticket, and how many
tickets the pool could hand out now (a count, never the list)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from .compose import Pool


@dataclass(frozen=True)
class Overview:
    agents: int  # agents in the pool (an open session)
    waiting: int  # of them, waiting in line
    holding: int  # open pool assignments (agents working on a pool ticket)
    eligible: int  # open, unlocked tickets in pool queues
    queues: int  # pool queues


def overview(pool: Pool) -> Overview:
    service = pool.service
    t, a = service.schema.tables.ticket, pool.assignments.table
    with service.engine.connect() as conn:
        queues = pool.eligibility.pool_queues(conn)
        lookups = pool.eligibility.lookups(conn)
        states = lookups.states_of_type(*pool.config.state_types)
        eligible = conn.execute(select(func.count()).select_from(t).where(
            t.c.queue_id.in_(sorted(queues)), t.c.ticket_state_id.in_(sorted(states)),
            t.c.ticket_lock_id == lookups.id("ticket_lock_type", "unlock"))).scalar_one() if queues and states else 0
        holding = conn.execute(select(func.count()).select_from(a).where(a.c.open_agent_id.is_not(None))).scalar_one()
    return Overview(pool.sessions.count_in_pool(), pool.sessions.waiting_count(), int(holding), int(eligible),
                    len(queues))
