"""Benchmark the ticket pool under a bot storm, beside OTRS-style polling of a ticket list.

    .venv/bin/python bench/bench_pool.py                                  # the issue's storm (100 agents, 60 s)
    .venv/bin/python bench/bench_pool.py --agents 10 --seconds 10         # a quick run

Starts its own mariadbd (ROW binlog) and redis-server in a temp dir, a fresh Znuny 7.1 database with otrs-ext's
tables, ``otrs-ext serve`` and ``otrs-ext tail`` (handler ``pool``) as child processes. Then, for ``--seconds``:

* ``--agents`` simulated agents enter the pool, listen on ``GET /api/v1/pool/events`` and reply to each ticket
  they are handed after a random ``--reply`` seconds (``POST /tickets/{id}/articles``, an agent mail);
* tickets arrive through the API at ``--rate`` a second (an intake key);
* ``--bots`` bots (agents of their own, ``--bot-threads`` threads each, spread from 10 to 100) hammer
  ``POST /pool/enter``, ``GET /pool/current`` and ``GET /tickets`` as fast as they are answered.

Reported: double assignments (a ticket locked again while locked, from ``ticket_history``: must be 0), p50/p99
from "agent asked" (enter) or "reply committed" to "next ticket pushed", p99 of the pool routes under the
storm, 429s served, 5xx (must be 0), MariaDB's CPU share. The second phase runs the same bots against
OTRS-style polling (``GET /tickets?state_type=new`` with the list's total: a ticket list query per request)
for the same time, with the agents idle, and prints both side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import requests
from sqlalchemy import Engine, create_engine, text

from otrs_ext.api.keys import ApiKeys
from otrs_ext.db import migrate
from otrs_ext.localservices import MariaDBServer, RedisServer
from otrs_ext.settings import Settings
from schema_maps.install import install

GENERATION = "znuny71"
POOL_ROUTES = ("/api/v1/pool/enter", "/api/v1/pool/current")


class Stats:
    """Counters and latencies every client thread adds to."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: Counter[int] = Counter()
        self.latency: dict[str, list[float]] = {}
        self.pushed: list[float] = []  # asked/replied -> next ticket pushed, ms
        self.errors: Counter[str] = Counter()

    def add(self, route: str, status: int, ms: float) -> None:
        with self.lock:
            self.status[status] += 1
            self.latency.setdefault(route, []).append(ms)


def _agent(conn, login: str) -> int:
    conn.execute(text("INSERT INTO users (login, pw, first_name, last_name, valid_id, create_time, create_by, "
                      "change_time, change_by) VALUES (:l, '', 'Bench', :l, 1, NOW(), 1, NOW(), 1)"), {"l": login})
    agent_id = conn.execute(text("SELECT id FROM users WHERE login = :l"), {"l": login}).scalar_one()
    conn.execute(text("INSERT INTO group_user (user_id, group_id, permission_key, create_time, create_by, "
                      "change_time, change_by) SELECT :a, id, 'rw', NOW(), 1, NOW(), 1 FROM permission_groups "
                      "WHERE name = 'users'"), {"a": agent_id})
    return agent_id


def _prepare(engine: Engine, agents: int, bots: int) -> tuple[list[str], list[str], str]:
    with engine.begin() as conn:
        install(conn, GENERATION)
    migrate.upgrade(engine)
    keys = ApiKeys(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ticket SET ticket_state_id = (SELECT id FROM ticket_state WHERE name = "
                          "'closed successful') WHERE id = 1"))
        agent_ids = [_agent(conn, f"agent{i}") for i in range(agents)]
        bot_ids = [_agent(conn, f"bot{i}") for i in range(bots)]
    agent_keys = [keys.create("agent", name=f"agent{i}", agent_id=a, rate_per_minute=1_000_000)
                  for i, a in enumerate(agent_ids)]
    bot_keys = [keys.create("agent", name=f"bot{i}", agent_id=a, rate_per_minute=1_000_000)
                for i, a in enumerate(bot_ids)]
    return agent_keys, bot_keys, keys.create("intake", name="website", rate_per_minute=1_000_000)


