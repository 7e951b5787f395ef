"""The polling source gives handlers what the binlog gives them: a binlog tailer and a polling tailer watch the
same database side by side and their events are compared (TicketChanged by content: the poller names it by
history row, and makes one change of the customer's two UPDATEs)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import replace
from typing import Any

import pytest
from otrs_sql import _history_type, _run, add_note, create_ticket, history
from sqlalchemy import Engine, text
from support.tailing import Recorder, Tail

import schema_maps
from otrs_ext.events.checkpoint import CheckpointStore
from otrs_ext.events.dispatch import Dispatcher
from otrs_ext.events.domain import (
    ArticleCreated,
    DomainEvent,
    HistoryAdded,
    TicketChanged,
    TicketCreated,
    TicketMerged,
)
from otrs_ext.events.history_changes import UNKNOWN, decode
from otrs_ext.events.poll import PollConfig, PollTailer, is_poll, poll_position, watermarks
from otrs_ext.events.tailer import TailConfig
from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket
from otrs_ext.tickets.numbers import TicketNumbers
from otrs_ext.tickets.otrs_cache import Invalidator, NullOtrsCache
from otrs_ext.tickets.permissions import Permissions
from otrs_ext.tickets.service import TicketService
from otrs_ext.tickets.storage import DatabaseStore


class PollTail(Tail):
    """``Tail`` (tests/events/conftest.py) running the polling tailer."""

    poll: PollConfig = PollConfig(interval=0.1, gap_grace=3.0)
    identity: str = "poll"

    def make_tailer(self, dispatcher: Dispatcher, config: TailConfig) -> PollTailer:
        return PollTailer(self.engine, self.schema, dispatcher, poll=self.poll,
                          config=dataclasses.replace(config, identity=self.identity))


@pytest.fixture
def polling(otrs_database):
    tails: list[Tail] = []

    def make(engine: Engine | None = None, *, recorder: Recorder | None = None, **config: Any) -> PollTail:
        tail = PollTail(engine or otrs_database("znuny71", migrated=True), schema_maps.load("znuny71"),
                        recorder or Recorder())
        tails.append(tail)
        return tail.start(**config)

    yield make
    for tail in tails:
        tail.halt()


# --- OTRS-style setters: an UPDATE of the ticket, then a history row whose snapshot is the ticket as it now is --
def otrs_history(engine: Engine, ticket_id: int, kind: str, name: str, *, article_id: int | None = None,
                 user: int = 1) -> int:
    return _run(engine, "INSERT INTO ticket_history (name, history_type_id, ticket_id, article_id, type_id, "
                "queue_id, owner_id, priority_id, state_id, create_time, create_by, change_time, change_by) SELECT "
                ":name, :t, id, :aid, type_id, queue_id, user_id, ticket_priority_id, ticket_state_id, NOW(), :u, "
                "NOW(), :u FROM ticket WHERE id = :tid",
                name=name, t=_history_type(engine, kind), tid=ticket_id, aid=article_id, u=user)


def otrs_set(engine: Engine, ticket_id: int, kind: str, name: str, user: int = 1, **columns: object) -> None:
    for column, value in columns.items():  # TicketCustomerSet writes one UPDATE per column
        _run(engine, f"UPDATE ticket SET {column} = :v, change_time = NOW(), change_by = :u WHERE id = :t",
             v=value, u=user, t=ticket_id)
    otrs_history(engine, ticket_id, kind, name, user=user)


def lookup(engine: Engine, table: str, name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT id FROM {table} WHERE name = :n"), {"n": name}).scalar_one()


def otrs_story(engine: Engine) -> tuple[int, int]:
    """A ticket's life as OTRS writes it, and a second ticket merged into it."""
    ticket_id = create_ticket(engine, "2026112610000011", "Сайт недоступен")
    add_note(engine, ticket_id, "Проверка", "ping 10.0.0.1", attachments=("a.txt", "b.txt"))
    otrs_set(engine, ticket_id, "CustomerUpdate", "%%CustomerID=acme;CustomerUser=jdoe;",
             customer_id="acme", customer_user_id="jdoe")
    otrs_set(engine, ticket_id, "Move", "%%Misc%%4%%Raw%%2", queue_id=4)
    otrs_set(engine, ticket_id, "Lock", "%%lock", ticket_lock_id=2)
    otrs_set(engine, ticket_id, "OwnerUpdate", "%%root@localhost%%1", user_id=1)  # OwnerSet to the same: 1 -> 1
    otrs_set(engine, ticket_id, "PriorityUpdate", "%%3 normal%%3%%5 very high%%5", ticket_priority_id=5)
    otrs_set(engine, ticket_id, "StateUpdate", "%%new%%open%%", ticket_state_id=4)
    long_title = "Сайт недоступен с утра, пользователи не могут войти в личный кабинет"
    otrs_set(engine, ticket_id, "TitleUpdate", f"%%Сайт недоступен%%{long_title[:50]}...", title=long_title)
    otrs_set(engine, ticket_id, "ResponsibleUpdate", "%%root@localhost%%1", responsible_user_id=1)
    pending = 1_900_000_020  # 2030-03-17 17:47:00 UTC; the name shows it to the minute
    otrs_set(engine, ticket_id, "SetPendingTime", "%%2030-03-17 17:47", until_time=pending)
    otrs_set(engine, ticket_id, "TypeUpdate", "%%Unclassified%%1%%Unclassified%%1", type_id=1)
    otrs_set(engine, ticket_id, "Unlock", "%%unlock", ticket_lock_id=1)
    other = create_ticket(engine, "2026112610000022", "Дубликат")
    add_note(engine, other, "Тоже", "не работает")
    merged = lookup(engine, "ticket_state", "merged")
    name = f"%%2026112610000022%%{other}%%2026112610000011%%{ticket_id}"
    otrs_history(engine, other, "Merged", name)
    otrs_history(engine, ticket_id, "Merged", name)
    otrs_set(engine, other, "StateUpdate", "%%new%%merged%%", ticket_state_id=merged)
    return ticket_id, other


