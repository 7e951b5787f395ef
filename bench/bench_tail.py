"""Benchmark the tailer: events/s end to end against the binlog decoder's own ceiling, and commit-to-handler latency.

    .venv/bin/python bench/bench_tail.py --tickets 2000 --articles-per-ticket 5
    .venv/bin/python bench/bench_tail.py --rate 200 --seconds 20     # the latency part's load

Starts its own mariadbd (ROW binlog, FULL row metadata) in a temp dir and a Znuny 7.1 database with otrs-ext's
own tables. (1) Throughput: ``run_seed`` writes a realistic helpdesk (small transactions), then the same binlog
range is read four ways: ``BinLogStreamReader`` alone counting row images (the library's ceiling), and the
real ``Tailer`` (decode + assemble + dispatch + checkpoints) with a no-op handler and with the ``event_log``
handler, which commits once per batch: per source transaction, and (the default) per group of consecutive
transactions while the tailer is behind, as it is here. (2) Latency: a writer makes OTRS-style auto-committed
writes at a steady rate (a title UPDATE, then a history INSERT, alternately) while the binlog tailer and the
polling tailer run; each handler notes when the event of each write arrived, measured from that write's commit.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import pluggy
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import XidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent
from sqlalchemy import Engine, create_engine, text

from otrs_ext.db import migrate
from otrs_ext.events import hookspecs
from otrs_ext.events.binlog import watched_tables
from otrs_ext.events.checkpoint import CheckpointStore
from otrs_ext.events.dispatch import Dispatcher, Services
from otrs_ext.events.domain import DomainEvent
from otrs_ext.events.handlers import event_log
from otrs_ext.events.poll import PollConfig, PollTailer, newest_position
from otrs_ext.events.rows import Position
from otrs_ext.events.tailer import TailConfig, Tailer, server_position
from otrs_ext.localservices.mariadb import MariaDBServer
from otrs_ext.seed import run_seed
from schema_maps import OtrsSchema
from schema_maps.install import install

GENERATION = "znuny71"


class Counter:
    """A handler that only counts (and, for the latency run, notes when each event arrived)."""

    def __init__(self, on_event: Callable[[DomainEvent], None] | None = None) -> None:
        self.count = 0
        self.last_at = 0.0
        self.on_event = on_event

    @hookspecs.hookimpl
    def on_ticket_created(self, event):
        self._seen(event)

    @hookspecs.hookimpl
    def on_article_created(self, event):
        self._seen(event)

    @hookspecs.hookimpl
    def on_ticket_changed(self, event):
        self._seen(event)

    @hookspecs.hookimpl
    def on_dynamic_field_changed(self, event):
        self._seen(event)

    @hookspecs.hookimpl
    def on_ticket_merged(self, event):
        self._seen(event)

    @hookspecs.hookimpl
    def on_ticket_deleted(self, event):
        self._seen(event)

    @hookspecs.hookimpl
    def on_history_added(self, event):
        self._seen(event)

    def _seen(self, event: DomainEvent) -> None:
        self.count += 1
        self.last_at = time.perf_counter()
        if self.on_event is not None:
            self.on_event(event)


def dispatcher(engine: Engine, schema: OtrsSchema, counter: Counter, *, with_event_log: bool) -> Dispatcher:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    if with_event_log:
        manager.register(event_log, name="event_log")
    manager.register(counter, name="counter")
    return Dispatcher(manager, Services(engine=engine, schema=schema))


def raw_decode(server: MariaDBServer, database: str, schema: OtrsSchema, start: Position,
               end: Position) -> tuple[int, float]:
    """Row images of the watched tables between ``start`` and ``end``, read by BinLogStreamReader alone."""
    stream = BinLogStreamReader(
        connection_settings={"host": "127.0.0.1", "port": server.port, "user": "otrs", "password": "otrs"},
        server_id=990_001, blocking=False, resume_stream=True, log_file=start.log_file, log_pos=start.log_pos,
        is_mariadb=False, only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, XidEvent],
        only_schemas=[database], only_tables=list(watched_tables(schema)), enable_logging=False)
    rows = 0
    started = time.perf_counter()
    try:
        for event in stream:
            if not isinstance(event, XidEvent):
                rows += len(event.rows)
            if Position(stream.log_file, stream.log_pos).key() >= end.key():
                break
    finally:
        stream.close()
    return rows, time.perf_counter() - started


def run_tailer(tailer: Tailer, counter: Counter, done: Callable[[], bool], timeout: float = 600) -> float:
    """Run ``tailer`` in a thread until ``done()``; seconds from its start to the last event handled."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            tailer.run(stop)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    started = time.perf_counter()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    deadline = started + timeout
    while not done() and time.perf_counter() < deadline and not errors:
        time.sleep(0.02)
    stop.set()
    thread.join(30)
    if errors:
        raise errors[0]
    return counter.last_at - started