def _process(args: list[str], settings: Settings, log: Path, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings.environ(), "OTRS_EXT_LOG_LEVEL": "WARNING", **extra}
    exe = Path(sys.executable).with_name("otrs-ext")
    return subprocess.Popen([str(exe), *args], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"otrs-ext serve exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError("otrs-ext serve did not answer /healthz within 60 s")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pool_agent(url: str, key: str, stop: threading.Event, stats: Stats, reply: tuple[float, float]) -> None:
    """Enter, listen, reply after a while, and measure asked/replied -> pushed."""
    headers = {"Authorization": f"Bearer {key}"}
    session = requests.Session()
    asked = time.monotonic()
    try:
        stream = session.get(url + "/api/v1/pool/events", headers=headers, stream=True, timeout=(5, 30))
        entered = session.post(url + "/api/v1/pool/enter", headers=headers, timeout=30)
        stats.add("/api/v1/pool/enter", entered.status_code, (time.monotonic() - asked) * 1000)
        current = entered.json().get("ticket") if entered.ok else None
        event = None
        lines = stream.iter_lines(decode_unicode=True)
        while not stop.is_set():
            if current is None:
                for line in lines:  # until a ticket is assigned
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "assigned":
                        current = json.loads(line[6:])["ticket"]
                        break
                    if stop.is_set():
                        return
                else:
                    return
            with stats.lock:
                stats.pushed.append((time.monotonic() - asked) * 1000)
            stop.wait(random.uniform(*reply))
            if stop.is_set():
                return
            sent = time.monotonic()
            answer = session.post(f"{url}/api/v1/tickets/{current['id']}/articles", headers=headers, timeout=30,
                                  json={"subject": "Re", "body": "done", "channel": "Email", "sender_type": "agent",
                                        "visible_for_customer": True, "to": "bob@acme.test"})
            stats.add("/api/v1/tickets/{id}/articles", answer.status_code, (time.monotonic() - sent) * 1000)
            asked, current = time.monotonic(), None
    except (requests.RequestException, ValueError) as error:
        with stats.lock:
            stats.errors[type(error).__name__] += 1


def producer(url: str, key: str, rate: float, stop: threading.Event, stats: Stats) -> None:
    session, n = requests.Session(), 0
    started = time.monotonic()
    while not stop.is_set():
        n += 1
        sent = time.monotonic()
        try:
            answer = session.post(url + "/api/v1/tickets", headers={"Authorization": f"Bearer {key}"}, timeout=30,
                                  json={"title": f"storm {n}", "queue": "Raw", "customer_user": "bob@acme.test",
                                        "article": {"subject": f"storm {n}", "body": "help"}})
            stats.add("/api/v1/tickets (create)", answer.status_code, (time.monotonic() - sent) * 1000)
        except requests.RequestException as error:
            with stats.lock:
                stats.errors[type(error).__name__] += 1
        stop.wait(max(0.0, started + n / rate - time.monotonic()))


def bot(url: str, key: str, stop: threading.Event, stats: Stats, routes: list[tuple[str, str]]) -> None:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {key}", "X-Pool-Session": f"bot-{threading.get_ident()}"}
    i = 0
    while not stop.is_set():
        method, path = routes[i % len(routes)]
        i += 1
        sent = time.monotonic()
        try:
            answer = session.request(method, url + path, headers=headers, timeout=30)
            stats.add(path.split("?")[0], answer.status_code, (time.monotonic() - sent) * 1000)
            if answer.status_code == 429:  # a bot that respects nothing: retry at once
                continue
        except requests.RequestException as error:
            with stats.lock:
                stats.errors[type(error).__name__] += 1


def double_assignments(engine: Engine) -> int:
    """Locks of a ticket while it was locked already (ticket_history order)."""
    rows = engine.connect().execute(text(
        "SELECT h.ticket_id, t.name FROM ticket_history h JOIN ticket_history_type t ON t.id = h.history_type_id "
        "WHERE t.name IN ('Lock', 'Unlock') ORDER BY h.ticket_id, h.id")).all()
    locked: dict[int, bool] = {}
    doubles = 0
    for ticket_id, name in rows:
        if name == "Lock":
            doubles += locked.get(ticket_id, False)
            locked[ticket_id] = True
        else:
            locked[ticket_id] = False
    return doubles


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_phase(url: str, seconds: float, bot_keys: list[str], threads: list[int], routes: list[tuple[str, str]],
              mariadb_pid: int, *, agents: list[str] = (), intake: str | None = None, rate: float = 0,
              reply: tuple[float, float] = (1, 5)) -> tuple[Stats, float]:
    stats, stop = Stats(), threading.Event()
    workers = [threading.Thread(target=pool_agent, args=(url, k, stop, stats, reply), daemon=True) for k in agents]
    if intake:
        workers.append(threading.Thread(target=producer, args=(url, intake, rate, stop, stats), daemon=True))
    for key, count in zip(bot_keys, threads, strict=True):
        workers += [threading.Thread(target=bot, args=(url, key, stop, stats, routes), daemon=True)
                    for _ in range(count)]
    cpu, wall = _cpu_seconds(mariadb_pid), time.monotonic()
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    share = (_cpu_seconds(mariadb_pid) - cpu) / ((time.monotonic() - wall) * (os.cpu_count() or 1))
    for w in workers:
        w.join(35)
    return stats, share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20.0, help="tickets a second through the API")
    parser.add_argument("--bots", type=int, default=6)
    parser.add_argument("--bot-threads", type=int, nargs=2, default=[10, 100], metavar=("MIN", "MAX"))
    parser.add_argument("--reply", type=float, nargs=2, default=[1.0, 5.0], metavar=("MIN", "MAX"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=128)
    args = parser.parse_args()
    low, high = args.bot_threads
    threads = [round(low + (high - low) * i / max(1, args.bots - 1)) for i in range(args.bots)]

    base_dir = Path(tempfile.mkdtemp(prefix="bench-pool-"))
    mariadb, redis_server = MariaDBServer(base_dir / "mariadb"), RedisServer(base_dir / "redis")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        mariadb.start()
        redis_server.start()
        mariadb.create_database("otrs")
        engine = create_engine(mariadb.url("otrs"), pool_size=2)
        agent_keys, bot_keys, intake = _prepare(engine, args.agents, args.bots)
        (base_dir / "otrs" / "var" / "tmp").mkdir(parents=True)
        settings = Settings(db_url=mariadb.url("otrs"), redis_url=redis_server.url, search_url="mysql://127.0.0.1:9",
                            otrs_home=base_dir / "otrs", state_dir=base_dir / "state").validate()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        processes.append(_process(["serve", "--port", str(port), "--workers", str(args.workers), "--threads",
                                   str(args.threads)], settings, base_dir / "serve.log", {}))
        _wait_healthy(url, processes[0], base_dir / "serve.log")
        processes.append(_process(["tail", "--metrics-port", "0"], settings, base_dir / "tail.log",
                                  {"OTRS_EXT_HANDLERS": "pool"}))
        time.sleep(3)  # the tailer's first snapshot
        mariadb_pid = int((base_dir / "mariadb" / "mysqld.pid").read_text().strip())
        print(f"otrs-ext serve: {args.workers} workers x {args.threads} threads, {os.cpu_count()} cores; "
              f"{args.agents} agents, {args.rate:g} tickets/s, {args.bots} bots x {threads} threads, "
              f"{args.seconds:g} s per phase", flush=True)

        pool_routes = [("POST", "/api/v1/pool/enter"), ("GET", "/api/v1/pool/current"), ("GET", "/api/v1/tickets")]
        pool_stats, pool_cpu = run_phase(url, args.seconds, bot_keys, threads, pool_routes, mariadb_pid,
                                         agents=agent_keys, intake=intake, rate=args.rate, reply=tuple(args.reply))
        doubles = double_assignments(engine)
        poll_routes = [("GET", "/api/v1/tickets?state_type=new&limit=50")]
        poll_stats, poll_cpu = run_phase(url, args.seconds, bot_keys, threads, poll_routes, mariadb_pid)

        def p99(stats: Stats, routes: tuple[str, ...]) -> float:
            return _pct([v for r in routes for v in stats.latency.get(r, [])], 0.99)

        def count(stats: Stats, pred) -> int:
            return sum(n for s, n in stats.status.items() if pred(s))

        rows = [
            ("requests served", count(pool_stats, lambda s: True), count(poll_stats, lambda s: True)),
            ("429s served", pool_stats.status[429], poll_stats.status[429]),
            ("5xx", count(pool_stats, lambda s: s >= 500), count(poll_stats, lambda s: s >= 500)),
            ("client errors (conn/timeouts)", sum(pool_stats.errors.values()), sum(poll_stats.errors.values())),
            ("p99 pool routes ms", round(p99(pool_stats, POOL_ROUTES), 1), "-"),
            ("p99 ticket list ms", round(p99(pool_stats, ("/api/v1/tickets",)), 1),
             round(p99(poll_stats, ("/api/v1/tickets",)), 1)),
            ("MariaDB CPU share", f"{pool_cpu:.1%}", f"{poll_cpu:.1%}"),
            ("tickets handed out (pushed)", len(pool_stats.pushed), "-"),
            ("asked/reply -> pushed p50 ms", round(_pct(pool_stats.pushed, 0.5), 1), "-"),
            ("asked/reply -> pushed p99 ms", round(_pct(pool_stats.pushed, 0.99), 1), "-"),
            ("double assignments", doubles, "-"),
        ]
        print(f"{'':<32} {'pool + storm':>14} {'OTRS-style polling':>20}")
        for name, a, b in rows:
            print(f"{name:<32} {a!s:>14} {b!s:>20}")
        if pool_stats.errors or poll_stats.errors:
            print("client errors:", dict(pool_stats.errors), dict(poll_stats.errors))
        engine.dispose()
        print("median create ms:", round(statistics.median(pool_stats.latency.get("/api/v1/tickets (create)",
                                                                                   [float("nan")])), 1))
    except Exception:
        for name in ("serve.log", "tail.log"):
            log = base_dir / name
            if log.exists():
                print(f"--- {name} (tail) ---\n" + log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        for process in processes:
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
