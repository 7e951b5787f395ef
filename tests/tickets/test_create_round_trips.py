"""A create's rows in few statements: the customer and the unlock-timeout reset go into the ticket's INSERT,
the history rows into one multi-row INSERT, plain rows skip SQLAlchemy's per-execute work, and a queue grant
seen moments ago answers the create's permission check. The rows stay those OTRS writes (tests/oracle)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from factories import add_agent, add_group, add_queue, grant
from sqlalchemy import Connection, create_engine, event, select

from otrs_ext.errors import PermissionDenied
from otrs_ext.tickets import statements
from otrs_ext.tickets.inputs import NewArticle, NewTicket
from otrs_ext.tickets.permissions import Permissions
from otrs_ext.tickets.write import Write
from schema_maps import OtrsSchema
from schema_maps.install import install


def _statements(engine) -> list[str]:
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: sent.append(" ".join(sql.split()[:3])))
    return sent


def _epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


@pytest.mark.parametrize("sender, timeout_reset", [("agent", True), ("customer", False)])
def test_a_create_inserts_the_ticket_whole_and_its_history_at_once(ticket_core, sender: str,
                                                                   timeout_reset: bool) -> None:
    core = ticket_core("znuny71")
    sent = _statements(core.engine)
    created = core.service.create_ticket(core.agent, NewTicket(
        title="Printer on fire", queue="Raw", customer_user="jane@acme.test"), NewArticle(
        body="It smokes.", subject="Printer", sender_type=sender, history_type="PhoneCallCustomer"))
    assert not [s for s in sent if s.startswith("UPDATE ticket ")]
    assert [s for s in sent if s.startswith("INSERT INTO ticket_history")] == ["INSERT INTO ticket_history"]
    now = core.clock.current
    t, h = core.schema.tables.ticket, core.schema.tables.ticket_history
    with core.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == created.ticket_id)).mappings().one()
        history = conn.execute(select(h.c.name).where(h.c.ticket_id == created.ticket_id).order_by(h.c.id)).scalars()
        names = list(history)
    assert (row["customer_id"], row["customer_user_id"]) == ("", "jane@acme.test")
    assert row["timeout"] == (_epoch(now) if timeout_reset else 0)
    assert (row["change_time"], row["change_by"]) == (now, core.agent)
    assert names[0].startswith(f"%%{created.tn}%%Raw%%") and names[1] == "%%CustomerID=;CustomerUser=jane@acme.test;"
    assert (names[-1] == "Reset of unlock time.") is timeout_reset


def test_an_update_that_changes_nothing_is_left_out_and_settle_puts_back_what_a_step_did_not_set(
        ticket_core) -> None:
    core = ticket_core("znuny71")
    schema: OtrsSchema = core.schema
    with core.engine.begin() as conn:
        sent = _statements(conn)
        w = Write(conn=conn, schema=schema, lookups=core.service.lookups(), now=core.clock.current,
                  user_id=core.agent)
        values = {"tn": "2025112510000018", "title": "t", "queue_id": 2, "ticket_lock_id": 1, "type_id": 1,
                  "user_id": 1, "responsible_user_id": 1, "ticket_priority_id": 3, "ticket_state_id": 1,
                  "timeout": 0, "until_time": 0, "escalation_time": 0, "escalation_update_time": 0,
                  "escalation_response_time": 0, "escalation_solution_time": 0, "archive_flag": 0,
                  "create_time": w.now, "create_by": w.user_id, "change_time": w.now, "change_by": w.user_id}
        ahead = {**values, "timeout": 1234}  # as if a later step were to set it
        ticket_id = statements.run_insert(conn, schema.tables.ticket, ahead).lastrowid
        w.inserted_ticket(ticket_id, ahead)
        ticket = {"id": ticket_id, **values}
        sent.clear()
        ticket = w.update_ticket(ticket, title="t")  # the row holds all of it: nothing to send
        assert sent == []
        ticket = w.update_ticket(ticket, title="new")
        assert sent == ["UPDATE ticket SET"]
        sent.clear()
        w.settle(ticket)  # no step set the timeout after all: the row gets the ticket's 0 back
        assert sent == ["UPDATE ticket SET"]
        t = schema.tables.ticket
        assert conn.execute(select(t.c.timeout, t.c.title).where(t.c.id == ticket_id)).one() == (0, "new")
        sent.clear()
        w.settle(ticket)
        assert sent == []


def test_plain_rows_go_to_the_driver_as_sqlalchemy_would_send_them(ticket_core) -> None:
    core = ticket_core("znuny71")
    flags = core.schema.tables.article_flag
    row = {"article_id": 7, "article_key": "Seen", "article_value": "1", "create_time": core.clock.current,
           "create_by": core.agent}
    with core.engine.begin() as conn:
        sent: list[tuple[str, object]] = []
        event.listen(conn, "before_cursor_execute", lambda c, cur, sql, params, ctx, many: sent.append((sql, params)))
        conn.execute(statements.insert(flags), row)
        statements.run_insert(conn, flags, row)
        statements.run_insert(conn, flags, [row, {**row, "article_id": 8}])  # one multi-row INSERT
        assert sent[0] == sent[1]
        assert sent[2][0] == sent[0][0] and list(sent[2][1]) == [row, {**row, "article_id": 8}]
        assert conn.execute(select(flags.c.article_id).order_by(flags.c.article_id)).scalars().all() == [7, 7, 7, 8]
        conn.rollback()
    assert statements._plain_insert_sql(core.schema.tables.scheduler_task, ("ident", "task_data"),
                                        core.engine.dialect) is None  # binary: SQLAlchemy converts it


# --- the create's queue permission, remembered for a moment ---------------------------------------------
@pytest.fixture(scope="module")
def znuny_db(mariadb_server) -> Iterator[tuple[object, OtrsSchema]]:
    mariadb_server.create_database("grant_cache")
    engine = create_engine(mariadb_server.url("grant_cache"))
    with engine.begin() as conn:
        schema = install(conn, "znuny71")
    yield engine, schema
    engine.dispose()
    mariadb_server.drop_database("grant_cache")


@pytest.fixture
def conn(znuny_db) -> Iterator[Connection]:
    engine, _ = znuny_db
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


def test_a_grant_answers_for_grant_ttl_and_a_refusal_is_never_remembered(znuny_db, conn: Connection) -> None:
    _, schema = znuny_db
    now = [100.0]
    p = Permissions(schema, grant_ttl=10.0, clock=lambda: now[0])
    group = add_group(conn, schema)
    queue = add_queue(conn, schema, group_id=group)
    agent = add_agent(conn, schema)
    sent = _statements(conn)
    with pytest.raises(PermissionDenied):
        p.require_queue(conn, agent, queue, "create", remembered=True)
    grant(conn, schema, agent, group, "create")
    sent.clear()
    p.require_queue(conn, agent, queue, "create", remembered=True)  # the refusal was not kept: asked again
    assert len(sent) == 1
    gu = schema.tables.group_user
    conn.execute(gu.delete().where(gu.c.user_id == agent))  # revoked ...
    now[0] += 9.9
    p.require_queue(conn, agent, queue, "create", remembered=True)  # ... but the grant just seen still answers
    assert len(sent) == 2  # (the DELETE)
    now[0] += 0.1
    assert not p.can_queue(conn, agent, queue, "create", remembered=True)  # seen 10 s ago: asked again
    assert len(sent) == 3


def test_grants_are_remembered_only_with_a_ttl_and_when_asked_to(znuny_db, conn: Connection) -> None:
    _, schema = znuny_db
    p = Permissions(schema)
    group = add_group(conn, schema)
    queue = add_queue(conn, schema, group_id=group)
    agent = add_agent(conn, schema)
    grant(conn, schema, agent, group, "create")
    sent = _statements(conn)
    for _ in range(3):
        p.require_queue(conn, agent, queue, "create", remembered=True)
    assert len(sent) == 3
    remembering = Permissions(schema, grant_ttl=10.0)
    remembering.require_queue(conn, agent, queue, "create", remembered=True)
    assert remembering.can_queue(conn, agent, queue, "create") and len(sent) == 5  # only asked for it remembers
