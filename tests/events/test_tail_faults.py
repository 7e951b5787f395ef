"""The tailer under faults, against real MariaDB: kill -9 during a burst, a database restart, binlog rotation,
DDL, a purged binlog, a second tailer, a failing handler, and the daemon's /metrics and /healthz.

What must hold throughout: every event is delivered at least once, and its effect happens exactly once (the
``event_log`` handler keeps one row per event id, counting deliveries).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest
from fault_support import (
    BulkWriter,
    Collector,
    Proxy,
    checkpoint,
    event_log,
    expected_ids,
    logged_count,
    max_history_id,
    run_tailer,
    tail_daemon,
)
from otrs_sql import add_note, create_ticket, history, move
from sqlalchemy import Engine
from support.tailing import Recorder, Tail
from support.waiting import wait_for

import schema_maps
from otrs_ext.db import migrate
from otrs_ext.db.engine import make_engine
from otrs_ext.events import hookspecs
from otrs_ext.events.binlog import BinlogSource
from otrs_ext.events.checkpoint import TailerAlreadyRunning, TailLock
from otrs_ext.events.dispatch import Dispatcher, HandlerFailed
from otrs_ext.events.domain import ArticleCreated, HistoryAdded, TicketChanged, TicketCreated
from otrs_ext.events.handlers import event_log as event_log_handler
from otrs_ext.events.rows import Position
from otrs_ext.events.tailer import TailConfig, Tailer, server_position
from otrs_ext.localservices import MariaDBServer, free_port
from schema_maps import OtrsSchema
from schema_maps.install import install


@pytest.fixture
def private_mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    """A MariaDB of this test's own, for faults that would disturb the session server (restart, purge)."""
    with MariaDBServer(tmp_path_factory.mktemp("private-mariadb")) as server:
        yield server


