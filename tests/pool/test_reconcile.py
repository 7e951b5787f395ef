"""Reconcile: the ledger recomputed from ticket_history agrees with what the handler wrote from the binlog, and a
missing or altered entry shows up as a difference."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from support import otrs_ui


def test_the_ledger_agrees_with_ticket_history_and_differences_are_shown(world) -> None:
    users = world.group_id("users")
    agent, other = world.agent(groups=(users,)), world.agent(groups=(users,))
    answered, dodged, timed_out, elsewhere = (world.ticket("Raw", age_hours=h) for h in (4, 3, 2, 1))
    outside = world.ticket("Junk", age_hours=9)  # not a pool queue: no points, no entries
    world.tail()
    assert world.pool.service.enter(agent, "tab").ticket.ticket_id == answered
    world.reply(agent, answered)
    world.wait(lambda: getattr(world.pool.service.status(agent).ticket, "ticket_id", None) == dodged,
               "the second ticket")
    world.pool.service.leave(agent, "tab")  # unanswered: unlocked, penalty
    otrs_ui.lock_screen(world.engine, world.schema, timed_out, other)
    otrs_ui.unlock_timeout(world.engine, world.schema, timed_out)
    otrs_ui.lock_screen(world.engine, world.schema, outside, other)
    otrs_ui.lock_screen(world.engine, world.schema, elsewhere, other)
    world.reply(other, elsewhere)
    kinds = ["credit", "confirm", "credit", "penalty", "credit", "penalty", "credit", "confirm"]
    world.wait(lambda: [k for _, _, k, _ in world.ledger()] == kinds, "the ledger of the afternoon")
    start, end = datetime.now() - timedelta(days=1), datetime.now() + timedelta(days=1)
    result = world.pool.reconciler.run(start, end)
    assert result.clean, result.differences
    assert (result.expected, result.found) == (8, 8)
    with world.engine.begin() as conn:
        conn.execute(text("DELETE FROM otrs_ext_points_ledger WHERE kind = 'confirm' AND ticket_id = :t"),
                     {"t": elsewhere})
        conn.execute(text("UPDATE otrs_ext_points_ledger SET points = -1 WHERE kind = 'penalty' AND ticket_id = :t"),
                     {"t": dodged})
    differences = world.pool.reconciler.run(start, end).differences
    assert [(d.ticket_id, d.agent_id, d.kind, d.expected, d.found) for d in differences] == [
        (elsewhere, other, "confirm", 1, 0), (dodged, agent, "penalty", 1, 1)]
    assert "calls for -" in differences[1].detail
