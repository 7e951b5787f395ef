"""The ledger's reads and the heads' adjustments: balances with what is pending, the monthly report per agent and
department, and the refusals (not a head, another department's agent, bad input), which write nothing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from otrs_ext.errors import PermissionDenied, ValidationError
from otrs_ext.pool.ledger import month_range

MONTH, OTHER = datetime(2026, 11, 10, 9, 30), datetime(2026, 10, 31, 23, 59)


@pytest.fixture
def org(world):
    sales, support, admin = world.group("sales"), world.group("support"), world.group_id("admin")
    world.queue(sales, "Sales"), world.queue(support, "Support")
    people = {
        "seller": world.agent("seller", groups=(sales,)),
        "helper": world.agent("helper", role=world.role(support)),
        "chief": world.agent("chief", groups=(admin,)),  # head of support, no department: all of them
        "sales_head": world.agent("sales_head", groups=(admin, sales)),
        "plain": world.agent("plain", groups=(sales,)),
    }
    ledger = world.pool.ledger
    with world.engine.begin() as conn:
        def add(agent: str, kind: str, points: str, when: datetime, n: int, credit: int | None = None) -> int | None:
            return ledger.add(conn, agent_id=people[agent], ticket_id=100 + n, kind=kind, points=Decimal(points),
                              reason="test", event_id=f"e{n}", occurred_at=when, credit_id=credit)
        first = add("seller", "credit", "10", MONTH, 1)
        add("seller", "confirm", "10", MONTH, 2, first)
        second = add("seller", "credit", "8", MONTH, 3)
        add("seller", "penalty", "-24", MONTH, 4, second)
        add("seller", "credit", "6", MONTH, 5)  # still pending
        add("helper", "credit", "9", MONTH, 6)
        add("helper", "credit", "50", OTHER, 7)  # last month
        assert add("helper", "credit", "9", MONTH, 6) is None  # the same event again writes nothing
    return people


def test_balances_count_what_is_settled_and_show_what_is_pending(world, org) -> None:
    start, end = month_range("2026-11")
    seller = world.pool.ledger.balance(org["seller"], start, end)
    assert (seller.confirmed, seller.penalties, seller.pending, seller.total) == (
        Decimal(10), Decimal(-24), Decimal(6), Decimal(-14))
    assert world.pool.ledger.balance(org["helper"]).pending == Decimal(59)  # all time
    assert [e.kind for e in world.pool.ledger.entries(org["seller"], "2026-11")] == [
        "credit", "confirm", "credit", "penalty", "credit"]


def test_monthly_report_per_agent_and_department(world, org) -> None:
    report = world.pool.ledger.report("2026-11")
    lines = {line.login: line for line in report.agents}
    assert set(lines) == {"seller", "helper"}
    assert lines["seller"].departments == ("sales",) and lines["helper"].departments == ("support",)
    assert lines["seller"].balance.total == Decimal(-14) and lines["seller"].entries == 5
    departments = {d.name: d for d in report.departments}
    assert set(departments) == {"sales", "support", "users"}  # the groups owning the pool queues
    assert (departments["sales"].agents, departments["sales"].total, departments["sales"].pending) == (
        1, Decimal(-14), Decimal(6))
    assert (departments["support"].total, departments["support"].pending) == (Decimal(0), Decimal(9))
    scoped = world.pool.ledger.report("2026-11", head_id=org["sales_head"])
    assert [line.login for line in scoped.agents] == ["seller"] and [d.name for d in scoped.departments] == ["sales"]
    assert len(world.pool.ledger.report("2026-11", head_id=org["chief"]).agents) == 2
    with pytest.raises(PermissionDenied, match="not a head of support"):
        world.pool.ledger.report("2026-11", head_id=org["plain"])
    with pytest.raises(ValidationError, match="use YYYY-MM"):
        world.pool.ledger.report("2026-13")


def test_adjustments_by_heads_within_their_departments(world, org) -> None:
    ledger = world.pool.ledger
    before = len(ledger.entries())
    with pytest.raises(PermissionDenied, match="'plain' is not a head of support.*OTRS_EXT_POOL_HEADS_GROUP"):
        ledger.adjust(org["plain"], org["seller"], 5, "well done")
    with pytest.raises(PermissionDenied, match="in none of the departments of head 'sales_head'"):
        ledger.adjust(org["sales_head"], org["helper"], 5, "well done")
    with pytest.raises(ValidationError) as bad:
        ledger.adjust(org["chief"], org["seller"], "1.234", " \x07 ")
    assert [path for path, _ in bad.value.problems] == ["points", "reason"]
    for points in ("ten", 0, "NaN", 10**6):
        with pytest.raises(ValidationError, match="points"):
            ledger.adjust(org["chief"], org["seller"], points, "why")
    assert len(ledger.entries()) == before  # nothing written by any refusal
    entry = ledger.adjust(org["sales_head"], org["seller"], "-2.5", "rude to a customer", key="req-1")
    again = ledger.adjust(org["sales_head"], org["seller"], "-2.5", "rude to a customer", key="req-1")
    assert entry == again and (entry.kind, entry.points, entry.by_agent_id) == (
        "adjust", Decimal("-2.50"), org["sales_head"])
    ledger.adjust(org["chief"], org["helper"], 3, "covered a night shift")
    assert len(ledger.entries()) == before + 2
    assert ledger.balance(org["seller"]).adjustments == Decimal("-2.50")