def flat_changes(events: list[DomainEvent], ticket_id: int) -> list[tuple[str, Any, Any]]:
    return [(name, *values) for e in events if isinstance(e, TicketChanged) and e.ticket_id == ticket_id
            for name, values in e.changes.items()]


def by_id(events: list[DomainEvent], kind: type) -> dict[str, DomainEvent]:
    return {e.event_id: e for e in events if isinstance(e, kind) and not e.backfill}


def comparable(event: DomainEvent) -> dict[str, Any]:
    """An event's fields; occurred_at is the commit second (binlog) or the row's create_time (poll)."""
    fields = {k: v for k, v in vars(event).items() if k != "occurred_at"}
    if isinstance(event, TicketCreated):
        # the columns events speak of. change_time differs by the second; timeout is no domain column (a lock's
        # unlock-timeout reset leaves no before value in history, so the poller shows the ticket's current one)
        fields["ticket"] = {k: v for k, v in event.ticket.items() if k not in ("change_time", "timeout")}
    return fields


def assert_same_events(binlog: list[DomainEvent], poll: list[DomainEvent], tickets: tuple[int, ...]) -> None:
    for kind in (TicketCreated, ArticleCreated, HistoryAdded, TicketMerged):
        expected, got = by_id(binlog, kind), by_id(poll, kind)
        assert got.keys() == expected.keys(), kind.__name__
        for event_id, event in expected.items():
            got_fields, expected_fields = comparable(got[event_id]), comparable(event)
            if isinstance(event, TicketCreated):
                assert {k: (got_fields["ticket"].get(k), v) for k, v in expected_fields["ticket"].items()
                        if got_fields["ticket"].get(k) != v} == {}, event_id
            assert got_fields == expected_fields, event_id
            assert abs((got[event_id].occurred_at - event.occurred_at).total_seconds()) <= 1
    for ticket_id in tickets:
        assert flat_changes(poll, ticket_id) == flat_changes(binlog, ticket_id)


def test_otrs_style_writes_give_the_binlog_events(tailing, polling) -> None:
    binlog = tailing()
    poll = polling(binlog.engine)
    for tail in (binlog, poll):
        tail.wait(lambda events: any(isinstance(e, TicketCreated) and e.backfill for e in events))
    ticket_id, other = otrs_story(binlog.engine)
    last = f"history:{otrs_history(binlog.engine, ticket_id, 'Misc', 'the end')}"
    for tail in (binlog, poll):
        tail.wait(lambda events: any(e.event_id == last for e in events))

    assert_same_events(binlog.recorder.events, poll.recorder.events, (ticket_id, other))
    changes = {name: (before, after) for name, before, after in flat_changes(poll.recorder.events, ticket_id)}
    assert changes["queue_id"] == (2, 4) and changes["lock_id"] == (2, 1) and changes["state_id"] == (1, 4)
    assert changes["title"][1] == "Сайт недоступен с утра, пользователи не могут войти в личный кабинет"
    assert changes["pending_until"] == (0, 1_900_000_020) and changes["customer_user"] == (None, "jdoe")
    [merged] = poll.of(TicketMerged)
    assert (merged.ticket_id, merged.main_ticket_id) == (other, ticket_id)
    [article] = [a for a in poll.of(ArticleCreated, ticket_id) if not a.backfill]
    assert [a.filename for a in article.attachments] == ["a.txt", "b.txt"] and article.article["channel"] == "Internal"


