"""Benchmark the pool's eligibility queries: an agent's first ticket and a ticket's price, with EXPLAIN.

    .venv/bin/python bench/bench_pool_eligibility.py --tickets 150000 --open 100000
    .venv/bin/python bench/bench_pool_eligibility.py --db-url mysql+pymysql://...   # an existing seeded database

Starts a private mariadbd (unless --db-url), seeds Znuny 7.1 tickets (1 article each), then makes ``--open`` of
them open and unlocked (the seed closes most old tickets; the pool's worst case is a large open backlog) and, for
seeded agents with one, several and every department, prints the statements' EXPLAIN and the p50/p99 of
``Eligibility.first`` (the dispatcher's query) and ``Eligibility.price`` (the handler's, on a lock) beside the
baseline: the same list read the way a polling client would, every open unlocked ticket of the agent's queues
(OTRS's queue view without a page limit, then sorted).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from sqlalchemy import Engine, create_engine, text

import schema_maps
from otrs_ext.db import migrate
from otrs_ext.localservices import MariaDBServer
from otrs_ext.pool.config import PoolConfig
from otrs_ext.pool.eligibility import Eligibility
from otrs_ext.seed import run_seed
from otrs_ext.tickets.permissions import Permissions
from schema_maps import OtrsSchema
from schema_maps.install import install

GENERATION = "znuny71"


def timed(call: Callable[[], None], runs: int) -> tuple[float, float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return statistics.median(seconds) * 1000, seconds[int(len(seconds) * 0.99) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=150_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--layout", nargs="+", choices=("spread", "newest"), default=["spread", "newest"],
                        help="spread: the open tickets drawn from all ages; newest: the newest ones open, every "
                             "older one closed (the backlog of a real helpdesk, the create_time index's worst case)")
    parser.add_argument("--db-url", help="use this seeded database instead of seeding a private one")
    args = parser.parse_args()
    schema = schema_maps.load(GENERATION)
    with tempfile.TemporaryDirectory(prefix="bench-pool-") as tmp:
        mariadb = None
        if args.db_url:
            engine = create_engine(args.db_url)
        else:
            mariadb = MariaDBServer(Path(tmp) / "mariadb", innodb_buffer_pool_size="1G")
            mariadb.start()
            mariadb.create_database("bench")
            engine = create_engine(mariadb.url("bench"))
            with engine.begin() as conn:
                install(conn, GENERATION)
            migrate.upgrade(engine)
            report = run_seed(engine, schema, tickets=args.tickets, articles_per_ticket=1, seed=1, progress=True)
            print(report.summary().splitlines()[0])
        try:
            for layout in args.layout:
                measure(engine, schema, layout, args.open, args.runs)
        finally:
            engine.dispose()
            if mariadb is not None:
                mariadb.stop()


def measure(engine: Engine, schema: OtrsSchema, layout: str, count: int, runs: int) -> None:
    """Open ``count`` tickets laid out as ``layout`` and time the queries of two agents."""
    with engine.begin() as conn:
        order = "RAND(1)" if layout == "spread" else "create_time DESC, id DESC"
        conn.execute(text("UPDATE ticket SET ticket_state_id = (SELECT id FROM ticket_state WHERE name = "
                          "'closed successful')"))
        conn.execute(text(
            "UPDATE ticket SET ticket_state_id = (SELECT id FROM ticket_state WHERE name = 'open'), "
            f"ticket_lock_id = 1 WHERE id IN (SELECT id FROM (SELECT id FROM ticket ORDER BY {order} "
            "LIMIT :n) chosen)"), {"n": count})
        conn.execute(text("ANALYZE TABLE ticket"))
        total, opened = conn.execute(text(
            "SELECT COUNT(*), SUM(ticket_state_id IN (1, 4) AND ticket_lock_id = 1) FROM ticket")).one()
        print(f"\n== layout {layout}: tickets: {total:,}, open (new/open) and unlocked: {int(opened):,}")
        agents = conn.execute(text(
            "SELECT u.id, u.login, COUNT(DISTINCT q.id) FROM users u "
            "JOIN role_user ru ON ru.user_id = u.id JOIN group_role gr ON gr.role_id = ru.role_id "
            "JOIN queue q ON q.group_id = gr.group_id WHERE gr.permission_key = 'rw' "
            "GROUP BY u.id, u.login ORDER BY 3 DESC, u.id")).all()
        agents = [agents[0], agents[-1]]  # the most queues and the fewest
    eligibility = Eligibility(schema, Permissions(schema), PoolConfig())
    for agent_id, login, queues in agents:
        with engine.connect() as conn:
            mine = eligibility.agent_queues(conn, agent_id)
            query = eligibility.eligible_query(conn, list(mine), 1)
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = conn.execute(text("EXPLAIN " + sql)).mappings().all()
            analyzed = conn.execute(text("ANALYZE " + sql)).mappings().all()
            first = eligibility.first(conn, agent_id)
            target = eligibility.tickets(conn, agent_id, limit=7)[-1]
            backlog = conn.execute(text(
                f"SELECT COUNT(*) FROM ticket WHERE queue_id IN ({', '.join(map(str, mine))}) "
                "AND ticket_state_id IN (1, 4) AND ticket_lock_id = 1")).scalar_one()
        print(f"\nagent {login} ({queues} queues, {backlog:,} eligible tickets); first = ticket {first.ticket_id}")
        for row in plan:
            print(f"  EXPLAIN: table={row['table']} type={row['type']} key={row['key']} rows={row['rows']} "
                  f"extra={row['Extra']}")
        for row in analyzed:
            print(f"  ANALYZE: r_rows={row['r_rows']} r_filtered={row['r_filtered']}")

        def first_ticket(agent_id: int = agent_id) -> None:
            with engine.connect() as conn:
                eligibility.first(conn, agent_id)

        def price(agent_id: int = agent_id, ticket_id: int = target.ticket_id) -> None:
            with engine.connect() as conn:
                eligibility.price(conn, agent_id, ticket_id)

        def polling(ids: str = ", ".join(map(str, mine))) -> None:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    f"SELECT id, tn, title, create_time FROM ticket WHERE queue_id IN ({ids}) "
                    "AND ticket_state_id IN (1, 4) AND ticket_lock_id = 1")).all()
                sorted(rows, key=lambda r: (r.create_time, r.id))

        for name, call, n in (("first (dispatch)", first_ticket, runs), ("price (lock)", price, runs),
                              ("baseline: whole list", polling, max(5, runs // 20))):
            p50, p99 = timed(call, n)
            print(f"  {name:22} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")


if __name__ == "__main__":
    main()