def throughput(server: MariaDBServer, database: str, engine: Engine, schema: OtrsSchema, args: argparse.Namespace,
               ) -> None:
    start = server_position(engine)
    seeded = time.perf_counter()
    report = run_seed(engine, schema, tickets=args.tickets, articles_per_ticket=args.articles_per_ticket,
                      seed=args.seed, progress=False, batch_size=args.batch)
    end = server_position(engine)
    print(f"seeded {report.tickets:,} tickets, {report.articles:,} articles in {time.perf_counter() - seeded:.1f} s "
          f"({args.batch} tickets per transaction); binlog {start} .. {end}", flush=True)

    rows, raw_seconds = raw_decode(server, database, schema, start, end)
    results: list[tuple[str, int, float]] = []
    runs = (("tailer, no-op handler", False, TailConfig.batch_events),
            ("event_log, per transaction", True, 0),
            ("event_log, grouped", True, TailConfig.batch_events))
    for label, with_log, batch_events in runs:
        identity = f"bench-{len(results)}"
        CheckpointStore(engine, identity).save(start, start)
        counter = Counter()
        tailer = Tailer(engine, schema, dispatcher(engine, schema, counter, with_event_log=with_log),
                        config=TailConfig(identity=identity, debounce=2.0, checkpoint_interval=1.0, heartbeat=0.5,
                                          batch_events=batch_events))
        expected = results[0][1] if results else None

        def done(counter: Counter = counter, tailer: Tailer = tailer, expected: int | None = expected) -> bool:
            if expected is not None:
                return counter.count >= expected
            checkpoint = tailer.store.load()
            return checkpoint is not None and checkpoint.dispatched.key() >= end.key() and tailer.metrics.holding == 0

        seconds = run_tailer(tailer, counter, done)
        results.append((label, counter.count, seconds))

    print()
    _line("reader", "row images", "events", "seconds", "rows/s", "events/s", "vs ceiling")
    _line("BinLogStreamReader alone", f"{rows:,}", "", f"{raw_seconds:.2f}", f"{rows / raw_seconds:,.0f}", "", "1.00")
    for label, events, seconds in results:
        ratio = (rows / seconds) / (rows / raw_seconds)
        _line(label, f"{rows:,}", f"{events:,}", f"{seconds:.2f}", f"{rows / seconds:,.0f}",
              f"{events / seconds:,.0f}", f"{ratio:.2f}")
    print("(rows/s of the tailers = the same row images over their time; 'vs ceiling' = that rate / the reader's)")


