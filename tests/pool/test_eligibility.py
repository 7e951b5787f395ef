"""Which tickets an agent may be handed and in which order: groups direct and through roles, the permission key,
pool and excluded queues, states and locks, per-queue orders, positions and points."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from support import otrs_ui

from otrs_ext.errors import ConfigurationError


def _ids(world, agent, **kw) -> list[int]:
    with world.engine.connect() as conn:
        return [c.ticket_id for c in world.pool.eligibility.tickets(conn, agent, **kw)]


def test_groups_direct_and_through_roles_with_the_rw_key(world) -> None:
    sales, support = world.group(), world.group()
    q_sales, q_support = world.queue(sales), world.queue(support)
    t_sales, t_support = world.ticket(q_sales, age_hours=2), world.ticket(q_support, age_hours=1)
    direct = world.agent(groups=(sales,))
    via_role = world.agent(role=world.role(support))
    both = world.agent(groups=(sales,), role=world.role(support))
    reader = world.agent(groups=(sales, support), keys=("ro", "note", "owner"))  # every key but rw
    dead_role = world.agent(role=world.role(sales, valid=False))
    assert _ids(world, direct) == [t_sales]
    assert _ids(world, via_role) == [t_support]
    assert _ids(world, both) == [t_sales, t_support]  # oldest first across his queues
    assert _ids(world, reader) == [] and _ids(world, dead_role) == []
    world.reconfigure(permission="owner")  # OTRS_EXT_POOL_PERMISSION=owner: owner (or rw) suffices
    assert _ids(world, reader) == [t_sales, t_support] and _ids(world, direct) == [t_sales]


def test_open_unlocked_tickets_of_pool_queues_oldest_first(world) -> None:
    users = world.group_id("users")
    agent = world.agent(groups=(users,))
    # created oldest first, as a helpdesk gets them: "oldest" is creation order (the ticket id)
    junk = world.ticket("Junk", age_hours=60)  # excluded queue
    closed = world.ticket("Misc", age_hours=50, state="closed successful")
    pending = world.ticket("Raw", age_hours=40, state="pending reminder")
    locked = world.ticket("Misc", age_hours=35)
    assert otrs_ui.lock_screen(world.engine, world.schema, locked, world.agent(groups=(users,)))
    old = world.ticket("Raw", age_hours=30)
    opened = world.ticket("Postmaster", age_hours=25, state="open")
    middle, new = world.ticket("Raw", age_hours=20), world.ticket("Raw", age_hours=10)
    assert _ids(world, agent) == [old, opened, middle, new]
    assert _ids(world, agent, limit=2, skip=[old]) == [opened, middle]
    assert pending not in _ids(world, agent) and closed not in _ids(world, agent) and junk not in _ids(world, agent)
    world.reconfigure(queues=("Misc", "Postmaster"), excluded_queues=())
    assert _ids(world, agent) == [opened]
    world.reconfigure(queues=(), excluded_queues=(), state_types=("new", "open", "pending reminder"))
    assert _ids(world, agent) == [junk, pending, old, opened, middle, new]


def test_orders_per_queue_and_their_interleaving_by_age(world) -> None:
    users = world.group_id("users")
    agent = world.agent(groups=(users,))
    p_low = world.ticket("Postmaster", age_hours=9, priority="2 low")
    e_none = world.ticket("Misc", age_hours=8)
    r_old = world.ticket("Raw", age_hours=7)
    p_normal = world.ticket("Postmaster", age_hours=5)
    e_soon = world.ticket("Misc", age_hours=3, escalation_time=1_900_000_000)
    e_late = world.ticket("Misc", age_hours=2, escalation_time=2_000_000_000)
    p_high = world.ticket("Postmaster", age_hours=1, priority="5 very high")
    world.reconfigure(queue_orders={"Postmaster": "priority", "Misc": "escalation_time"})
    # Postmaster: high, normal, low; Misc: soon, late, none; Raw: old. Merged by the age of each queue's next one:
    # heads high (1 h), soon (3 h), old (7 h) -> old; then soon (3 h) vs high (1 h) -> soon ...
    assert _ids(world, agent) == [r_old, e_soon, e_late, e_none, p_high, p_normal, p_low]
    world.reconfigure(queue_orders={}, order="priority")  # one order everywhere: one list, highest first
    assert _ids(world, agent) == [p_high, e_none, r_old, p_normal, e_soon, e_late, p_low]


def test_positions_and_points_of_the_list_and_of_a_ticket_just_locked(world) -> None:
    users = world.group_id("users")
    agent, other = world.agent(groups=(users,)), world.agent(groups=(users,))
    tickets = [world.ticket("Raw", age_hours=h) for h in (4, 3, 2, 1)]
    with world.engine.connect() as conn:
        listed = world.pool.eligibility.tickets(conn, agent)
    assert [(c.position, c.points) for c in listed] == [
        (1, Decimal("12.00")), (2, Decimal("10.50")), (3, Decimal("9.00")), (4, Decimal("7.50"))]
    otrs_ui.lock_screen(world.engine, world.schema, tickets[2], other)  # the third, locked by someone
    with world.engine.connect() as conn:
        priced = world.pool.eligibility.price(conn, agent, tickets[2])
        assert (priced.position, priced.points) == (3, Decimal("9.00"))  # where it stood when it was locked
        assert world.pool.eligibility.price(conn, agent, tickets[3]).position == 3  # 4th, the 3rd one is gone
        outsider = world.agent(groups=(world.group(),))
        assert world.pool.eligibility.price(conn, outsider, tickets[0]) is None


def test_settings_naming_unknown_queues_or_state_types_are_refused(world) -> None:
    agent = world.agent(groups=(world.group_id("users"),))
    world.reconfigure(queues=("Raw", "Nowhere"))
    with pytest.raises(ConfigurationError, match="Nowhere"), world.engine.connect() as conn:
        world.pool.eligibility.tickets(conn, agent)
    world.reconfigure(queues=(), state_types=("open", "waiting"))
    with pytest.raises(ConfigurationError, match="unknown state types waiting"), world.engine.connect() as conn:
        world.pool.eligibility.tickets(conn, agent)


def test_the_first_tickets_are_read_from_the_queue_view_index(world) -> None:
    """EXPLAIN: OTRS's (ticket_state_id, ticket_lock_id) index, its rows in id order: no sort, no table scan."""
    agent = world.agent(groups=(world.group_id("users"),))
    for _ in range(3):
        world.ticket("Raw")
    with world.engine.connect() as conn:
        queues = world.pool.eligibility.agent_queues(conn, agent)
        query = world.pool.eligibility.eligible_query(conn, list(queues), 1)
        sql = str(query.compile(world.engine, compile_kwargs={"literal_binds": True}))
        plan = conn.execute(text("EXPLAIN " + sql)).mappings().all()
    used = [(row["key"], row["Extra"] or "") for row in plan if row["table"] == "ticket"]
    assert len(used) == 2  # new, open
    assert all(key == "ticket_queue_view" and "filesort" not in extra for key, extra in used), used
