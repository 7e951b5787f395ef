"""50 processes drawing DateChecksum numbers from one counter table at once, some of them as OTRS itself.

Every creator is its own OS process with its own database session (``forkserver`` start method: a clean
server process imports the modules once, so 50 children start in milliseconds instead of 50 fresh
interpreters; nothing of pytest's process, such as open connections, is inherited). They wait at a barrier,
then each draws ``PER_CREATOR`` numbers with OTRS's 50 ms pause; every fifth creator runs OTRS's own
counter steps in raw SQL (``OtrsCounter``) instead of ``TicketNumbers``, and two in five draw theirs in one
batch (``allocate_many``, as the API's number pool does). All numbers must differ and together
cover the day's counter 1..N without a hole, and no unnumbered counter row may remain.
"""

from __future__ import annotations

import multiprocessing
import queue
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, select
from test_numbers import OtrsCounter, autocommit_dbapi

import schema_maps
from otrs_ext.tickets.numbers import TicketNumbers, date_checksum_number

CREATORS = 50
PER_CREATOR = 4
OTRS_EVERY = 5  # creators 0, 5, 10, ... play OTRS; 1, 2, 6, 7, ... draw in batches
MOMENT = datetime(2025, 11, 25, 20, 0, 0, tzinfo=UTC)


def _creator(url: str, index: int, barrier: Any, results: Any) -> None:
    """One process: connect, wait for everyone, draw PER_CREATOR numbers, report them (or the error)."""
    engine = create_engine(url)  # pooled, as in production: allocate() borrows a connection each time
    kind = "otrs" if index % OTRS_EVERY == 0 else "batch" if index % OTRS_EVERY in (1, 2) else "ours"
    try:
        numbers = TicketNumbers(engine, schema_maps.load("znuny71"), clock=lambda: MOMENT)
        dbapi = autocommit_dbapi(engine) if kind == "otrs" else None
        barrier.wait(timeout=60)
        drawn: list[str] = []
        while kind == "batch" and len(drawn) < PER_CREATOR:  # a twinned number is dropped: ask again
            drawn += numbers.allocate_many(PER_CREATOR - len(drawn))
        for _ in range(PER_CREATOR if kind != "batch" else 0):
            if dbapi is not None:
                counter = OtrsCounter(dbapi, MOMENT.strftime("%Y-%m-%d %H:%M:%S")).add()
                drawn.append(date_checksum_number(MOMENT.strftime("%Y%m%d"), "10", counter))
            else:
                drawn.append(numbers.allocate())
        results.put((index, kind, drawn, None))
    except BaseException as exc:  # noqa: BLE001 - process edge: report to the parent instead of dying silently
        results.put((index, kind, [], repr(exc)))
    finally:
        engine.dispose()


def test_fifty_processes_get_distinct_gapless_numbers(otrs_database) -> None:
    engine = otrs_database("znuny71")
    url = engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("forkserver")
    # Python 3.11's forkserver ignores the parent's sys.path, so this module itself cannot be preloaded;
    # preloading what it imports (pytest included: children re-run pytest's __main__) is what saves time.
    ctx.set_forkserver_preload(["pytest", "pymysql", "sqlalchemy.dialects.mysql.pymysql", "schema_maps",
                                "otrs_ext.tickets.numbers", __name__])
    barrier, results = ctx.Barrier(CREATORS), ctx.Queue()
    processes = [ctx.Process(target=_creator, args=(url, i, barrier, results), daemon=True)
                 for i in range(CREATORS)]
    for process in processes:
        process.start()
    reports = []
    try:
        for _ in range(CREATORS):
            reports.append(results.get(timeout=60))
    except queue.Empty:
        pass
    for process in processes:
        process.join(10)
        if process.is_alive():
            process.kill()  # only our own children, by handle
    errors = [(index, error) for index, _, _, error in reports if error]
    assert not errors
    assert len(reports) == CREATORS

    tns = [tn for _, _, drawn, _ in reports for tn in drawn]
    total = CREATORS * PER_CREATOR
    assert len(set(tns)) == total == len(tns)
    assert sorted(int(tn[10:-1]) for tn in tns) == list(range(1, total + 1))
    assert all(tn == date_checksum_number("20251125", "10", int(tn[10:-1])) for tn in tns)
    assert {kind for _, kind, _, _ in reports} == {"otrs", "ours", "batch"}

    t = schema_maps.load("znuny71").tables.ticket_number_counter
    with engine.connect() as conn:
        counters = conn.execute(select(t.c.counter)).scalars().all()
    assert 0 not in counters
    assert set(counters) == set(range(1, total + 1))
