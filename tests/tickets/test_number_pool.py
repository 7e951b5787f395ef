"""Ticket numbers drawn ahead: a create takes one at once, and a number never carries a past day."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from otrs_ext.tickets.number_pool import NumberPool
from otrs_ext.tickets.numbers import TicketNumbers, is_date_checksum


def _wait_full(pool: NumberPool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while pool.ready() < pool.size and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pool.ready() >= pool.size


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


def test_a_burst_past_the_pool_shares_the_counter_pauses(ticket_core) -> None:
    """Twenty creates at once from a pool of two: they wait for batches instead of each drawing its own
    number with its own pause, and still every number is distinct and has its counter row."""
    core = ticket_core("znuny71")
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        time.sleep(seconds)

    pool = NumberPool(TicketNumbers(core.engine, core.schema, sleep=pause), 2)
    got: list[str] = []
    try:
        _wait_full(pool)
        pauses.clear()
        threads = [threading.Thread(target=lambda: got.append(pool.allocate())) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        pool.close()
    assert len(got) == len(set(got)) == 20 and all(is_date_checksum(tn) for tn in got)
    assert len(pauses) < 10  # one pause per number drawn on the spot would be 18
    with core.engine.connect() as conn:
        t = core.schema.tables.ticket_number_counter
        assert conn.execute(select(func.count()).select_from(t).where(t.c.counter == 0)).scalar() == 0
