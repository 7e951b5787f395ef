"""Ticket numbers drawn ahead: a create takes one at once, and a number never carries a past day."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from otrs_ext.tickets.number_pool import NumberPool
from otrs_ext.tickets.numbers import TicketNumbers, is_date_checksum


def _wait_full(pool: NumberPool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not pool._ready.full() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pool._ready.full()


def test_pooled_numbers_come_without_the_counter_pause_and_stay_unique(ticket_core) -> None:
    core = ticket_core("znuny71")
    numbers = TicketNumbers(core.engine, core.schema)  # real clock and OTRS's 50 ms pause
    pool = NumberPool(numbers, 4)
    try:
        _wait_full(pool)
        started = time.perf_counter()
        pooled = [pool.allocate() for _ in range(4)]
        assert time.perf_counter() - started < 0.05  # four numbers faster than one drawn on the spot
        drawn = [pool.allocate() for _ in range(6)]  # past the pool: drawn now, still unique
    finally:
        pool.close()
    everything = pooled + drawn
    assert len(set(everything)) == 10 and all(is_date_checksum(tn) for tn in everything)
    with core.engine.connect() as conn:
        counters = conn.execute(select(func.count()).select_from(core.schema.tables.ticket_number_counter)).scalar()
    assert counters >= 10  # every number has its counter row, as OTRS's own


def test_numbers_of_a_past_day_are_dropped(ticket_core) -> None:
    core = ticket_core("znuny71")
    now = [datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC)]
    pool = NumberPool(TicketNumbers(core.engine, core.schema, clock=lambda: now[0], sleep=lambda s: None), 3)
    try:
        _wait_full(pool)
        now[0] += timedelta(seconds=2)  # midnight passed while the numbers waited
        tn = pool.allocate()
    finally:
        pool.close()
    assert tn.startswith("20261127")
