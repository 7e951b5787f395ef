"""Benchmark ``otrs-ext seed``: the bulk seeder against a naive row-by-row writer, on a private MariaDB.

    .venv/bin/python bench/bench_seed.py --tickets 20000 --articles-per-ticket 5
    .venv/bin/python bench/bench_seed.py --tickets 200000 --articles-per-ticket 5   # 1M articles

Starts its own mariadbd (ROW binlog, as otrs-ext runs it) in a temp dir, creates two Znuny 7.1 databases,
seeds the full run into one with ``run_seed`` and writes the *same* first K tickets (same seed, same clock,
same organisation) into the other one row at a time: one single-row INSERT per row in autocommit mode, the
way OTRS itself writes (no transactions). Prints both rates side by side and the speed-up.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from sqlalchemy import Engine, create_engine, func, select

from otrs_ext.localservices.mariadb import MariaDBServer
from otrs_ext.seed import run_seed
from otrs_ext.seed.runner import prepare
from schema_maps.install import install

GENERATION = "znuny71"


def naive(engine: Engine, tickets: int, baseline: int, mean: float, seed: int,
          now: datetime) -> tuple[int, int, float]:
    """Write the first ``baseline`` of ``tickets`` tickets row by row; return (articles, rows, seconds)."""
    with engine.begin() as conn:
        schema = install(conn, GENERATION)
    with engine.begin() as conn:  # the organisation is not part of the measurement
        plan = prepare(conn, schema, tickets=tickets, articles_per_ticket=mean, seed=seed, now=now)
    raw = engine.raw_connection()
    raw.autocommit(True)
    cursor = raw.cursor()
    articles = rows = 0
    statements: dict[str, str] = {}
    seconds = 0.0
    try:
        for _ in range(baseline):
            batch = plan.batch(1)  # generation is not timed, only the writes
            articles += len(batch.articles)
            started = time.perf_counter()
            for table, table_rows in batch.tables(schema, plan.article_ids):
                for row in table_rows:
                    key = table.name + ":" + ",".join(row)
                    sql = statements.get(key)
                    if sql is None:
                        columns = ",".join(f"`{c}`" for c in row)
                        marks = ",".join(["%s"] * len(row))
                        sql = statements[key] = f"INSERT INTO `{table.name}` ({columns}) VALUES ({marks})"
                    cursor.execute(sql, tuple(row.values()))
                    rows += 1
            seconds += time.perf_counter() - started
    finally:
        cursor.close()
        raw.close()
    return articles, rows, seconds


def _line(label: str, *cells: str) -> None:
    print(f"{label:<32}" + "".join(f"{c:>12}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--articles-per-ticket", type=float, default=5.0)
    parser.add_argument("--baseline-tickets", type=int, default=500,
                        help="how many of the first tickets the naive writer inserts row by row")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--buffer-pool", default="1G", help="innodb_buffer_pool_size of the private server")
    parser.add_argument("--durable", action="store_true",
                        help="innodb_flush_log_at_trx_commit=1 (MariaDB's default: fsync per commit), not 2")
    parser.add_argument("--keep", action="store_true", help="keep the server's data directory afterwards")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="otrs-ext-bench-seed-"))
    extra = ["--innodb-flush-log-at-trx-commit=1"] if args.durable else []
    server = MariaDBServer(base, innodb_buffer_pool_size=args.buffer_pool, extra_args=extra)
    started = time.perf_counter()
    server.start()
    print(f"mariadbd pid {server.pid} on 127.0.0.1:{server.port}, data in {base}, flush_log_at_trx_commit="
          f"{'1' if args.durable else '2'}, buffer pool {args.buffer_pool}", flush=True)
    try:
        server.create_database("bulk")
        server.create_database("naive")
        bulk = create_engine(server.url("bulk"))
        with bulk.begin() as conn:
            schema = install(conn, GENERATION)
            now = conn.execute(select(func.current_timestamp())).scalar_one()
        report = run_seed(bulk, schema, tickets=args.tickets, articles_per_ticket=args.articles_per_ticket,
                          seed=args.seed, progress=not args.no_progress, now=now)
        print(report.summary(), flush=True)
        k = min(args.baseline_tickets, args.tickets)
        n_articles, n_rows, n_seconds = naive(create_engine(server.url("naive")), args.tickets, k,
                                              args.articles_per_ticket, args.seed, now)
        # ticket rows only: the organisation is written once and is not part of either measurement
        bulk_rows = sum(v for name, v in report.counts.items() if name in report.table_seconds)
        naive_rate = n_articles / n_seconds if n_seconds else 0.0
        print()
        _line("writer", "tickets", "articles", "rows", "seconds", "articles/s", "rows/s")
        _line("bulk (run_seed, full run)", f"{report.tickets:,}", f"{report.articles:,}", f"{bulk_rows:,}",
              f"{report.seconds:.1f}", f"{report.articles_per_second:,.0f}",
              f"{bulk_rows / report.seconds:,.0f}")
        _line("naive (row by row, autocommit)", f"{k:,}", f"{n_articles:,}", f"{n_rows:,}",
              f"{n_seconds:.1f}", f"{naive_rate:,.0f}", f"{n_rows / n_seconds if n_seconds else 0:,.0f}")
        if naive_rate:
            speedup = report.articles_per_second / naive_rate
            minutes = report.articles / naive_rate / 60
            print(f"speed-up: {speedup:.1f}x articles/s; the naive writer would need {minutes:.1f} min "
                  "for the full run")
        total = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"total {total:.1f} s (server start, install, bulk run, naive baseline); "
              f"peak RSS of this Python process {peak:.0f} MB")
    finally:
        server.stop()
        if args.keep:
            print(f"data directory kept: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