def latency(engine: Engine, schema: OtrsSchema, args: argparse.Namespace) -> None:
    with engine.connect() as conn:
        ticket_ids = [r[0] for r in conn.execute(text("SELECT id FROM ticket ORDER BY id LIMIT 50"))]
        misc = conn.execute(text("SELECT id FROM ticket_history_type WHERE name = 'Misc'")).scalar_one()
    committed: dict[str, float] = {}  # write key -> commit time
    arrived: dict[str, dict[str, float]] = {"binlog": {}, "poll": {}}

    def noter(source: str) -> Callable[[DomainEvent], None]:
        def note(event: DomainEvent) -> None:
            key = None
            if type(event).__name__ == "HistoryAdded":
                key = f"h:{event.history_id}"  # type: ignore[attr-defined]
            elif type(event).__name__ == "TicketChanged" and "title" in event.changes:  # type: ignore[attr-defined]
                key = f"t:{event.changes['title'][1]}"  # type: ignore[attr-defined]
            if key is not None:
                arrived[source].setdefault(key, time.perf_counter())
        return note

    tailers: list[tuple[str, Tailer, Counter]] = []
    with engine.connect() as conn:
        conn.exec_driver_sql("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        poll_start = newest_position(conn, schema)
    CheckpointStore(engine, "lat-binlog").save(server_position(engine), server_position(engine))
    CheckpointStore(engine, "lat-poll").save(poll_start, poll_start)
    binlog_counter = Counter(noter("binlog"))
    binlog_dispatcher = dispatcher(engine, schema, binlog_counter, with_event_log=args.event_log)
    tailers.append(("binlog", Tailer(engine, schema, binlog_dispatcher,
                                     config=TailConfig(identity="lat-binlog", heartbeat=0.5)), binlog_counter))
    poll_counter = Counter(noter("poll"))
    poll_dispatcher = dispatcher(engine, schema, poll_counter, with_event_log=args.event_log)
    tailers.append(("poll", PollTailer(engine, schema, poll_dispatcher,
                                       config=TailConfig(identity="lat-poll"),
                                       poll=PollConfig(interval=args.poll_interval)), poll_counter))
    stops = [threading.Event() for _ in tailers]
    threads = [threading.Thread(target=tailer.run, args=(stop,), daemon=True)
               for (_, tailer, _), stop in zip(tailers, stops, strict=True)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)  # both sessions streaming

    raw = engine.raw_connection()
    raw.autocommit(True)
    cursor = raw.cursor()
    interval = 1.0 / args.rate
    writes = 0
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < args.seconds:
            due = started + writes * interval
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            ticket_id = ticket_ids[writes % len(ticket_ids)]
            if writes % 2 == 0:  # a setter's UPDATE, as TicketTitleUpdate
                title = f"bench-{writes}"
                cursor.execute("UPDATE ticket SET title = %s, change_time = NOW(), change_by = 1 WHERE id = %s",
                               (title, ticket_id))
                committed[f"t:{title}"] = time.perf_counter()
            else:  # and its history row
                cursor.execute("INSERT INTO ticket_history (name, history_type_id, ticket_id, type_id, queue_id, "
                               "owner_id, priority_id, state_id, create_time, create_by, change_time, change_by) "
                               "SELECT %s, %s, id, type_id, queue_id, user_id, ticket_priority_id, ticket_state_id, "
                               "NOW(), 1, NOW(), 1 FROM ticket WHERE id = %s", (f"%%bench {writes}", misc, ticket_id))
                committed[f"h:{cursor.lastrowid}"] = time.perf_counter()
            writes += 1
    finally:
        cursor.close()
        raw.close()
    elapsed = time.perf_counter() - started
    time.sleep(args.poll_interval + 3.0)
    for stop in stops:
        stop.set()
    for thread in threads:
        thread.join(30)

    print()
    print(f"steady load: {writes:,} auto-committed writes in {elapsed:.1f} s = {writes / elapsed:,.0f} writes/s "
          f"(title UPDATE + history INSERT alternately, over {len(ticket_ids)} tickets); handlers: "
          f"{'event_log + ' if args.event_log else ''}timer")
    _line("source", "measured", "missing", "p50 ms", "p90 ms", "p99 ms", "max ms")
    for source in ("binlog", "poll"):
        keys = [k for k in committed if k.startswith("h:")] if source == "poll" else list(committed)
        delays = sorted((arrived[source][k] - committed[k]) * 1000 for k in keys if k in arrived[source])
        missing = len(keys) - len(delays)
        if not delays:
            _line(source, "0", f"{missing:,}", "", "", "", "")
            continue
        q = statistics.quantiles(delays, n=100)
        _line(source, f"{len(delays):,}", f"{missing:,}", f"{q[49]:.1f}", f"{q[89]:.1f}", f"{q[98]:.1f}",
              f"{delays[-1]:.1f}")
    print(f"(poll: history rows only, interval {args.poll_interval} s; a bare UPDATE has no history row to poll)")


def _line(label: str, *cells: str) -> None:
    print(f"{label:<28}" + "".join(f"{c:>12}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--articles-per-ticket", type=float, default=5.0)
    parser.add_argument("--batch", type=int, default=10, help="tickets per seed transaction")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=200.0, help="writes per second of the latency load")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the latency load")
    parser.add_argument("--poll-interval", type=float, default=0.1, help="poll source interval in the latency run")
    parser.add_argument("--event-log", action="store_true", help="latency run: also the event_log handler")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the server's data directory afterwards")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="otrs-ext-bench-tail-"))
    server = MariaDBServer(base)
    server.start()
    print(f"mariadbd pid {server.pid} on 127.0.0.1:{server.port}, data in {base}", flush=True)
    try:
        server.create_database("otrs")
        engine = create_engine(server.url("otrs"), pool_size=10)
        with engine.begin() as conn:
            schema = install(conn, GENERATION)
        migrate.upgrade(engine)
        if not args.skip_throughput:
            throughput(server, "otrs", engine, schema, args)
        if not args.skip_latency:
            latency(engine, schema, args)
    finally:
        server.stop()
        if args.keep:
            print(f"data directory kept: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
