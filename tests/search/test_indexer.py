"""The ``search`` handler with the tailer running: changes committed to the OTRS tables become searchable."""

from __future__ import annotations

import time

from sqlalchemy import text

from otrs_ext.events.dispatch import Services
from otrs_ext.events.domain import ArticleCreated, HistoryAdded, TicketChanged
from otrs_ext.events.handlers.search_index import SearchHandler
from otrs_ext.search.freshness import indexed_as_of, read_freshness
from otrs_ext.search.indexdef import INDEX_NAME
from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket
from otrs_ext.tickets.numbers import TicketNumbers
from otrs_ext.tickets.otrs_cache import Invalidator, NullOtrsCache
from otrs_ext.tickets.permissions import Permissions
from otrs_ext.tickets.service import TicketService
from otrs_ext.tickets.storage import DatabaseStore


def _service(tail) -> TicketService:
    numbers = TicketNumbers(tail.engine, tail.schema, sleep=lambda s: None)
    return TicketService(tail.engine, tail.schema, numbers=numbers, permissions=Permissions(tail.schema),
                         invalidator=Invalidator(NullOtrsCache()), store=DatabaseStore(tail.schema))


def _match(search, query: str) -> list[int]:
    return [int(r[0]) for r in search.query(f"SELECT id FROM {INDEX_NAME} WHERE MATCH(%s) ORDER BY id ASC", (query,))]


def _attributes(search, article_id: int, *names: str) -> tuple:
    rows = search.query(f"SELECT {', '.join(names)} FROM {INDEX_NAME} WHERE id = %s", (article_id,))
    return tuple(rows[0]) if rows else ()


def _until(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_ticket_core_writes_become_searchable_and_follow_changes(search_tailing, search, redis_client) -> None:
    tail = search_tailing()
    service = _service(tail)
    created = service.create_ticket(
        1, NewTicket(title="Домены не продлеваются", queue="Raw", customer_id="ACME", customer_user="jane@acme.test"),
        NewArticle(body="Ошибок много: support@reg.ru, сервер 10.20.30.40 недоступен", subject="Продление",
                   channel="Email", sender_type="customer", visible_for_customer=True, from_="jane@acme.test",
                   attachments=[Attachment("invoice-2026.pdf", b"%PDF-1.4", "application/pdf")]))
    committed = time.monotonic()
    article = created.article_id
    _until(lambda: _match(search, "support@reg.ru"))
    latency = time.monotonic() - committed
    assert _match(search, "домен") == [article]  # the title field, despite stem_ru's "домены" -> "дом"
    assert _match(search, "ошибка") == [article]
    assert _match(search, "10.20.30.40") == [article]
    assert _match(search, f"@tn {created.tn}") == [article]
    assert _match(search, "@attachment_names invoice-2026.pdf") == [article]
    ticket_id, customer, visible = _attributes(search, article, "ticket_id", "customer_id", "visible_for_customer")
    assert (ticket_id, customer, visible) == (created.ticket_id, "ACME", 1)

    service.move(1, created.ticket_id, "Misc")  # TicketChanged queue -> UPDATE of the ticket's documents
    misc = _queue_id(tail, "Misc")
    _until(lambda: _attributes(search, article, "queue_id") == (misc,))
    second = service.add_article(1, created.ticket_id, NewArticle(body="второе письмо", subject="Re"))
    _until(lambda: _match(search, "письмо") == [second])
    assert _attributes(search, second, "queue_id") == (misc,)

    service.set_title(1, created.ticket_id, "Printer on fire")  # a field: REPLACE, not UPDATE
    _until(lambda: _match(search, "@title printer") == [article, second])
    assert _match(search, "@title домен") == []

    tail.wait(lambda events: any(isinstance(e, TicketChanged) and "title" in e.changes for e in events))
    freshness = _until(lambda: read_freshness(redis_client))
    assert freshness.lag_seconds < 60 and indexed_as_of(tail) is not None
    print(f"commit-to-searchable latency: {latency:.2f} s")
    assert latency < 10


def _queue_id(tail, name: str) -> int:
    with tail.engine.connect() as conn:
        return conn.execute(text("SELECT id FROM queue WHERE name = :n"), {"n": name}).scalar_one()


def test_merge_delete_and_replays_converge(search_tailing, search) -> None:
    tail = search_tailing()
    service = _service(tail)
    a = service.create_ticket(1, NewTicket(title="Alpha", queue="Raw"), NewArticle(body="alpha body", subject="A"))
    b = service.create_ticket(1, NewTicket(title="Beta", queue="Raw"), NewArticle(body="beta body", subject="B"))
    _until(lambda: len(_match(search, "body")) == 2)

    service.merge(1, a.ticket_id, b.ticket_id)  # alpha's articles move to beta
    _until(lambda: _attributes(search, a.article_id, "ticket_id") == (b.ticket_id,))
    assert set(_match(search, "@title beta")) >= {a.article_id, b.article_id}

    # replays: handing the same events over again changes nothing
    services, handler = Services(engine=tail.engine, schema=tail.schema, search=search), SearchHandler()
    before = search.query(f"SELECT id, ticket_id, queue_id, state_id FROM {INDEX_NAME} ORDER BY id ASC")
    for event in tail.of(ArticleCreated) + tail.of(TicketChanged):
        getattr(handler, {ArticleCreated: "on_article_created", TicketChanged: "on_ticket_changed"}[type(event)])(
            event=event, services=services)
    assert search.query(f"SELECT id, ticket_id, queue_id, state_id FROM {INDEX_NAME} ORDER BY id ASC") == before

    # OTRS deletes a ticket with plain DELETEs (TicketDelete)
    with tail.engine.begin() as conn:
        of_ticket = "article_id IN (SELECT id FROM article WHERE ticket_id = :t)"
        for statement in (f"DELETE FROM article_data_mime_attachment WHERE {of_ticket}",
                          f"DELETE FROM article_data_mime WHERE {of_ticket}",
                          f"DELETE FROM article_flag WHERE {of_ticket}",
                          "DELETE FROM article WHERE ticket_id = :t", "DELETE FROM ticket_history WHERE ticket_id = :t",
                          "DELETE FROM ticket_flag WHERE ticket_id = :t", "DELETE FROM ticket WHERE id = :t"):
            conn.execute(text(statement), {"t": b.ticket_id})
    _until(lambda: _match(search, "body") == [])
    tail.wait(lambda events: any(isinstance(e, HistoryAdded) for e in events))
