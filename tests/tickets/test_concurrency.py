"""OTRS and otrs-ext writing the same ticket at the same time lose no update.

OTRS writes each change as one autocommitted UPDATE naming only its columns; otrs-ext locks the ticket row
and also names only the columns it changes, so neither overwrites the other's columns, and concurrent
otrs-ext writers queue on the row lock instead of deadlocking.
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections import Counter
from typing import Any

import pymysql
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from otrs_ext.tickets import create
from otrs_ext.tickets.inputs import NewArticle, NewTicket

ROUNDS = 12
PROCESSES = 8
PER_PROCESS = 3


def history_counts(core: Any, ticket_id: int) -> Counter[str]:
    h, ht = core.schema.tables.ticket_history, core.schema.tables.ticket_history_type
    with core.engine.connect() as conn:
        rows = conn.execute(select(ht.c.name).join(h, h.c.history_type_id == ht.c.id).where(h.c.ticket_id == ticket_id))
        return Counter(r[0] for r in rows)


def article_count(core: Any, ticket_id: int) -> int:
    a = core.schema.tables.article
    with core.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(a).where(a.c.ticket_id == ticket_id)).scalar_one()


def otrs_priority_updates(core: Any, ticket_id: int, start: threading.Barrier, errors: list[str]) -> None:
    """What OTRS's TicketPrioritySet sends: an autocommitted UPDATE, then its history row."""
    try:
        with core.engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            ids = {name: ident for name, ident in conn.execute(text("SELECT name, id FROM ticket_priority"))}
            history_type = conn.execute(text("SELECT id FROM ticket_history_type WHERE name = 'PriorityUpdate'"))
            type_id = history_type.scalar_one()
            start.wait()
            for i in range(ROUNDS):
                priority = ("1 very low", "5 very high")[i % 2]
                conn.execute(text("UPDATE ticket SET ticket_priority_id = :p, change_time = current_timestamp, "
                                  "change_by = :u WHERE id = :t"), {"p": ids[priority], "u": 1, "t": ticket_id})
                conn.execute(text(
                    "INSERT INTO ticket_history (name, history_type_id, ticket_id, type_id, queue_id, owner_id, "
                    "priority_id, state_id, create_time, create_by, change_time, change_by) "
                    "SELECT :n, :h, id, type_id, queue_id, user_id, ticket_priority_id, ticket_state_id, "
                    "current_timestamp, 1, current_timestamp, 1 FROM ticket WHERE id = :t"),
                    {"n": f"%%{priority}", "h": type_id, "t": ticket_id})
    except BaseException:  # noqa: BLE001 - collected and reported by the test
        errors.append(traceback.format_exc())


def test_otrs_and_otrs_ext_on_one_ticket_lose_no_update(ticket_core) -> None:
    core = ticket_core()
    ticket_id = core.service.create_ticket(core.agent, NewTicket(title="Shared", queue="Raw")).ticket_id
    start, errors = threading.Barrier(2), []
    otrs = threading.Thread(target=otrs_priority_updates, args=(core, ticket_id, start, errors))
    otrs.start()
    try:
        start.wait()
        for i in range(ROUNDS):
            core.service.set_title(core.agent, ticket_id, f"Shared {i}")
            core.service.add_article(core.agent, ticket_id, NewArticle(body=f"note {i}"))
            core.service.set_state(core.agent, ticket_id, ("open", "new")[i % 2])
    finally:
        otrs.join()
    assert errors == []

    view = core.reader.get(ticket_id=ticket_id)
    last = ROUNDS - 1
    assert (view.title, view.state, view.priority) == (
        f"Shared {last}", ("open", "new")[last % 2], ("1 very low", "5 very high")[last % 2])
    assert len(view.articles) == ROUNDS
    counts = history_counts(core, ticket_id)
    assert (counts["TitleUpdate"], counts["AddNote"], counts["StateUpdate"], counts["PriorityUpdate"]) == (
        ROUNDS, ROUNDS, ROUNDS, ROUNDS)


def _writer(core: Any, ticket_id: int, number: int, start: Any, results: Any) -> None:
    core.engine.dispose(close=False)  # the parent's pooled connections are not ours to use
    try:
        start.wait()
        for i in range(PER_PROCESS):
            core.service.add_article(core.agent, ticket_id, NewArticle(body=f"writer {number} note {i}"))
            core.service.set_title(core.agent, ticket_id, f"writer {number} title {i}")
        results.put((number, None))
    except BaseException:  # noqa: BLE001 - collected and reported by the test
        results.put((number, traceback.format_exc()))


def test_eight_otrs_ext_processes_on_one_ticket(ticket_core) -> None:
    core = ticket_core()
    ticket_id = core.service.create_ticket(core.agent, NewTicket(title="Busy", queue="Raw")).ticket_id
    core.engine.dispose()
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_writer, args=(core, ticket_id, n, start, results)) for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=10)
    assert outcomes == {n: None for n in range(PROCESSES)}

    assert article_count(core, ticket_id) == PROCESSES * PER_PROCESS
    bodies = {a.body for a in core.reader.get(ticket_id=ticket_id).articles}
    assert bodies == {f"writer {n} note {i}" for n in range(PROCESSES) for i in range(PER_PROCESS)}
    counts = history_counts(core, ticket_id)
    assert (counts["AddNote"], counts["TitleUpdate"]) == (PROCESSES * PER_PROCESS, PROCESSES * PER_PROCESS)
    assert core.reader.get(ticket_id=ticket_id).title.startswith("writer ")


def test_a_deadlock_victim_is_written_again_whole(ticket_core, monkeypatch) -> None:
    core = ticket_core("znuny71")
    real = create.insert_article
    failures = iter([True])

    def once_a_victim(w, ticket, article, store):
        row, article_id = real(w, ticket, article, store)
        if next(failures, False):  # after the article rows were written: all of them must roll back
            raise OperationalError("INSERT INTO article_flag", {}, pymysql.err.OperationalError(1213, "Deadlock"))
        return row, article_id

    monkeypatch.setattr(create, "insert_article", once_a_victim)
    created = core.service.create_ticket(core.agent, NewTicket(title="t", queue="Raw"), NewArticle(body="hello"))
    view = core.reader.get(ticket_id=created.ticket_id, history=True)
    assert [a.body for a in view.articles] == ["hello"]
    assert [h.history_type for h in view.history].count("NewTicket") == 1
