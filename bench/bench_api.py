"""Benchmark ticket creation through the API as served by ``otrs-ext serve`` (gunicorn, gthread workers).

    .venv/bin/python bench/bench_api.py
    .venv/bin/python bench/bench_api.py --tickets 200 --clients 1 4 8 --seconds 10 --workers 2 --threads 8

Starts its own mariadbd and redis-server in a temp dir, a fresh Znuny 7.1 database with otrs-ext's tables, an
agent with rights on the standard queues and an agent API key, then ``otrs-ext serve`` as a child process.
Measures, for /api/v1/tickets and for the GenericInterface route (``POST .../Webservice/<name>/Ticket``, the
call the baseline made), without and with a 100 KB attachment:

* latency p50/p99 of sequential creates (one client, keep-alive);
* tickets/s with N concurrent clients for ``--seconds`` each;
* time from sending the request until the ticket row, its article and the attachment are readable in the OTRS
  tables from another connection (polled every 2 ms).

Ticket numbers keep OTRS's 50 ms settle pause (kept for interop, see tickets/numbers.py); the API draws them ahead
in batches, one pause per batch (OTRS_EXT_TICKET_NUMBER_POOL, tickets/number_pool.py). MariaDB runs as the test
harness starts it (``innodb_flush_log_at_trx_commit=2``, binlog without sync: no fsync per commit), the client
shares the machine. Prints the results beside the baseline.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import requests
from sqlalchemy import Engine, create_engine, text

from otrs_ext.api.keys import ApiKeys
from otrs_ext.db import migrate
from otrs_ext.localservices import MariaDBServer, RedisServer
from otrs_ext.settings import Settings
from schema_maps.install import install

GENERATION = "znuny71"
GI_PATH = "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST/Ticket"
ATTACHMENT = os.urandom(100 * 1024)
BASELINE = {"p50": 120.0, "seq": 8.0, 4: 23.0}  # Znuny 7.0 GI TicketCreate, Starman 4 workers (§13 item 10)


def _prepare(engine: Engine) -> int:
    """Schema, otrs-ext tables and an agent with rw on group users; returns the agent's id."""
    with engine.begin() as conn:
        install(conn, GENERATION)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (login, pw, first_name, last_name, valid_id, create_time, create_by, "
                          "change_time, change_by) VALUES ('bench', '', 'Bench', 'Agent', 1, NOW(), 1, NOW(), 1)"))
        agent_id = conn.execute(text("SELECT id FROM users WHERE login = 'bench'")).scalar_one()
        conn.execute(text("INSERT INTO group_user (user_id, group_id, permission_key, create_time, create_by, "
                          "change_time, change_by) SELECT :a, id, 'rw', NOW(), 1, NOW(), 1 FROM permission_groups "
                          "WHERE name = 'users'"), {"a": agent_id})
    return agent_id


def _body(route: str, i: int, attach: bool) -> dict[str, Any]:
    content = base64.b64encode(ATTACHMENT).decode() if attach else None
    if route == "v1":
        body: dict[str, Any] = {"title": f"bench {i}", "queue": "Raw", "customer_user": "bench@example.test",
                                "article": {"subject": "bench", "body": "benchmark ticket " * 20}}
        if content:
            body["attachments"] = [{"filename": "blob.bin", "content": content}]
        return body
    body = {"Ticket": {"Title": f"bench {i}", "Queue": "Raw", "State": "new", "Priority": "3 normal",
                       "CustomerUser": "bench@example.test"},
            "Article": {"Subject": "bench", "Body": "benchmark ticket " * 20,
                        "ContentType": "text/plain; charset=utf8"}}
    if content:
        body["Attachment"] = [{"Content": content, "ContentType": "application/octet-stream", "Filename": "blob.bin"}]
    return body


def _create(session: requests.Session, base: str, route: str, i: int, attach: bool) -> int:
    url = base + ("/api/v1/tickets" if route == "v1" else GI_PATH)
    response = session.post(url, json=_body(route, i, attach), timeout=60)
    data = response.json()
    if response.status_code not in (200, 201) or "Error" in data:
        raise RuntimeError(f"create failed: {response.status_code} {data}")
    return int(data["id"] if route == "v1" else data["TicketID"])


def _visible(engine: Engine, ticket_id: int, attach: bool) -> bool:
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT (SELECT COUNT(*) FROM ticket WHERE id = :t), (SELECT COUNT(*) FROM article WHERE ticket_id = :t), "
            "(SELECT COUNT(*) FROM article_data_mime_attachment m JOIN article a ON a.id = m.article_id "
            "WHERE a.ticket_id = :t)"), {"t": ticket_id}).one()
    return row[0] == 1 and row[1] >= 1 and (row[2] >= 1 or not attach)


