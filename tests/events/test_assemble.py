"""The assembler on hand-made row changes: what is held, when it is complete, where a restart resumes."""

from __future__ import annotations

from datetime import datetime

from otrs_ext.events.assemble import Assembler
from otrs_ext.events.domain import (
    ArticleCreated,
    DynamicFieldChanged,
    HistoryAdded,
    TicketChanged,
    TicketCreated,
    TicketDeleted,
    TicketMerged,
)
from otrs_ext.events.rows import Position, RowChange, Transaction

AT = datetime(2026, 11, 26, 10, 0, 0)
HISTORY_TYPES = {1: "NewTicket", 15: "AddNote", 16: "Move", 29: "Merged"}


class FakeResolver:
    def history_type(self, type_id: int) -> str:
        return HISTORY_TYPES[type_id]

    def dynamic_field_object(self, field_id: int) -> str:
        return "Article" if field_id == 9 else "Ticket"

    def ticket_of_article(self, article_id: int) -> int | None:
        return 7

    def uniform_article(self, row: dict) -> dict:
        return {k: v for k, v in row.items() if k != "id"}


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def txn(n: int, *changes: RowChange) -> Transaction:
    return Transaction(f"0-1-{n}", Position("bin.000001", n * 100), Position("bin.000001", n * 100 + 100, f"0-1-{n}"),
                       AT, changes)


def insert(table: str, **row) -> RowChange:
    return RowChange(table, "insert", None, row)


def update(table: str, before: dict, **after) -> RowChange:
    return RowChange(table, "update", before, {**before, **after})


def history(hid: int, ticket_id: int, type_id: int, *, article_id: int | None = None, name: str = "") -> RowChange:
    return insert("ticket_history", id=hid, ticket_id=ticket_id, history_type_id=type_id, article_id=article_id,
                  name=name, create_by=2)


TICKET = {"id": 7, "tn": "2026112610000011", "title": "Сайт лежит", "queue_id": 2, "user_id": 1,
          "customer_id": None, "change_by": 1}


def test_ticket_is_held_until_its_history_row_and_shows_its_final_state() -> None:
    a = Assembler(FakeResolver())
    assert a.feed(txn(1, insert("ticket", **TICKET))) == []
    assert a.feed(txn(2, update("ticket", TICKET, customer_id="ACME"))) == []  # still being created
    assert a.holding == 1 and a.resume_position() == Position("bin.000001", 100)
    [created, added] = a.feed(txn(3, history(1, 7, 1)))
    assert isinstance(created, TicketCreated) and created.event_id == "ticket-created:7"
    assert created.ticket["customer_id"] == "ACME"
    assert isinstance(added, HistoryAdded) and added.history_type == "NewTicket"
    assert a.holding == 0 and a.resume_position() == Position("bin.000001", 400, "0-1-3")


def test_article_collects_mime_and_attachments_until_its_history_row() -> None:
    a = Assembler(FakeResolver())
    a.feed(txn(1, insert("ticket", **TICKET), history(1, 7, 1)))
    a.feed(txn(2, insert("article", id=30, ticket_id=7, communication_channel_id=3)))
    a.feed(txn(3, insert("article_data_mime", id=5, article_id=30, a_subject="Re: DNS", a_message_id="fp")))
    a.feed(txn(4, update("article_data_mime", {"id": 5, "article_id": 30, "a_message_id": "fp"}, a_message_id="")))
    a.feed(txn(5, insert("article_data_mime_attachment", article_id=30, filename="log.txt", content_type="text/plain",
                         content_size="12", disposition="attachment", content=b"x" * 12)))
    assert a.resume_position() == Position("bin.000001", 200)
    [article, added] = a.feed(txn(6, history(2, 7, 15, article_id=30)))
    assert isinstance(article, ArticleCreated) and article.event_id == "article-created:30"
    assert article.article["a_subject"] == "Re: DNS" and article.article["a_message_id"] == ""
    assert [(x.filename, x.size) for x in article.attachments] == [("log.txt", 12)]
    assert added.article_id == 30


def test_without_history_rows_the_debounce_emits_ticket_before_article() -> None:
    clock = Clock()
    a = Assembler(FakeResolver(), debounce=2.0, clock=clock)
    a.feed(txn(1, insert("ticket", **TICKET)))
    a.feed(txn(2, insert("article", id=30, ticket_id=7)))
    clock.now = 1.9
    assert a.flush_due() == []
    clock.now = 2.0
    assert [type(e) for e in a.flush_due()] == [TicketCreated, ArticleCreated]
    assert a.holding == 0


def test_changes_of_a_complete_ticket_carry_before_and_after_of_domain_fields_only() -> None:
    a = Assembler(FakeResolver())
    a.feed(txn(1, insert("ticket", **TICKET), history(1, 7, 1)))
    [changed] = a.feed(txn(2, update("ticket", TICKET, queue_id=4, user_id=3, change_by=3)))
    assert isinstance(changed, TicketChanged) and changed.event_id == "0-1-2/0"
    assert changed.changes == {"queue_id": (2, 4), "owner_id": (1, 3)} and changed.changed_by == 3
    assert a.feed(txn(3, update("ticket", TICKET, change_by=5))) == []  # bookkeeping only: no event


def test_merge_delete_and_dynamic_fields() -> None:
    a = Assembler(FakeResolver())
    a.feed(txn(1, insert("ticket", **TICKET), history(1, 7, 1)))
    merged = a.feed(txn(2, history(5, 7, 29, name="%%2026112610000011%%7%%2026112610000022%%8")))
    assert isinstance(merged[0], TicketMerged) and merged[0].main_ticket_id == 8
    value = {"id": 1, "field_id": 9, "object_id": 30, "value_text": "a", "value_date": None, "value_int": None}
    [field] = a.feed(txn(3, update("dynamic_field_value", value, value_text="b")))
    assert isinstance(field, DynamicFieldChanged) and (field.ticket_id, field.object_type) == (7, "Article")
    assert (field.before["value_text"], field.after["value_text"]) == ("a", "b")
    [deleted] = a.feed(txn(4, RowChange("ticket", "delete", TICKET, None)))
    assert isinstance(deleted, TicketDeleted) and deleted.tn == TICKET["tn"]