@pytest.fixture
def private_otrs(private_mariadb: MariaDBServer) -> Iterator[Engine]:
    """An OTRS database with otrs-ext's tables on ``private_mariadb``, through the engine the daemon uses."""
    private_mariadb.create_database("otrs")
    engine = make_engine(private_mariadb.url("otrs"))
    with engine.begin() as conn:
        install(conn, "znuny71")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def sql(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(statement)


def binary_logs(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("SHOW BINARY LOGS")]


def report(**numbers: object) -> None:
    """Measured numbers, shown with ``pytest -s`` (the fault tests are also a benchmark of recovery)."""
    print(" ".join(f"{name}={value}" for name, value in numbers.items()))


# --- 1. kill -9 -------------------------------------------------------------------------------------------------
def test_kill_9_during_a_burst_loses_nothing_and_applies_everything_once(otrs_database, tmp_path) -> None:
    engine = otrs_database("znuny71", migrated=True)
    history_before = max_history_id(engine)  # the initial data's history: a first start snapshots, not replays it
    writer = BulkWriter(engine, "202611263")
    with tail_daemon(engine, tmp_path / "tail.log") as daemon:
        daemon.start()
        wait_for(lambda: logged_count(engine) >= 2, 30, "the first start's snapshot (welcome ticket and article)")

        produced = []
        burst = threading.Thread(target=lambda: produced.extend(writer.round() for _ in range(10)))
        started = time.monotonic()
        burst.start()
        seen_at_kill = []
        for _ in range(5):  # each run streams for a second, then dies without notice
            wait_for(daemon.streaming, 15, "the restarted tailer to stream", interval=0.05)
            time.sleep(1.0)
            assert daemon.running(), f"the tailer died by itself:\n{daemon.output()[-3000:]}"
            daemon.kill()
            seen_at_kill.append(logged_count(engine))
            daemon.start()
        burst.join()
        written = time.monotonic() - started

        expected = expected_ids(engine, history_after=history_before)
        total = len(expected) + writer.stats.ticket_changes
        assert sum(produced) + 2 == total >= 50_000
        # correctness, not speed: a loaded 2-core CI machine may need minutes for 52,000 handler commits
        caught_up = wait_for(lambda: logged_count(engine) >= total, 400, f"all {total} events in the event log",
                             interval=0.5)
        elapsed = time.monotonic() - started
        assert daemon.terminate() == 0

    logged = event_log(engine)
    assert expected - logged.keys() == set()  # at least once: every ticket, article and history row
    changed = {event_id for event_id, row in logged.items() if row.event_type == "TicketChanged"}
    assert len(changed) == writer.stats.ticket_changes  # one TicketChanged per moved ticket row, no more
    assert logged.keys() == expected | changed  # and nothing else: a replay produces the same ids
    assert seen_at_kill[-1] < total  # the kills hit the tailer while it still had work
    redelivered = Counter(row.deliveries for row in logged.values() if row.deliveries > 1)
    report(events=total, rows_written=writer.stats.rows, write_seconds=round(written, 1),
           catch_up_seconds=round(elapsed, 1), after_burst=round(caught_up, 1),
           events_per_second=round(total / elapsed), kills=len(seen_at_kill), starts=daemon.starts,
           logged_at_kills=seen_at_kill, redelivered=sum(redelivered.values()), deliveries=dict(redelivered))


# --- 2. database restart ----------------------------------------------------------------------------------------
def test_a_database_restart_mid_stream_is_ridden_out(tailing, private_mariadb, private_otrs, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="otrs_ext.events.tailer")
    tail = tailing(engine=private_otrs)
    tail.wait(lambda events: bool(events))  # the snapshot of the initial data
    history_before = max_history_id(private_otrs)
    writer = BulkWriter(private_otrs, "202611264")
    total = writer.round(tickets=200, extra_history=6000) + 2
    wait_for(lambda: logged_count(private_otrs) > 100, 30, "the tailer to be busy with the burst", interval=0.05)
    at_restart = logged_count(private_otrs)
    private_mariadb.restart(down_for=1.5)
    total += writer.round(tickets=100, extra_history=1000)  # written after the restart
    wait_for(lambda: logged_count(private_otrs) >= total, 60, f"all {total} events in the event log")

    assert tail.error is None and tail.thread.is_alive()
    assert any(getattr(r, "event", None) == "tail_reconnect" for r in caplog.records)
    expected = expected_ids(private_otrs, history_after=history_before)
    logged = event_log(private_otrs)
    changed = {event_id for event_id, row in logged.items() if row.event_type == "TicketChanged"}
    assert expected - logged.keys() == set()
    assert logged.keys() == expected | changed and len(changed) == writer.stats.ticket_changes
    assert at_restart < total
    delivered = Counter(event.event_id for event in tail.recorder.events)
    report(events=total, logged_at_restart=at_restart, redelivered=sum(n > 1 for n in delivered.values()))


def test_a_dropped_connection_resumes_where_it_was_not_where_the_session_began(tailing, otrs_database,
                                                                                 mariadb_server) -> None:
    created = otrs_database("znuny71", migrated=True)
    proxy = Proxy(mariadb_server.port)
    engine = make_engine(created.url.set(port=proxy.port).render_as_string(hide_password=False))
    try:
        first = tailing(engine=created, identity="blip")
        first.wait(lambda events: bool(events))
        first.halt()
        assert checkpoint(engine, "blip").resume.gtid  # so the next start resumes by GTID
        tail = tailing(engine=engine, identity="blip")
        tickets = [create_ticket(engine, f"20261126450{n:05d}", "before the blip") for n in range(50)]
        tail.wait(lambda events: bool(tail.of(HistoryAdded, tickets[-1])))
        time.sleep(0.5)
        read_before = tail.tailer.metrics.transactions

        assert proxy.cut() >= 2  # the replication stream and the tailer's other connections
        last = create_ticket(engine, "2026112645099999", "after the blip")
        tail.wait(lambda events: bool(tail.of(HistoryAdded, last)))
        time.sleep(0.5)
        read_again = tail.tailer.metrics.transactions - read_before
    finally:
        engine.dispose()
        proxy.close()

    assert read_again < 50, f"read {read_again} transactions again: the stream restarted far behind"
    assert all(n == 1 for n in Counter(e.event_id for e in tail.recorder.events).values())
    assert tail.error is None
    report(transactions_after_the_blip=read_again)


class ProxiedTail(Tail):
    """A tailer whose replication connection goes through ``proxy`` (its other connections do not)."""

    proxy: Proxy

    def make_tailer(self, dispatcher: Dispatcher, config: TailConfig) -> Tailer:
        proxy = self.proxy

        class Proxied(Tailer):
            def _binlog_source(self, schema: OtrsSchema, start: Position) -> BinlogSource:
                url = self.engine.url
                connection = {"host": "127.0.0.1", "port": proxy.port, "user": url.username,
                              "password": url.password, "charset": "utf8mb4"}
                return BinlogSource(connection, url.database, schema, server_id=config.replica_id(), start=start,
                                    heartbeat=config.heartbeat)

        return Proxied(self.engine, self.schema, dispatcher, config=config)


def test_a_silent_replication_connection_is_noticed_by_its_heartbeat(otrs_database, mariadb_server) -> None:
    engine = otrs_database("znuny71", migrated=True)
    proxy = Proxy(mariadb_server.port)
    tail = ProxiedTail(engine, schema_maps.load("znuny71"), Recorder())
    tail.proxy = proxy
    try:
        tail.start(identity="silence")
        tail.wait(lambda events: bool(events))
        proxy.silence()  # the connection stays open but nothing arrives: no error, no EOF, as after a partition
        started = time.monotonic()
        ticket_id = create_ticket(engine, "2026112646000011", "after the partition")
        tail.wait(lambda events: bool(tail.of(HistoryAdded, ticket_id)), timeout=20)
        noticed = time.monotonic() - started
    finally:
        tail.halt()
        proxy.close()
    assert tail.error is None and [e.ticket_id for e in tail.of(TicketCreated) if not e.backfill] == [ticket_id]
    report(seconds_to_notice=round(noticed, 1))


# --- 3. binlog rotation -----------------------------------------------------------------------------------------
def test_flush_binary_logs_mid_stream_continues_in_the_new_file(tailing) -> None:
    tail = tailing()
    tail.wait(lambda events: bool(events))
    engine = tail.engine
    old_file = server_position(engine).log_file
    first = create_ticket(engine, "2026112650000011", "before the rotation")
    half = create_ticket(engine, "2026112650000022", "its history row comes after the rotation", with_history=False)
    sql(engine, "FLUSH BINARY LOGS")
    history(engine, half, "NewTicket", "%%2026112650000022%%Raw%%3 normal%%new%%0")
    note = add_note(engine, first, "after the rotation", "still here")
    move(engine, half, 4)
    tail.wait(lambda events: bool(tail.of(TicketChanged, half)))

    new_file = server_position(engine).log_file
    assert new_file != old_file
    wait_for(lambda: checkpoint(engine).resume.log_file == new_file, 10, f"the checkpoint to move to {new_file}")
    assert [e.ticket_id for e in tail.of(TicketCreated) if not e.backfill] == [first, half]
    assert [e.article_id for e in tail.of(ArticleCreated) if not e.backfill] == [note]
    assert [e.history_type for e in tail.of(HistoryAdded)] == ["NewTicket", "NewTicket", "AddNote", "Move"]
    assert all(n == 1 for n in Counter(e.event_id for e in tail.recorder.events).values())
    assert tail.error is None


# --- 4. DDL -----------------------------------------------------------------------------------------------------
def test_alter_table_mid_stream_decodes_rows_before_and_after(tailing) -> None:
    tail = tailing()
    tail.wait(lambda events: bool(events))
    engine = tail.engine
    before = create_ticket(engine, "2026112660000011", "written before the ALTER")
    half = create_ticket(engine, "2026112660000022", "ticket row before, history row after", with_history=False)
    sql(engine, "ALTER TABLE ticket ADD COLUMN otrs_ext_probe VARCHAR(20) NULL AFTER title")
    history(engine, half, "NewTicket", "%%2026112660000022%%Raw%%3 normal%%new%%0")
    after = create_ticket(engine, "2026112660000033", "written after the ALTER")
    sql(engine, f"UPDATE ticket SET otrs_ext_probe = 'x', title = 'renamed after the ALTER' WHERE id = {before}")
    move(engine, after, 4)
    tail.wait(lambda events: bool(tail.of(TicketChanged, after)))

    created = {e.ticket_id: e.ticket for e in tail.of(TicketCreated) if not e.backfill}
    assert created[before]["title"] == "written before the ALTER" and "otrs_ext_probe" not in created[before]
    assert created[half]["title"] == "ticket row before, history row after"  # held across the ALTER
    assert created[after]["otrs_ext_probe"] is None and created[after]["tn"] == "2026112660000033"
    [renamed] = tail.of(TicketChanged, before)
    assert renamed.changes == {"title": ("written before the ALTER", "renamed after the ALTER")}
    [moved] = tail.of(TicketChanged, after)
    assert moved.changes == {"queue_id": (2, 4)}
    assert tail.error is None and tail.thread.is_alive()


# --- 5. purged binlog -------------------------------------------------------------------------------------------
def test_a_purged_binlog_is_replaced_by_a_snapshot_without_a_gap(tailing, private_otrs, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="otrs_ext.events.tailer")
    engine = private_otrs
    tail = tailing(engine=engine)
    tail.wait(lambda events: bool(events))
    seen = create_ticket(engine, "2026112670000011", "seen live")
    tail.wait(lambda events: bool(tail.of(TicketCreated, seen)))
    tail.halt()

    missed = create_ticket(engine, "2026112670000022", "written while the tailer was stopped")
    missed_note = add_note(engine, missed, "also missed", "its binlog is purged")
    sql(engine, "FLUSH BINARY LOGS")
    newest = server_position(engine).log_file
    needed = checkpoint(engine).resume.log_file
    assert needed != newest

    def purged() -> bool:  # the server keeps a file a replica connection still reads: until the stopped one is gone
        sql(engine, f"PURGE BINARY LOGS TO '{newest}'")
        return needed not in binary_logs(engine)

    wait_for(purged, 15, f"{needed} to be purged")

    # OTRS keeps writing while the tailer restarts and takes its snapshot
    writing = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        while not writing.is_set():
            written.append(create_ticket(engine, f"20261126780{len(written):05d}", "during the snapshot"))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        again = tailing(engine=engine)
        again.wait(lambda events: bool(again.of(TicketCreated, missed)))
        time.sleep(0.5)
    finally:
        writing.set()
        writer.join()
    last = written[-1]
    again.wait(lambda events: bool(again.of(HistoryAdded, last)))

    assert any("is gone" in r.getMessage() for r in caplog.records)
    [backfilled] = again.of(TicketCreated, missed)
    assert backfilled.backfill and backfilled.ticket["title"] == "written while the tailer was stopped"
    assert [(e.article_id, e.backfill) for e in again.of(ArticleCreated, missed)] == [(missed_note, True)]
    created = Counter(e.ticket_id for e in again.of(TicketCreated))
    assert all(created[ticket_id] == 1 for ticket_id in written)  # each once: from the snapshot, or streamed
    live = [e for e in again.of(TicketCreated) if not e.backfill]
    assert live and all(e.ticket_id in written for e in live)  # streaming went on after the snapshot
    assert again.error is None
    report(written_during_restart=len(written), streamed_live=len(live))


# --- 6. one tailer per identity ---------------------------------------------------------------------------------
def test_a_second_tailer_is_refused_and_a_killed_ones_lock_is_free_at_once(otrs_database, tmp_path) -> None:
    engine = otrs_database("znuny71", migrated=True)
    with tail_daemon(engine, tmp_path / "first.log") as first, tail_daemon(engine, tmp_path / "second.log") as second:
        first.start()
        wait_for(lambda: checkpoint(engine) is not None, 30, "the first tailer to store a checkpoint")
        assert second.start().process.wait(30) == 2
        assert "another tailer with identity 'default' is running" in second.output()
        with pytest.raises(TailerAlreadyRunning):
            TailLock(engine, "default").acquire()

        first.kill()
        lock = TailLock(engine, "default")
        lock.acquire()  # at once: the server dropped the lock with the killed process's connection
        lock.release()
        second.start()
        ticket_id = create_ticket(engine, "2026112680000011", "after the kill")
        wait_for(lambda: f"ticket-created:{ticket_id}" in event_log(engine), 30, "the new tailer to stream")
        assert second.running()


# --- 7. fail-stop on a handler error ----------------------------------------------------------------------------
class Poison:
    """A handler that cannot digest one history row."""

    @hookspecs.hookimpl
    def on_history_added(self, event: HistoryAdded) -> None:
        if event.name == "%%poison":
            raise RuntimeError("cannot digest this")


def test_a_failing_handler_stops_the_tailer_before_the_checkpoint_and_skip_gets_past(otrs_database) -> None:
    engine = otrs_database("znuny71", migrated=True)

    def start(**options: object) -> tuple[Collector, object]:
        collector = Collector()
        plugins = {"event_log": event_log_handler, "collector": collector, "poison": Poison()}
        return collector, run_tailer(engine, plugins, **options)

    first, tailer = start()
    wait_for(lambda: logged_count(engine) >= 2, 30, "the snapshot")
    ticket_id = create_ticket(engine, "2026112690000011", "a ticket")
    poison = f"history:{history(engine, ticket_id, 'Misc', '%%poison')}"
    after = f"history:{history(engine, ticket_id, 'Misc', '%%after the poison')}"

    error = tailer.ended(15)
    assert isinstance(error, HandlerFailed)
    assert error.handler == "poison" and error.event.event_id == poison
    assert f"handler 'poison' failed on HistoryAdded {poison} (ticket {ticket_id})" in str(error)
    assert f"`otrs-ext tail --skip {poison}`" in str(error)
    assert f"ticket-created:{ticket_id}" in first.ids() and after not in first.ids()
    assert after not in event_log(engine)

    retried, tailer = start()  # no checkpoint past the poison: a restart hands it to the handlers again
    error = tailer.ended(15)
    assert isinstance(error, HandlerFailed) and error.event.event_id == poison
    assert after not in retried.ids()

    skipping, tailer = start(skip=[poison])
    wait_for(lambda: after in skipping.ids(), 15, "the event after the poison")
    assert poison not in skipping.ids()
    assert tailer.error is None
    tailer.halt()
    assert event_log(engine)[after].deliveries == 1


# --- 7b. a crash in the middle of a group of transactions --------------------------------------------------------
class CrashInGroup:
    """A batch handler that dies in the middle of the ``nth`` group of several events it is handed (the tailer
    stops there without a checkpoint, as after a crash), naming one event in the middle of the group."""

    def __init__(self, nth: int) -> None:
        self.nth = nth
        self.groups: list[list[str]] = []
        self.poison: str | None = None

    @hookspecs.hookimpl
    def on_batch(self, events: list) -> None:
        ids = [event.event_id for event in events]
        if self.poison is None and len(ids) > 1:
            self.groups.append(ids)
            if len(self.groups) == self.nth:
                self.poison = ids[len(ids) // 2]
        if self.poison in ids:
            raise RuntimeError("died in the middle of a group")


@pytest.mark.parametrize("crash_before_event_log", [True, False], ids=["before-its-commit", "after-its-commit"])
def test_a_crash_mid_group_neither_loses_nor_duplicates_event_log_rows(otrs_database,
                                                                      crash_before_event_log: bool) -> None:
    engine = otrs_database("znuny71", migrated=True)
    history_before = max_history_id(engine)
    first = run_tailer(engine, {"event_log": event_log_handler})
    wait_for(lambda: logged_count(engine) >= 2, 30, "the first start's snapshot")
    first.halt()
    for n in range(30):  # a backlog of small OTRS-style transactions (one statement each) while nothing tails
        ticket_id = create_ticket(engine, f"20261127{n:08d}", f"backlog {n}")
        for note in range(2):
            add_note(engine, ticket_id, f"note {note}", f"body {n}/{note}")
    expected = expected_ids(engine, history_after=history_before)

    crash = CrashInGroup(nth=2)
    plugins = {"crash": crash, "event_log": event_log_handler} if crash_before_event_log else \
        {"event_log": event_log_handler, "crash": crash}
    # every transaction counts as behind: the backlog goes to the handlers in groups of 40+ events (no
    # checkpoint is due in between to hand a group over early)
    crashed = run_tailer(engine, plugins, batch_after=0, batch_events=40, checkpoint_interval=60)
    error = crashed.ended(30)
    assert isinstance(error, HandlerFailed) and error.event.event_id == crash.poison  # the event, not the group
    group = crash.groups[-1]
    assert len(group) >= 40
    assert sum(event_id.startswith("history:") for event_id in group) > 1  # each row was its own transaction
    logged = event_log(engine)
    if crash_before_event_log:
        assert not set(group) & logged.keys()  # none of the group: its transaction never began
    else:
        assert set(group) <= logged.keys()  # all of it, committed as one
    assert logged.keys() < expected  # the crash left work to do

    restarted = run_tailer(engine, {"event_log": event_log_handler}, batch_after=0, batch_events=40)
    wait_for(lambda: logged_count(engine) >= len(expected), 60, f"all {len(expected)} events in the event log")
    restarted.halt()
    assert restarted.error is None
    logged = event_log(engine)
    assert logged.keys() == expected  # nothing lost, nothing extra: one row per event id
    redelivered = {event_id for event_id, row in logged.items() if row.deliveries > 1}
    if crash_before_event_log:
        assert not set(group) & redelivered
    else:  # the checkpoint had not passed the group: it came again, and its rows were counted, not copied
        assert set(group) <= redelivered
        assert {logged[event_id].deliveries for event_id in group} == {2}


# --- 8. /metrics and /healthz -----------------------------------------------------------------------------------
def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except OSError:
        return 0, "", ""


def test_the_daemon_serves_prometheus_metrics_and_health(otrs_database, tmp_path) -> None:
    engine = otrs_database("znuny71", migrated=True)
    port = free_port()
    with tail_daemon(engine, tmp_path / "tail.log") as daemon:
        daemon.start("--metrics-port", str(port))
        wait_for(lambda: fetch(f"http://127.0.0.1:{port}/healthz")[0] == 200, 30, "/healthz")
        wait_for(lambda: logged_count(engine) >= 2, 30, "the first start's snapshot")
        ticket_id = create_ticket(engine, "2026112610000099", "measured")
        wait_for(lambda: f"history:{max_history_id(engine)}" in event_log(engine), 15, "the ticket's events")
        status, kind, body = fetch(f"http://127.0.0.1:{port}/metrics")
        assert fetch(f"http://127.0.0.1:{port}/healthz")[:3:2] == (200, "ok\n")
        assert daemon.terminate() == 0

    assert status == 200 and kind.startswith("text/plain; version=0.0.4")
    metrics = dict(re.findall(r"^(\S+) (\S+)$", body, re.MULTILINE))
    assert int(metrics['otrs_ext_tail_events_total{type="TicketCreated"}']) == 2  # the welcome ticket and ours
    assert int(metrics['otrs_ext_tail_events_total{type="HistoryAdded"}']) == 1
    assert float(metrics["otrs_ext_tail_lag_seconds"]) < 5
    [(file, position)] = re.findall(r'^otrs_ext_tail_checkpoint_position{file="(.+)"} (\d+)$', body, re.MULTILINE)
    assert file == checkpoint(engine).resume.log_file and int(position) > 4
    assert time.time() - float(metrics["otrs_ext_tail_checkpoint_timestamp_seconds"]) < 10
    assert metrics['otrs_ext_tail_up{state="streaming"}'] == "1"
    assert "# TYPE otrs_ext_tail_events_total counter" in body
    assert f"ticket-created:{ticket_id}" in event_log(engine)


def test_a_daemon_without_handlers_says_so_at_start(otrs_database, tmp_path) -> None:
    engine = otrs_database("znuny71", migrated=True)
    with tail_daemon(engine, tmp_path / "tail.log", handlers="") as daemon:
        daemon.start()
        wait_for(daemon.streaming, 30, "the tailer to stream")
        assert daemon.terminate() == 0
    output = daemon.output()
    assert "no handlers: OTRS_EXT_HANDLERS is empty" in output and "OTRS_EXT_HANDLERS=event_log," in output