def test_a_ticket_read_late_is_announced_as_it_was_created(tailing, polling) -> None:
    """The poller reads a ticket only when it gets to its NewTicket row; by then later setters have changed it.
    TicketCreated still shows the ticket as the binlog showed it, the changes follow as TicketChanged."""
    binlog = tailing()
    binlog.wait(lambda events: any(isinstance(e, TicketCreated) and e.backfill for e in events))
    with binlog.engine.connect() as conn:  # the poller starts after the story: its snapshot must not see it
        start = conn.execute(text("SELECT MAX(id) FROM ticket_history")).scalar_one()
    ticket_id, other = otrs_story(binlog.engine)
    last = f"history:{otrs_history(binlog.engine, ticket_id, 'Misc', 'the end')}"
    binlog.wait(lambda events: any(e.event_id == last for e in events))
    CheckpointStore(binlog.engine, "poll").save(poll_position(start, 1), poll_position(start, 1))
    poll = polling(binlog.engine)
    poll.wait(lambda events: any(e.event_id == last for e in events))
    assert_same_events(binlog.recorder.events, poll.recorder.events, (ticket_id, other))


def test_otrs_ext_service_writes_give_the_binlog_events(tailing, polling) -> None:
    binlog = tailing()
    poll = polling(binlog.engine)
    for tail in (binlog, poll):
        tail.wait(lambda events: any(isinstance(e, TicketCreated) and e.backfill for e in events))
    schema = binlog.schema
    service = TicketService(binlog.engine, schema, numbers=TicketNumbers(binlog.engine, schema, sleep=lambda s: None),
                            permissions=Permissions(schema), invalidator=Invalidator(NullOtrsCache()),
                            store=DatabaseStore(schema))
    created = service.create_ticket(1, NewTicket(title="Принтер", queue="Raw", customer_id="acme", customer_user="jd"),
                                    NewArticle(body="<p>не печатает</p>", subject="Принтер", mime_type="text/html",
                                               attachments=(Attachment(filename="x.log", content=b"12345",
                                                                       content_type="text/plain"),)))
    ticket_id = created.ticket_id
    service.move(1, ticket_id, "Junk")
    service.lock(1, ticket_id)
    service.set_priority(1, ticket_id, "5 very high")
    service.set_title(1, ticket_id, "Принтер на третьем этаже не печатает с понедельника, замяло бумагу")
    service.set_customer(1, ticket_id, None, "mm")
    service.add_article(1, ticket_id, NewArticle(body="Заменили картридж", subject="Ответ"))
    service.set_state(1, ticket_id, "closed successful")
    last = f"history:{otrs_history(binlog.engine, ticket_id, 'Misc', 'the end')}"
    for tail in (binlog, poll):
        tail.wait(lambda events: any(e.event_id == last for e in events))
    # otrs-ext creates a ticket in one transaction: the binlog folds the customer, set after the NewTicket row,
    # into TicketCreated; the poller cannot see transactions and announces it as its own change
    in_creation = {"customer_id": (None, "acme"), "customer_user": (None, "jd")}
    poll_events = [e for e in poll.recorder.events if not (isinstance(e, TicketChanged) and e.changes == in_creation)]
    assert len(poll_events) == len(poll.recorder.events) - 1
    [created] = [e for e in poll_events if e.event_id == f"ticket-created:{ticket_id}"]
    poll_events[poll_events.index(created)] = replace(created, ticket={**created.ticket, "customer_id": "acme",
                                                                       "customer_user_id": "jd"})
    assert_same_events(binlog.recorder.events, poll_events, (ticket_id,))
    assert len(by_id(poll.recorder.events, ArticleCreated)) == 2


def test_restart_resumes_from_the_watermark(polling) -> None:
    first = polling()
    first.wait(lambda events: any(isinstance(e, TicketCreated) and e.backfill for e in events))
    before = create_ticket(first.engine, "2026112610000033", "до остановки")
    first.wait(lambda events: any(e.event_id == f"ticket-created:{before}" for e in events))
    first.halt()
    checkpoint = CheckpointStore(first.engine, "poll").load()
    assert checkpoint is not None and is_poll(checkpoint.resume)
    history_mark, _ = watermarks(checkpoint.resume)

    # written while no tailer runs
    during = create_ticket(first.engine, "2026112610000044", "во время остановки")
    article_id = add_note(first.engine, during, "Пока стояли", "текст")
    otrs_set(first.engine, during, "Move", "%%Misc%%4%%Raw%%2", queue_id=4)

    second = polling(first.engine)
    events = second.wait(lambda events: any(isinstance(e, HistoryAdded) and e.history_type == "Move"
                                            for e in events))
    assert not any(e.backfill for e in events), "a restart with a checkpoint takes no snapshot"
    ids = [e.event_id for e in events]
    assert f"ticket-created:{during}" in ids and f"article-created:{article_id}" in ids
    assert f"ticket-created:{before}" not in ids  # handled before the halt and checkpointed
    assert all(e.history_id > history_mark for e in events if isinstance(e, HistoryAdded))
    [moved] = second.of(TicketChanged, during)
    assert moved.changes == {"queue_id": (2, 4)} and moved.event_id.startswith("poll-history:")


