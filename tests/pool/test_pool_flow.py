"""The pool end to end, with the tailer running the ``pool`` handler: enter, the oldest ticket handed over with
OTRS's rows, first come first served, reply -> confirm -> next ticket pushed, unlocks (the agent's, OTRS's unlock
timeout, leaving, an expired session) -> penalty and the ticket back in line, and the refusals."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from support import otrs_ui

from otrs_ext.errors import ValidationError
from otrs_ext.pool.assign import NoEligibleQueue, NotInPool, SessionBusy


@pytest.fixture
def users(world) -> int:
    return world.group_id("users")


def _current(world, agent):
    status = world.pool.service.status(agent)
    return status.ticket.ticket_id if status.ticket else None


def _has(world, entry) -> bool:
    return entry in world.ledger()


def test_enter_hands_the_oldest_ticket_locked_and_owned_with_otrs_rows(world, users) -> None:
    agent = world.agent(groups=(users,))
    oldest, newer = world.ticket("Raw", age_hours=3), world.ticket("Misc", age_hours=1)
    world.tail()
    status = world.pool.service.enter(agent, "tab-1")
    assert status.in_pool and status.ticket.ticket_id == oldest and status.place is None
    assert (status.ticket.position, status.ticket.points) == (1, Decimal("11.50"))
    assert world.holder(oldest) == agent and world.holder(newer) is None
    assert world.lock_history([oldest]) == [(oldest, "Lock", 1, agent), (oldest, "OwnerUpdate", agent, agent)]
    world.wait(lambda: _has(world, (agent, oldest, "credit", "11.50")), "the credit of the lock")
    assert world.ledger() == [(agent, oldest, "credit", "11.50")]
    assert world.pool.service.enter(agent, "tab-1").ticket.ticket_id == oldest  # the same session again: no-op


def test_agents_are_served_first_come_first_served(world, users) -> None:
    first, second, third = (world.agent(groups=(users,)) for _ in range(3))
    world.tail()
    for n, agent in enumerate((first, second, third), 1):
        assert world.pool.service.enter(agent, f"tab-{agent}").place == n
    tickets = []
    for _ in range(3):
        tickets.append(world.ticket("Raw"))  # arrives through the tailer: TicketCreated -> dispatch
        world.wait(lambda: _current(world, (first, second, third)[len(tickets) - 1]) == tickets[-1],
                   f"ticket {len(tickets)} for agent {len(tickets)}")
    assert [_current(world, a) for a in (first, second, third)] == tickets
    assert world.pool.service.status(third).waiting == 0


def test_reply_confirms_and_the_next_ticket_is_pushed_within_a_second(world, users) -> None:
    agent, colleague = world.agent(groups=(users,)), world.agent(groups=(users,))
    first, second = world.ticket("Raw", age_hours=2), world.ticket("Raw", age_hours=1)
    world.tail()
    assert world.pool.service.enter(agent, "tab").ticket.ticket_id == first
    world.wait(lambda: _has(world, (agent, first, "credit", "11.00")), "the credit")
    listener = world.redis.pubsub()
    listener.subscribe(world.pool.sessions.channel(agent))
    listener.get_message(timeout=1)  # the subscription's confirmation
    world.reply(colleague, first)  # a colleague's answer confirms nothing of the holder's
    world.reply(agent, first, visible=False)  # nor does an internal note
    time.sleep(0.5)
    assert _current(world, agent) == first
    world.reply(agent, first)  # through the ticket core, as the OTRS UI's compose screen writes it
    took = world.wait(lambda: _current(world, agent) == second, "the next ticket", timeout=5)
    assert took < 1.0, f"the next ticket came {took:.2f} s after the reply"
    world.wait(lambda: _has(world, (agent, second, "credit", "10.50")), "the second credit")
    assert world.ledger(agent) == [(agent, first, "credit", "11.00"), (agent, first, "confirm", "11.00"),
                                   (agent, second, "credit", "10.50")]
    assert world.pool.ledger.balance(agent).total == Decimal("11.00")
    assert world.pool.ledger.balance(agent).pending == Decimal("10.50")
    pushed = []
    while (message := listener.get_message(timeout=1)) is not None:
        pushed.append(json.loads(message["data"]))
    assert [m["type"] for m in pushed] == ["confirmed", "released", "assigned"]
    assert pushed[-1]["ticket"]["id"] == second and pushed[-1]["ticket"]["points"] == "10.50"
    assert world.holder(first) == agent  # he keeps working on it; only his pool slot was freed
    listener.close()


def test_unlock_without_reply_costs_the_penalty_and_the_ticket_comes_straight_back(world, users) -> None:
    agent = world.agent(groups=(users,))
    oldest, newer = world.ticket("Raw", age_hours=2), world.ticket("Raw", age_hours=1)
    world.tail()
    world.pool.service.enter(agent, "tab")
    world.wait(lambda: _has(world, (agent, oldest, "credit", "11.00")), "the credit")
    otrs_ui.unlock_screen(world.engine, world.schema, oldest, agent)  # dodging it in the OTRS UI
    world.wait(lambda: _has(world, (agent, oldest, "penalty", "-33.00")), "the penalty")
    # nothing gained: the oldest ticket is his again (the pool hands out the oldest, not the easiest)
    world.wait(lambda: _current(world, agent) == oldest, "the same ticket again")
    assert world.holder(newer) is None
    assert world.pool.ledger.balance(agent).total == Decimal("-33.00")


def test_otrs_unlock_timeout_and_ui_locks_count_like_the_pools(world, users) -> None:
    agent = world.agent(groups=(users,))
    tickets = [world.ticket("Raw", age_hours=h) for h in (3, 2, 1)]
    world.tail()
    otrs_ui.lock_screen(world.engine, world.schema, tickets[1], agent)  # cherry-picked the second in line
    world.wait(lambda: _has(world, (agent, tickets[1], "credit", "10.00")), "the credit at position 2")
    otrs_ui.unlock_timeout(world.engine, world.schema, tickets[1])  # the daemon: LockSet unlock as user 1
    world.wait(lambda: _has(world, (agent, tickets[1], "penalty", "-30.00")), "the penalty of the timeout")
    penalty = world.pool.ledger.entries(agent)[-1]
    assert (penalty.rule, penalty.by_agent_id, penalty.credit_id) == (
        "system-unlock", 1, world.pool.ledger.entries(agent)[0].id)
    assert "unlock timeout" in penalty.reason


def test_owner_change_away_ends_the_hold(world, users) -> None:
    agent, other, head = (world.agent(groups=(users,)) for _ in range(3))
    ticket = world.ticket("Raw", age_hours=1)
    world.tail()
    world.pool.service.enter(agent, "tab")
    world.wait(lambda: _has(world, (agent, ticket, "credit", "10.50")), "the credit")
    otrs_ui.owner_set(world.engine, world.schema, ticket, other, head)  # a head gives it to someone else
    world.wait(lambda: _has(world, (agent, ticket, "penalty", "-31.50")), "the penalty")
    world.wait(lambda: _has(world, (other, ticket, "credit", "10.50")), "the new holder's credit")
    assert world.pool.service.status(agent).ticket is None and world.pool.service.status(agent).place == 1


def test_leaving_gives_an_unanswered_ticket_back_to_the_next_in_line(world, users) -> None:
    agent, waiting = world.agent(groups=(users,)), world.agent(groups=(users,))
    ticket = world.ticket("Raw", age_hours=1)
    world.tail()
    world.pool.service.enter(agent, "tab")
    assert world.pool.service.enter(waiting, "tab").place == 1
    status = world.pool.service.leave(agent, "tab")
    assert not status.in_pool and status.ticket is None
    assert world.lock_history([ticket])[2:] == [  # unlocked by him, then handed to the next at once
        (ticket, "Unlock", agent, agent), (ticket, "Lock", agent, waiting), (ticket, "OwnerUpdate", waiting, waiting)]
    assert _current(world, waiting) == ticket
    world.wait(lambda: _has(world, (agent, ticket, "penalty", "-31.50")), "the penalty")
    assert world.pool.service.leave(agent).in_pool is False  # leaving twice is harmless


def test_an_expired_session_gives_its_ticket_back(world, users) -> None:
    world.reconfigure(session_seconds=1)
    agent, waiting = world.agent(groups=(users,)), world.agent(groups=(users,))
    ticket = world.ticket("Raw", age_hours=1)
    world.tail()
    world.pool.service.enter(agent, "tab")
    world.pool.service.enter(waiting, "other")
    time.sleep(0.6)
    world.pool.service.heartbeat(waiting, "other")  # this one keeps beating
    time.sleep(0.6)
    assert world.pool.service.sweep() == [agent]
    assert world.holder(ticket) == waiting
    world.wait(lambda: _has(world, (agent, ticket, "penalty", "-31.50")), "the penalty")
    with pytest.raises(NotInPool, match="enter again"):
        world.pool.service.heartbeat(agent, "tab")


def test_refusals_write_nothing(world, users) -> None:
    stranger = world.agent(groups=(world.group(),))  # rw on a group owning no queue
    world.ticket("Raw")
    with pytest.raises(NoEligibleQueue, match="may take tickets from no pool queue"):
        world.pool.service.enter(stranger, "tab")
    assert world.pool.sessions.session(stranger) is None and world.pool.sessions.waiting() == []
    agent = world.agent(groups=(users,))
    holding = world.pool.service.enter(agent, "laptop").ticket.ticket_id
    with pytest.raises(SessionBusy, match="in another session"):
        world.pool.service.enter(agent, "phone")  # a bot's second session
    with pytest.raises(SessionBusy):
        world.pool.service.leave(agent, "phone")
    assert world.pool.sessions.session(agent).id == "laptop" and world.holder(holding) == agent
    with pytest.raises(ValidationError, match="session_id"):
        world.pool.service.enter(agent, "")
    assert len(world.lock_history()) == 2  # the one hand-over: Lock + OwnerUpdate


def test_leaving_right_after_a_reply_keeps_the_answered_ticket(world, users) -> None:
    agent = world.agent(groups=(users,))
    ticket = world.ticket("Raw")
    world.pool.service.enter(agent, "tab")
    world.reply(agent, ticket)  # committed, but no tailer has told the pool yet
    world.pool.service.leave(agent, "tab")
    assert world.holder(ticket) == agent and world.lock_history([ticket])[-1][1] == "OwnerUpdate"
    with world.engine.connect() as conn:
        assert world.pool.assignments.of_agent(conn, agent)[0].release_reason == "replied"


def test_closing_frees_the_agent_and_the_unlock_after_it_settles_the_hold(world, users) -> None:
    agent = world.agent(groups=(users,))
    spam, real = world.ticket("Raw", age_hours=2), world.ticket("Raw", age_hours=1)
    world.tail()
    world.pool.service.enter(agent, "tab")
    world.tickets.set_state(agent, spam, "closed successful")  # no reply: spam
    world.wait(lambda: _current(world, agent) == real, "the next ticket after the close")
    assert world.holder(spam) == agent and (agent, spam, "penalty", "-33.00") not in world.ledger()
    world.tickets.unlock(agent, spam)  # as OTRS's close screen does right after
    world.wait(lambda: _has(world, (agent, spam, "penalty", "-33.00")), "the penalty of the unanswered close")
