"""The ticket core's pool operations against Znuny's own code: ``claim`` writes what the lock screen writes
(TicketLockSet lock, then TicketOwnerSet to the agent), ``release`` what its unlock writes."""

from __future__ import annotations

from scenarios import AGENT, ticket_op

LATER = {"op": "AddSeconds", "Seconds": 60}


def _op(name: str, **params: object) -> dict[str, object]:
    return {"op": name, "TicketID": "$t", "UserID": AGENT, **params}


def test_claim_writes_what_the_lock_screen_writes(oracle) -> None:
    diff = oracle.scenario(
        [LATER, _op("TicketLockSet", Lock="lock"), _op("TicketOwnerSet", NewUserID=AGENT)],
        lambda core: (core.advance(60), core.service.claim(AGENT, core.ref("t"))),
        setup=[ticket_op()], daemon=True)
    assert diff == []


def test_release_writes_what_the_unlock_screen_writes(oracle) -> None:
    diff = oracle.scenario(
        [LATER, _op("TicketLockSet", Lock="unlock")],
        lambda core: (core.advance(60), core.service.release(AGENT, core.ref("t"))),
        setup=[ticket_op(), _op("TicketLockSet", Lock="lock"), _op("TicketOwnerSet", NewUserID=AGENT)], daemon=True)
    assert diff == []
