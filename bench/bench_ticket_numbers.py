"""Benchmark ticket-number allocation (``TicketNumbers.allocate``) with 1, 4 and 16 concurrent processes.

    .venv/bin/python bench/bench_ticket_numbers.py
    .venv/bin/python bench/bench_ticket_numbers.py --seconds 10 --processes 1 4 16 32 --generator Date

Starts its own mariadbd in a temp dir and, per run, a fresh Znuny 7.1 database. Every process draws numbers
back to back for ``--seconds`` with OTRS's 50 ms pause after the counter INSERT (the pause is the floor: one
process cannot exceed ~20 numbers/s, as in OTRS). Prints numbers/s beside what OTRS itself achieved for a
whole GenericInterface TicketCreate (OTRS_INTERNALS §13 item 10), of which drawing the number is one part.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from sqlalchemy import create_engine, func, select

import schema_maps
from otrs_ext.localservices import MariaDBServer
from otrs_ext.tickets.numbers import GENERATORS, TicketNumbers
from schema_maps.install import install

GENERATION = "znuny71"
OTRS_BASELINE = ("OTRS baseline (§13 item 10, a whole GI TicketCreate, Starman 4 workers on 2 cores): "
                 "8 tickets/s sequential, ~23 tickets/s with 4 clients")


def worker(url: str, generator: str, seconds: float, barrier: Any, results: Any) -> None:
    """Draw numbers until the deadline; report (tns, latencies in seconds)."""
    engine = create_engine(url)  # pooled, as in production: allocate() borrows a connection each time
    numbers = TicketNumbers(engine, schema_maps.load(GENERATION), generator=generator)
    tns: list[str] = []
    latencies: list[float] = []
    barrier.wait(timeout=120)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        tns.append(numbers.allocate())
        latencies.append(time.perf_counter() - started)
    engine.dispose()
    results.put((tns, latencies))


def run(server: MariaDBServer, processes: int, seconds: float, generator: str) -> dict[str, Any]:
    database = f"bench_tn_{processes}"
    server.drop_database(database)
    server.create_database(database)
    url = server.url(database)
    engine = create_engine(url)
    with engine.begin() as conn:
        install(conn, GENERATION)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(processes + 1), ctx.Queue()
    workers = [ctx.Process(target=worker, args=(url, generator, seconds, barrier, results))
               for _ in range(processes)]
    for process in workers:
        process.start()
    barrier.wait(timeout=120)  # every worker has imported and connected; the clock starts now
    started = time.perf_counter()
    reports = [results.get(timeout=seconds + 120) for _ in workers]
    elapsed = time.perf_counter() - started
    for process in workers:
        process.join()
    tns = [tn for drawn, _ in reports for tn in drawn]
    latencies = sorted(lat for _, lats in reports for lat in lats)
    counter = schema_maps.load(GENERATION).tables.ticket_number_counter
    with engine.connect() as conn:
        unnumbered = conn.execute(select(func.count()).where(counter.c.counter == 0)).scalar_one()
    engine.dispose()
    server.drop_database(database)
    return {
        "processes": processes, "numbers": len(tns), "seconds": elapsed, "rate": len(tns) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else 0.0,
        "unique": len(set(tns)) == len(tns), "unnumbered": unnumbered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per run")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--generator", choices=GENERATORS, default="DateChecksum")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="bench-tn-"))
    server = MariaDBServer(base)
    server.start()
    try:
        print(f"{args.generator}, OTRS's 50 ms pause, {args.seconds:g} s per run, mariadbd on {server.port}")
        print(f"{'processes':>9} {'numbers':>8} {'numbers/s':>10} {'p50 ms':>7} {'p95 ms':>7}"
              "  unique  unnumbered")
        for processes in args.processes:
            r = run(server, processes, args.seconds, args.generator)
            print(f"{r['processes']:>9} {r['numbers']:>8} {r['rate']:>10.1f} {r['p50']:>7.1f}"
                  f" {r['p95']:>7.1f}  {'yes' if r['unique'] else 'NO':>6}  {r['unnumbered']:>10}")
        print(OTRS_BASELINE)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
