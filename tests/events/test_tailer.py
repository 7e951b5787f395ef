"""Events from changes made as OTRS makes them (raw statements, each auto-committed) and by otrs-ext."""

from __future__ import annotations

import time

import pytest
from otrs_sql import add_note, create_ticket, history, move
from sqlalchemy import text

from otrs_ext.events.checkpoint import TailerAlreadyRunning
from otrs_ext.events.domain import ArticleCreated, HistoryAdded, TicketChanged, TicketCreated
from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket
from otrs_ext.tickets.numbers import TicketNumbers
from otrs_ext.tickets.otrs_cache import Invalidator, NullOtrsCache
from otrs_ext.tickets.permissions import Permissions
from otrs_ext.tickets.service import TicketService
from otrs_ext.tickets.storage import DatabaseStore


def test_otrs_style_writes_become_whole_events(tailing) -> None:
    tail = tailing(debounce=10.0)  # the history rows close everything: the debounce must not on a loaded machine
    tail.wait(lambda events: any(isinstance(e, TicketCreated) and e.backfill for e in events))  # welcome ticket
    ticket_id = create_ticket(tail.engine, "2026112610000011", "Сайт недоступен")
    article_id = add_note(tail.engine, ticket_id, "Проверка", "ping 10.0.0.1", attachments=("a.txt", "a.txt"))
    move(tail.engine, ticket_id, 4)
    tail.wait(lambda events: any(isinstance(e, HistoryAdded) and e.history_type == "Move" for e in events))

    [created] = tail.of(TicketCreated, ticket_id)
    assert created.event_id == f"ticket-created:{ticket_id}" and not created.backfill
    assert created.ticket["title"] == "Сайт недоступен" and created.ticket["tn"] == "2026112610000011"
    [article] = tail.of(ArticleCreated, ticket_id)
    assert article.article_id == article_id and article.article["a_subject"] == "Проверка"
    assert article.article["a_body"] == "ping 10.0.0.1" and article.article["channel"] == "Internal"
    assert [a.filename for a in article.attachments] == ["a.txt", "a.txt"]
    [changed] = tail.of(TicketChanged, ticket_id)
    assert changed.changes == {"queue_id": (2, 4)}
    kinds = [type(e).__name__ for e in tail.recorder.events if e.ticket_id == ticket_id]
    assert kinds.index("TicketCreated") < kinds.index("ArticleCreated") < kinds.index("TicketChanged")
    assert [e.history_type for e in tail.of(HistoryAdded, ticket_id)] == ["NewTicket", "AddNote", "Move"]


def _service(tail) -> TicketService:
    numbers = TicketNumbers(tail.engine, tail.schema, sleep=lambda s: None)
    return TicketService(tail.engine, tail.schema, numbers=numbers,
                         permissions=Permissions(tail.schema), invalidator=Invalidator(NullOtrsCache()),
                         store=DatabaseStore(tail.schema))


def test_ticket_core_writes_become_the_same_events(tailing) -> None:
    tail = tailing()
    tail.wait(lambda events: bool(events))
    service = _service(tail)
    created = service.create_ticket(1, NewTicket(title="Printer", queue="Raw", customer_user="jane@acme.test"),
                                    NewArticle(body="<p>on <b>fire</b></p>", mime_type="text/html", subject="Fire",
                                               channel="Phone", sender_type="customer", visible_for_customer=True,
                                               attachments=[Attachment("photo.jpg", b"\xff\xd8jpeg", "image/jpeg")]))
    service.lock(1, created.ticket_id)
    service.move(1, created.ticket_id, "Misc")
    tail.wait(lambda events: any(isinstance(e, HistoryAdded) and e.history_type == "Move" for e in events))

    [ticket] = tail.of(TicketCreated, created.ticket_id)
    assert ticket.ticket["customer_user_id"] == "jane@acme.test" and ticket.ticket["tn"] == created.tn
    [article] = tail.of(ArticleCreated, created.ticket_id)
    assert article.article_id == created.article_id and article.article["channel"] == "Phone"
    assert "fire" in article.article["a_body"] and article.article["is_visible_for_customer"] == 1
    assert [a.filename for a in article.attachments] == ["file-2", "photo.jpg"]
    changes = [e.changes for e in tail.of(TicketChanged, created.ticket_id)]
    assert changes[0] == {"lock_id": (1, 2)}
    assert changes[1]["queue_id"] == (2, 4) and changes[-1] == {"lock_id": (2, 1)}  # moving unlocks


def test_restart_resumes_held_rows_and_repeats_nothing(tailing) -> None:
    tail = tailing()
    tail.wait(lambda events: bool(events))  # the snapshot of the initial data is done
    first = create_ticket(tail.engine, "2026112610000022", "before the stop")
    half = create_ticket(tail.engine, "2026112610000033", "written in halves", with_history=False)
    tail.wait(lambda events: bool(tail.of(TicketCreated, first)) and tail.tailer.metrics.holding == 1)
    tail.halt()
    assert not tail.of(TicketCreated, half)  # held: OTRS has not written its history row yet

    history(tail.engine, half, "NewTicket", "%%2026112610000033%%Raw%%3 normal%%new%%0")
    later = create_ticket(tail.engine, "2026112610000044", "while stopped")
    again = tailing(engine=tail.engine)
    again.wait(lambda events: bool(again.of(TicketCreated, later)))
    assert [e.ticket_id for e in again.of(TicketCreated)] == [half, later]  # nothing from before the stop
    with tail.engine.connect() as conn:
        count = "SELECT COUNT(*) FROM otrs_ext_event_log WHERE "
        repeated = conn.execute(text(count + "deliveries > 1")).scalar()
        logged = conn.execute(text(count + "event_type = 'TicketCreated'")).scalar()
    assert repeated == 0 and logged == 4  # the welcome ticket (snapshot), first, half, later


def test_a_second_tailer_of_the_same_identity_is_refused(tailing) -> None:
    tail = tailing()
    tail.wait(lambda events: bool(events))
    other = tailing(engine=tail.engine, start=False).start()
    with pytest.raises(TailerAlreadyRunning, match="another tailer with identity 'default' is running"):
        other.wait(lambda events: False, timeout=5)


def test_a_tailer_whose_lock_connection_dies_takes_its_lock_again(tailing) -> None:
    tail = tailing()
    tail.wait(lambda events: bool(events))
    name = tail.tailer.lock.name
    with tail.engine.connect() as conn:
        holder = conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": name}).scalar()
        conn.execute(text(f"KILL {int(holder)}"))  # the server frees the lock with its connection
    deadline = time.monotonic() + 15
    again = None
    while time.monotonic() < deadline and again in (None, holder):
        time.sleep(0.2)
        create_ticket(tail.engine, f"20261126100{int(time.monotonic() * 1000) % 100000:05d}", "keep it busy")
        with tail.engine.connect() as conn:
            again = conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": name}).scalar()
    assert again not in (None, holder)  # taken again by the tailer, on a new connection
    other = tailing(engine=tail.engine, start=False).start()
    with pytest.raises(TailerAlreadyRunning):
        other.wait(lambda events: False, timeout=5)