def sequential(base: str, headers: dict[str, str], engine: Engine, route: str, attach: bool,
               tickets: int) -> dict[str, float]:
    session = requests.Session()
    session.headers.update(headers)
    _create(session, base, route, -1, attach)  # warm up the worker's pools and caches
    latencies, visible = [], []
    for i in range(tickets):
        started = time.perf_counter()
        ticket_id = _create(session, base, route, i, attach)
        latencies.append(time.perf_counter() - started)
        while not _visible(engine, ticket_id, attach):
            time.sleep(0.002)
        visible.append(time.perf_counter() - started)
    latencies.sort()
    visible.sort()
    return {"p50": statistics.median(latencies) * 1000, "p99": latencies[max(0, int(len(latencies) * .99) - 1)] * 1000,
            "rate": len(latencies) / sum(latencies), "visible_p50": statistics.median(visible) * 1000,
            "visible_max": visible[-1] * 1000}


def concurrent(base: str, headers: dict[str, str], route: str, attach: bool, clients: int, seconds: float) -> float:
    counts = [0] * clients
    errors: list[str] = []
    barrier = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        session = requests.Session()
        session.headers.update(headers)
        barrier.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            try:
                _create(session, base, route, n * 1_000_000 + counts[n], attach)
                counts[n] += 1
            except Exception as error:  # noqa: BLE001 - reported below: a benchmark with failures is no benchmark
                errors.append(str(error))
                return

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} client(s) failed, first: {errors[0]}")
    return sum(counts) / elapsed


def serve(settings: Settings, port: int, workers: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings.environ(), "OTRS_EXT_LOG_LEVEL": "WARNING"}
    exe = Path(sys.executable).with_name("otrs-ext")
    process = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                                str(workers), "--threads", str(threads)], env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"otrs-ext serve exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("otrs-ext serve did not answer /healthz within 60 s")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100, help="sequential creates per case")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per concurrent run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--routes", nargs="+", choices=("v1", "gi"), default=["v1", "gi"])
    args = parser.parse_args()

    base_dir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    mariadb, redis_server = MariaDBServer(base_dir / "mariadb"), RedisServer(base_dir / "redis")
    process = None
    try:
        mariadb.start()
        redis_server.start()
        mariadb.create_database("otrs")
        engine = create_engine(mariadb.url("otrs"), pool_size=2)
        agent_id = _prepare(engine)
        key = ApiKeys(engine).create("agent", name="bench", agent_id=agent_id, rate_per_minute=1_000_000)
        (base_dir / "otrs" / "var" / "tmp").mkdir(parents=True)
        settings = Settings(db_url=mariadb.url("otrs"), redis_url=redis_server.url, search_url="mysql://127.0.0.1:9",
                            otrs_home=base_dir / "otrs", state_dir=base_dir / "state").validate()
        port = _free_port()
        process = serve(settings, port, args.workers, args.threads, base_dir / "serve.log")
        url, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
        print(f"otrs-ext serve: {args.workers} workers x {args.threads} threads, mariadbd {mariadb.port}, "
              f"{os.cpu_count()} cores; {args.tickets} sequential creates per case, {args.seconds:g} s per "
              "concurrent run")
        head = f"{'route':<5} {'attachment':<10} {'p50 ms':>7} {'p99 ms':>7} {'seq t/s':>8} " + "".join(
            f"{f'{c} cl t/s':>10}" for c in args.clients) + f" {'visible p50':>11} {'visible max':>11}"
        print(head)
        for route in args.routes:
            for attach in (False, True):
                seq = sequential(url, headers, engine, route, attach, args.tickets)
                rates = [concurrent(url, headers, route, attach, c, args.seconds) for c in args.clients]
                print(f"{route:<5} {'100 KB' if attach else 'none':<10} {seq['p50']:>7.1f} {seq['p99']:>7.1f} "
                      f"{seq['rate']:>8.1f} " + "".join(f"{r:>10.1f}" for r in rates)
                      + f" {seq['visible_p50']:>8.1f} ms {seq['visible_max']:>8.1f} ms", flush=True)
        print(f"{'Znuny':<5} {'none':<10} {BASELINE['p50']:>7.1f} {'':>7} {BASELINE['seq']:>8.1f} " + "".join(
            f"{BASELINE.get(c, float('nan')):>10.1f}" if c in BASELINE else f"{'-':>10}" for c in args.clients)
              + "   baseline: Znuny 7.0 GI TicketCreate, Starman 4 workers, same machine kind (§13 item 10)")
        engine.dispose()
    except Exception:
        log = base_dir / "serve.log"
        if log.exists():  # the server's side of a failure is in its log, which is removed below
            print("--- otrs-ext serve log (tail) ---\n" + log.read_text(errors="replace")[-6000:], file=sys.stderr)
        raise
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        redis_server.stop()
        mariadb.stop()
        shutil.rmtree(base_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
