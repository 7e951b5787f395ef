"""``run_seed`` into real OTRS databases: what OTRS (and a person looking at its screens) would see.

One seed per generation is shared by the assertions of this module (about 150 tickets each).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text

from otrs_ext.db.lookups import Lookups
from otrs_ext.seed import SeedReport, run_seed
from otrs_ext.seed.org import OWNER_KEYS
from otrs_ext.tickets.numbers import is_date_checksum
from schema_maps import OtrsSchema

NOW = datetime(2025, 11, 25, 20, 0, 0)
TICKETS, MEAN = 150, 4
GENERATIONS = ["znuny71", "otrs5", "otobo11"]


@pytest.fixture(scope="module", params=GENERATIONS)
def seeded(request, module_otrs_db) -> tuple[Engine, OtrsSchema, SeedReport]:
    engine, schema = module_otrs_db(request.param)
    report = run_seed(engine, schema, tickets=TICKETS, articles_per_ticket=MEAN, seed=7, progress=False,
                      batch_size=40, now=NOW)
    return engine, schema, report


def _rows(engine: Engine, query) -> list:
    with engine.connect() as conn:
        return conn.execute(query).all()


def _lookups(engine: Engine, schema: OtrsSchema) -> Lookups:
    with engine.connect() as conn:
        return Lookups.load(conn, schema)


def test_report_counts_what_is_in_the_database(seeded) -> None:
    engine, schema, report = seeded
    t = schema.tables
    assert report.tickets == TICKETS
    assert _rows(engine, select(func.count()).select_from(t.ticket))[0][0] == TICKETS + 1  # + welcome ticket
    assert report.counts["ticket"] == TICKETS
    in_db = _rows(engine, select(func.count()).select_from(t.ticket_history))[0][0]
    assert report.counts[t.ticket_history.name] == in_db - 1  # the welcome ticket's row is the install's
    assert abs(report.articles - TICKETS * MEAN) < 0.1 * TICKETS * MEAN  # the mean is what was asked
    assert report.rows_per_second > 0 and report.seconds > 0


def test_every_ticket_starts_with_an_article_and_new_ticket_history(seeded) -> None:
    engine, schema, _ = seeded
    t = schema.tables
    tickets = {r.id: r for r in _rows(engine, select(t.ticket).where(t.ticket.c.id > 1))}
    per_ticket = dict(_rows(engine, select(t.article.c.ticket_id, func.count())
                            .group_by(t.article.c.ticket_id)))
    assert all(per_ticket.get(i, 0) >= 1 for i in tickets)
    assert max(per_ticket.values()) > MEAN  # counts vary per ticket
    htype = dict(_rows(engine, select(t.ticket_history_type.c.id, t.ticket_history_type.c.name)))
    history = defaultdict(list)
    for row in _rows(engine, select(t.ticket_history).where(t.ticket_history.c.ticket_id > 1)
                     .order_by(t.ticket_history.c.id)):
        history[row.ticket_id].append(row)
    queues = dict(_rows(engine, select(t.queue.c.id, t.queue.c.name)))
    for tid, ticket in tickets.items():
        first, last = history[tid][0], history[tid][-1]
        assert htype[first.history_type_id] == "NewTicket"
        tn, queue, _priority, _state, ticket_id = first.name.removeprefix("%%").split("%%")
        assert (tn, ticket_id, queue) == (ticket.tn, str(tid), queues[first.queue_id])
        assert htype[history[tid][1].history_type_id] == "CustomerUpdate"
        # the last history row holds the ticket's final snapshot
        snapshot = (last.queue_id, last.owner_id, last.priority_id, last.state_id, last.type_id)
        final = (ticket.queue_id, ticket.user_id, ticket.ticket_priority_id, ticket.ticket_state_id,
                 ticket.type_id)
        assert snapshot == final
        assert (ticket.change_time, ticket.change_by) == (last.create_time, last.create_by)
        times = [h.create_time for h in history[tid]]
        assert times == sorted(times) and ticket.create_time == times[0] <= ticket.change_time <= NOW


def test_ticket_numbers_are_date_checksums_of_the_creation_day(seeded) -> None:
    engine, schema, _ = seeded
    t = schema.tables
    rows = _rows(engine, select(t.ticket.c.tn, t.ticket.c.create_time).where(t.ticket.c.id > 1))
    assert len({tn for tn, _ in rows}) == len(rows)
    for tn, created in rows:
        assert is_date_checksum(tn) and tn[:8] == created.strftime("%Y%m%d")


def test_states_locks_and_times_agree(seeded) -> None:
    engine, schema, _ = seeded
    t = schema.tables
    look = _lookups(engine, schema)
    lock = {v: k for k, v in look.names("ticket_lock_type").items()}
    state_names = {v: k for k, v in look.names("ticket_state").items()}
    htype = look.names("ticket_history_type")
    last_state_update = {}
    for tid, name, state_id in _rows(engine, select(t.ticket_history.c.ticket_id, t.ticket_history.c.name,
                                                    t.ticket_history.c.state_id)
                                     .where(t.ticket_history.c.history_type_id == htype["StateUpdate"])
                                     .order_by(t.ticket_history.c.id)):
        last_state_update[tid] = (name, state_id)
    seen_types = set()
    for ticket in _rows(engine, select(t.ticket).where(t.ticket.c.id > 1)):
        kind = look.state_types[ticket.ticket_state_id]
        seen_types.add(kind)
        assert ticket.escalation_time == ticket.escalation_update_time == 0
        if kind.startswith("pending"):
            assert ticket.until_time > 0
        else:
            assert ticket.until_time == 0
        if kind in ("closed", "merged", "removed"):
            name, state_id = last_state_update[ticket.id]
            assert state_id == ticket.ticket_state_id and name.endswith(f"%%{state_names[state_id]}%%")
            assert lock[ticket.ticket_lock_id] == "unlock"
        if kind == "new":
            assert last_state_update.get(ticket.id, ("", ticket.ticket_state_id))[1] == ticket.ticket_state_id
        if lock[ticket.ticket_lock_id] == "lock":
            assert ticket.user_id != 1 and ticket.timeout > 0
    assert {"closed", "open"} <= seen_types and seen_types & {"pending reminder", "pending auto", "new"}


def test_owners_may_own_in_their_queue(seeded) -> None:
    engine, schema, _ = seeded
    t = schema.tables
    keys: dict[tuple[int, int], set[str]] = defaultdict(set)
    gu = t.group_user
    query = select(gu.c.user_id, gu.c.group_id, gu.c.permission_key)
    if "permission_value" in gu.c:
        query = query.where(gu.c.permission_value == 1)
    for user, group, key in _rows(engine, query):
        keys[user, group].add(key)
    for user, group, key in _rows(engine, select(t.role_user.c.user_id, t.group_role.c.group_id,
                                                 t.group_role.c.permission_key)
                                  .join(t.group_role, t.group_role.c.role_id == t.role_user.c.role_id)
                                  .where(t.group_role.c.permission_value == 1)):
        keys[user, group].add(key)
    rows = _rows(engine, select(t.ticket.c.user_id, t.queue.c.group_id)
                 .join(t.queue, t.queue.c.id == t.ticket.c.queue_id).where(t.ticket.c.id > 1))
    owned = [(u, g) for u, g in rows if u != 1]
    assert len(owned) > TICKETS // 2
    for user, group in owned:
        assert keys[user, group] & {"ro", "rw"} and keys[user, group] & OWNER_KEYS, (user, group)


def test_articles_look_like_otrs_wrote_them(seeded) -> None:
    engine, schema, _ = seeded
    layout = schema.articles
    arts = _rows(engine, layout.select().where(text("ticket_id > 1")))
    assert all(a.a_content_type == "text/plain; charset=utf-8" for a in arts)
    with_mid = [a for a in arts if a.a_message_id]
    assert with_mid
    for a in with_mid:
        assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", a.a_message_id)
        assert a.a_message_id_md5 == hashlib.md5(a.a_message_id.encode()).hexdigest()
    assert all(a.a_message_id_md5 is None for a in arts if not a.a_message_id)
    for a in arts:
        assert a.content_path == a.create_time.strftime("%Y/%m/%d")
        assert datetime.fromtimestamp(a.incoming_time, UTC).replace(tzinfo=None) == a.create_time
        assert a.a_reply_to == "" and a.a_body
    channels = {(a.channel, a.is_visible_for_customer) for a in arts}
    assert {("Email", 1), ("Phone", 1), ("Internal", 0), ("Internal", 1)} <= channels
    body = "\n".join(a.a_body for a in arts)
    assert re.search(r"[А-Яа-яё]{5,}", body) and re.search(r"\b(please|Thank|the)\b", body)
    assert re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", body)  # IPv4
    assert re.search(r"\b[\w.-]+@[\w-]+(\.[\w-]+)*\.(ru|com|net|org)\b", body)  # e-mail addresses
    assert re.search(r"\b[\w-]+\.(ru|com|net|org|su|online|рф)\b", body)  # domains
    assert re.search(r"^> ", body, re.M) and "Ticket#" in "".join(a.a_subject for a in arts)
    assert max(len(a.a_body.encode()) for a in arts) > 2000


def test_html_bodies_and_attachments(seeded) -> None:
    engine, schema, _ = seeded
    att = schema.articles.attachments
    rows = _rows(engine, select(att))
    html = [r for r in rows if r.filename == "file-2"]
    assert html and all(r.content_type == 'text/html; charset="utf-8"' and r.disposition == "" and
                        r.content_id is None and r.content_alternative is None for r in html)
    files = [r for r in rows if r.filename != "file-2"]
    assert files and all(r.content_size == str(len(r.content)) for r in rows)
    assert any(r.content.startswith(b"\x89PNG") for r in files)
    assert all(r.content_id.startswith("<") for r in files if r.content_id)
    per_article = defaultdict(list)
    for r in rows:
        per_article[r.article_id].append(r)
    for items in per_article.values():
        names = [r.filename for r in items]
        assert len(names) == len(set(names))  # duplicates were renamed
        if "file-2" in names:
            assert names[0] == "file-2"  # before the real attachments by id (§13.4)
    html_ids = [r.article_id for r in html][:50]
    bodies = _rows(engine, schema.articles.select().where(schema.tables.article.c.id.in_(html_ids)))
    assert all(b.a_body.startswith("\n") and b.a_body.endswith("\n\n") for b in bodies)  # plain rendering
    plain = _rows(engine, select(schema.articles.plain.c.body).limit(20))
    assert plain and all(b"Message-ID: <" in p.body and b"MIME-Version: 1.0" in p.body for p in plain)


def test_seen_flags_belong_to_agents(seeded) -> None:
    engine, schema, _ = seeded
    t = schema.tables
    agents = {i for (i,) in _rows(engine, select(t.users.c.id).where(t.users.c.id > 1))}
    flags = _rows(engine, select(t.article_flag))
    assert flags
    assert all(f.article_key == "Seen" and f.article_value == "1" and f.create_by in agents for f in flags)
    tflags = _rows(engine, select(t.ticket_flag))
    assert tflags and all(f.create_by in agents for f in tflags)
    if schema.traits.surrogate_ids:
        assert all(f.id for f in flags)


def test_generation_specifics(seeded) -> None:
    engine, schema, _ = seeded
    t = schema.tables
    if schema.traits.create_time_unix:  # OTRS 5
        for created, unix in _rows(engine, select(t.ticket.c.create_time, t.ticket.c.create_time_unix)
                                   .where(t.ticket.c.id > 1)):
            assert datetime.fromtimestamp(unix, UTC).replace(tzinfo=None) == created
        assert _rows(engine, select(func.min(t.group_user.c.permission_value)))[0][0] == 1
    else:
        assert _rows(engine, select(func.min(t.article.c.search_index_needs_rebuild)))[0][0] == 1
        assert _rows(engine, select(func.count()).select_from(t.customer_user_customer))[0][0] >= 0
    longest = _rows(engine, select(func.max(func.char_length(t.ticket.c.title))))[0][0]
    assert longest <= schema.traits.title_len