def test_a_history_id_committed_late_is_not_skipped(polling) -> None:
    tail = polling()
    tail.wait(lambda events: any(isinstance(e, TicketCreated) and e.backfill for e in events))
    ticket_id = create_ticket(tail.engine, "2026112610000055", "гонка")
    tail.wait(lambda events: any(e.event_id == f"ticket-created:{ticket_id}" for e in events))

    slow = tail.engine.connect()  # a writer whose history row gets its id first and commits last
    try:
        late = slow.execute(text(
            "INSERT INTO ticket_history (name, history_type_id, ticket_id, type_id, queue_id, owner_id, priority_id, "
            "state_id, create_time, create_by, change_time, change_by) VALUES ('late', :t, :tid, 1, 2, 1, 3, 1, NOW(), "
            "1, NOW(), 1)"), {"t": _history_type(tail.engine, "Misc"), "tid": ticket_id}).lastrowid
        early = history(tail.engine, ticket_id, "Misc", "early")
        assert early > late
        time.sleep(1.0)  # several polls: none may step over the uncommitted id
        assert not any(isinstance(e, HistoryAdded) and e.history_id >= late for e in tail.recorder.events)
        slow.commit()
    finally:
        slow.close()
    tail.wait(lambda events: any(e.event_id == f"history:{early}" for e in events))
    order = [e.history_id for e in tail.of(HistoryAdded, ticket_id)]
    assert order.index(late) < order.index(early)


def test_a_rolled_back_history_id_is_passed_after_the_grace(polling) -> None:
    tail = polling()
    tail.wait(lambda events: any(isinstance(e, TicketCreated) and e.backfill for e in events))
    ticket_id = create_ticket(tail.engine, "2026112610000066", "откат")
    with tail.engine.connect() as conn:
        conn.execute(text("INSERT INTO ticket_history (name, history_type_id, ticket_id, type_id, queue_id, owner_id, "
                          "priority_id, state_id, create_time, create_by, change_time, change_by) VALUES ('gone', "
                          ":t, :tid, 1, 2, 1, 3, 1, NOW(), 1, NOW(), 1)"),
                     {"t": _history_type(tail.engine, "Misc"), "tid": ticket_id})
        conn.rollback()
    after = history(tail.engine, ticket_id, "Misc", "after the rollback")
    started = time.monotonic()
    tail.wait(lambda events: any(e.event_id == f"history:{after}" for e in events))
    assert time.monotonic() - started >= 1.0  # it waited for the missing id (grace 3 s, timestamps to the second)


def test_history_names_decode_to_column_changes() -> None:
    names = {"ticket_state": {"new": 1, "open": 4}, "ticket_lock_type": {"unlock": 1, "lock": 2, "tmp_lock": 3}}
    row = {"queue_id": 4, "owner_id": 7, "priority_id": 5, "state_id": 4, "type_id": 2}

    def changes(kind: str, name: str) -> dict[str, tuple[Any, Any]]:
        return decode(kind, {**row, "name": name}, names)

    assert changes("Move", "%%Misc%%4%%Raw%%2") == {"queue_id": (2, 4)}
    assert changes("OwnerUpdate", "%%agent%%7") == {"user_id": (UNKNOWN, 7)}
    assert changes("StateUpdate", "%%new%%open%%") == {"ticket_state_id": (1, 4)}
    assert changes("Misc", "%%tmp_lock") == {"ticket_lock_id": (UNKNOWN, 3)}
    assert changes("Misc", "Reset of unlock time.") == {}
    assert changes("CustomerUpdate", "%%CustomerUser=jd;") == {"customer_user_id": (UNKNOWN, "jd")}
    assert changes("ServiceUpdate", "%%NULL%%%%Printing%%3") == {"service_id": (3, None)}
    assert changes("SetPendingTime", "%%00-00-00 00:00") == {"until_time": (UNKNOWN, 0)}
    assert changes("SetPendingTime", "%%2030-03-17 17:47") == {"until_time": (UNKNOWN, 1_900_000_020)}
    assert decode("SetPendingTime", {**row, "name": "%%2030-03-17 20:47"}, names, "Europe/Moscow") == {
        "until_time": (UNKNOWN, 1_900_000_020)}
    assert changes("ArchiveFlagUpdate", "%%y") == {"archive_flag": (UNKNOWN, 1)}
