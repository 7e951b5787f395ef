"""Events from changes made as OTRS makes them (raw statements, each auto-committed) and by otrs-ext."""

from __future__ import annotations

from otrs_sql import add_note, create_ticket, move

from otrs_ext.events.domain import ArticleCreated, HistoryAdded, TicketChanged, TicketCreated


def test_otrs_style_writes_become_whole_events(tailing) -> None:
    tail = tailing()
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
