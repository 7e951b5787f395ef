"""No ticket is ever handed to two: claims racing each other and an OTRS-UI lock on the same tickets, and a
whole pool of agents entering at once beside OTRS users locking, checked from ticket_history."""

from __future__ import annotations

import random
import threading
from collections import defaultdict

from sqlalchemy.exc import OperationalError
from support import otrs_ui


def _double_assignments(world, tickets: list[int]) -> list[str]:
    """From ticket_history: a Lock while locked, or an owner set by another user than the locker while locked."""
    problems = []
    by_ticket = defaultdict(list)
    for ticket, kind, owner, by in world.lock_history(tickets):
        by_ticket[ticket].append((kind, owner, by))
    for ticket, rows in by_ticket.items():
        locker = None
        for kind, owner, by in rows:
            if kind == "Lock":
                if locker is not None:
                    problems.append(f"ticket {ticket} locked by {by} while {locker} held it")
                locker = by
            elif kind == "Unlock":
                locker = None
            elif kind == "OwnerUpdate" and locker is not None and owner != locker:
                problems.append(f"ticket {ticket} of {locker} given to {owner}")
    return problems


def _otrs_user(world, users, stop, tickets, wins, most=8):
    """An OTRS user clicking "lock" on the oldest tickets of the queue view as fast as the server answers (until
    he has ``most``: the pool's agents are to get some too)."""
    me = world.agent(groups=(users,))
    rng = random.Random(me)
    mine = 0
    while not stop.is_set() and mine < most:
        ticket = rng.choice(tickets[:20])
        try:
            if otrs_ui.lock_screen(world.engine, world.schema, ticket, me, checked=True):
                wins.append((ticket, me))
                mine += 1
        except OperationalError:  # a deadlock victim: OTRS shows an error page, the user clicks again
            pass


def test_claims_and_an_otrs_lock_racing_for_each_ticket_have_one_winner(world) -> None:
    users = world.group_id("users")
    agents = [world.agent(groups=(users,)) for _ in range(6)]
    tickets = [world.ticket("Raw") for _ in range(15)]
    wins: list[tuple[int, int, str]] = []
    errors: list[BaseException] = []
    for ticket in tickets:
        barrier = threading.Barrier(len(agents) + 1)

        def claim(agent: int, ticket: int = ticket, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait()
                if world.tickets.claim(agent, ticket):
                    wins.append((ticket, agent, "pool"))
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        def otrs(ticket: int = ticket, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                if otrs_ui.lock_screen(world.engine, world.schema, ticket, agents[0], checked=True):
                    wins.append((ticket, agents[0], "otrs"))
            except OperationalError:  # a deadlock victim: OTRS shows an error page, nothing was written
                pass

        threads = [threading.Thread(target=claim, args=(a,)) for a in agents] + [threading.Thread(target=otrs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors == []
    assert sorted(t for t, *_ in wins) == sorted(tickets)  # one winner each
    assert _double_assignments(world, tickets) == []
    assert all(world.holder(t) == a for t, a, _ in wins)


def test_a_pool_entering_at_once_beside_otrs_users_locking(world) -> None:
    users = world.group_id("users")
    tickets = [world.ticket("Raw", age_hours=100 - i) for i in range(40)]
    agents = [world.agent(groups=(users,)) for _ in range(10)]
    stop, wins = threading.Event(), []
    clickers = [threading.Thread(target=_otrs_user, args=(world, users, stop, tickets, wins)) for _ in range(3)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(agents))

    def enter(agent: int) -> None:
        try:
            barrier.wait()
            world.pool.service.enter(agent, f"tab-{agent}")
            world.pool.service.dispatch()  # and a bot's hammering of the pool on top
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    for clicker in clickers:
        clicker.start()
    entering = [threading.Thread(target=enter, args=(a,)) for a in agents]
    for thread in entering:
        thread.start()
    for thread in entering:
        thread.join(60)
    stop.set()
    for clicker in clickers:
        clicker.join(30)
    assert errors == []
    held = {a: world.pool.service.status(a).ticket for a in agents}
    assert all(t is not None for t in held.values()), held  # 40 tickets, at most 24 clicked: everyone got one
    assert len({t.ticket_id for t in held.values()}) == len(agents)  # all different
    assert not {t.ticket_id for t in held.values()} & {t for t, _ in wins}  # none an OTRS user locked
    assert all(world.holder(t.ticket_id) == a for a, t in held.items())
    assert _double_assignments(world, tickets) == []
    with world.engine.connect() as conn:  # and one open assignment per agent, the database says so too
        for agent in agents:
            assert world.pool.assignments.open_of_agent(conn, agent).ticket_id == held[agent].ticket_id
