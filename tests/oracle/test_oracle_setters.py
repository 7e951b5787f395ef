"""Every ticket setter of the ticket core against Znuny's own method, on a ticket Znuny created (setup), one
minute later, as agent1; compared once OTRS's daemon has run the queued tasks (the tasks themselves are
compared in ``test_oracle_events.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from oracle_harness import ExtCore
from scenarios import AGENT, ticket_op

LATER = {"op": "AddSeconds", "Seconds": 60}
LOCK = {"op": "TicketLockSet", "TicketID": "$t", "Lock": "lock", "UserID": AGENT}
OWNER = {"op": "TicketOwnerSet", "TicketID": "$t", "NewUserID": AGENT, "UserID": AGENT}
INCIDENT = {"op": "Call", "Object": "Kernel::System::Type", "Method": "TypeAdd", "Name": "Incident", "ValidID": 1,
            "UserID": 1}
LONG_TITLE = "Printer on fire in room 4, second floor, east wing – again, the third time this month"


def _op(name: str, **params: Any) -> dict[str, Any]:
    return {"op": name, "TicketID": "$t", "UserID": AGENT, **params}


# id, extra setup ops (after the ticket create), Znuny ops, the same through otrs-ext
CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]], Callable[[ExtCore, int], Any]]] = [
    ("lock", [], [_op("TicketLockSet", Lock="lock")], lambda c, t: c.service.lock(AGENT, t)),
    ("unlock", [LOCK], [_op("TicketLockSet", Lock="unlock")], lambda c, t: c.service.unlock(AGENT, t)),
    ("lock-unchanged", [LOCK], [_op("TicketLockSet", Lock="lock", AllowFalse=1)],
     lambda c, t: c.service.lock(AGENT, t)),
    ("owner", [], [_op("TicketOwnerSet", NewUserID=AGENT)], lambda c, t: c.service.set_owner(AGENT, t, AGENT)),
    ("owner-back-to-admin", [OWNER], [_op("TicketOwnerSet", NewUserID=1)],
     lambda c, t: c.service.set_owner(AGENT, t, 1)),
    ("lock-and-owner", [], [_op("TicketLockSet", Lock="lock"), _op("TicketOwnerSet", NewUserID=AGENT)],
     lambda c, t: (c.service.lock(AGENT, t), c.service.set_owner(AGENT, t, AGENT))),
    ("responsible", [], [_op("TicketResponsibleSet", NewUserID=AGENT)],
     lambda c, t: c.service.set_responsible(AGENT, t, AGENT)),
    ("move", [], [_op("TicketQueueSet", Queue="Misc")], lambda c, t: c.service.move(AGENT, t, "Misc")),
    ("move-locked", [LOCK, OWNER], [_op("TicketQueueSet", Queue="Misc")],
     lambda c, t: c.service.move(AGENT, t, "Misc")),
    ("state-open", [], [_op("TicketStateSet", State="open")], lambda c, t: c.service.set_state(AGENT, t, "open")),
    ("state-closed", [], [_op("TicketStateSet", State="closed successful")],
     lambda c, t: c.service.set_state(AGENT, t, "closed successful")),
    ("state-closed-locked", [LOCK], [_op("TicketStateSet", State="closed unsuccessful")],
     lambda c, t: c.service.set_state(AGENT, t, "closed unsuccessful")),
    ("state-pending-reminder", [],
     [_op("TicketStateSet", State="pending reminder"), _op("TicketPendingTimeSet", String="2025-11-27 09:30:00")],
     lambda c, t: c.service.set_state(AGENT, t, "pending reminder", pending_until=datetime(2025, 11, 27, 9, 30))),
    ("state-pending-auto-close", [],
     [_op("TicketStateSet", State="pending auto close+"), _op("TicketPendingTimeSet", String="2025-12-01 18:00:00")],
     lambda c, t: c.service.set_state(AGENT, t, "pending auto close+", pending_until=datetime(2025, 12, 1, 18))),
    ("pending-then-open", [_op("TicketStateSet", State="pending reminder"),
                           _op("TicketPendingTimeSet", String="2025-11-27 09:30:00")],
     [_op("TicketStateSet", State="open")], lambda c, t: c.service.set_state(AGENT, t, "open")),
    ("pending-time-only", [_op("TicketStateSet", State="pending reminder")],
     [_op("TicketPendingTimeSet", String="2025-11-28 14:15:00")],
     lambda c, t: c.service.set_pending_time(AGENT, t, datetime(2025, 11, 28, 14, 15))),
    ("priority", [], [_op("TicketPrioritySet", Priority="5 very high")],
     lambda c, t: c.service.set_priority(AGENT, t, "5 very high")),
    ("priority-unchanged", [], [_op("TicketPrioritySet", Priority="3 normal", AllowFalse=1)],
     lambda c, t: c.service.set_priority(AGENT, t, "3 normal")),
    ("title", [], [_op("TicketTitleUpdate", Title="Printer fixed? Not yet – Grüße")],
     lambda c, t: c.service.set_title(AGENT, t, "Printer fixed? Not yet – Grüße")),
    ("title-long", [], [_op("TicketTitleUpdate", Title=LONG_TITLE)],
     lambda c, t: c.service.set_title(AGENT, t, LONG_TITLE)),
    ("title-cyrillic", [], [_op("TicketTitleUpdate", Title="Принтер горит в комнате 4")],
     lambda c, t: c.service.set_title(AGENT, t, "Принтер горит в комнате 4")),
    ("type", [INCIDENT], [_op("TicketTypeSet", Type="Incident")],
     lambda c, t: c.service.set_type(AGENT, t, "Incident")),
    ("customer", [], [_op("TicketCustomerSet", No="GLOBEX", User="hank@globex.test")],
     lambda c, t: c.service.set_customer(AGENT, t, "GLOBEX", "hank@globex.test")),
    ("customer-user-only", [], [_op("TicketCustomerSet", User="bob@acme.test")],
     lambda c, t: c.service.set_customer(AGENT, t, None, "bob@acme.test")),
    ("customer-id-only", [], [_op("TicketCustomerSet", No="ACME-EU")],
     lambda c, t: c.service.set_customer(AGENT, t, "ACME-EU", None)),
]


# Znuny's TicketEscalationIndexBuild (an event module) rewrites change_by with the mover after ForceUnlock's
# unlock as user 1 (issue 9 item 1).
MARKS: dict[str, Any] = {}


@pytest.mark.parametrize(("setup", "ops", "ext"),
                         [pytest.param(s, o, e, id=i, marks=MARKS.get(i, ())) for i, s, o, e in CASES])
def test_setter(oracle, setup, ops, ext) -> None:
    diff = oracle.scenario(
        [LATER, *ops],
        lambda core: (core.advance(60), ext(core, core.ref("t"))),
        setup=[ticket_op(), *setup], daemon=True)
    assert diff == []


def test_every_setter_of_an_afternoon_in_one_run(oracle) -> None:
    """A busy ticket: the setters one after the other, a minute apart, in one scenario."""
    ops: list[dict[str, Any]] = []
    steps: list[Callable[[ExtCore, int], Any]] = []
    for _, setup, znuny, ext in CASES:
        if setup or any(op.get("AllowFalse") for op in znuny) or _ in ("owner", "lock", "lock-and-owner"):
            continue
        ops += [LATER, *znuny]
        steps.append(ext)

    def run(core: ExtCore) -> None:
        for step in steps:
            core.advance(60)
            step(core, core.ref("t"))

    assert oracle.scenario(ops, run, setup=[ticket_op(), INCIDENT], daemon=True) == []
