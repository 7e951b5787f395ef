"""Dynamic field sets and merges write what Znuny 7.0 writes (observed through the oracle, issue 9 items 3 and
4): the ticket's change time, deleted rows when a value is cleared, the ParentChild link with its history, the
main ticket unread for everyone, the moved rows stamped with the merge. The same scenarios run against real
Znuny in ``tests/oracle/test_oracle_merge_fields.py``; these check the rows on every schema generation."""

from __future__ import annotations

from typing import Any

import pytest
from factories import audit
from ops_support import CORES, Core, shared_core
from sqlalchemy import delete, select

from otrs_ext.errors import ValidationError
from otrs_ext.tickets.dynamic_fields import history_name
from otrs_ext.tickets.inputs import NewArticle, NewTicket


@pytest.fixture(scope="module", params=CORES)
def core(request: pytest.FixtureRequest, mariadb_server, tmp_path_factory: pytest.TempPathFactory) -> Core:
    return shared_core(request, mariadb_server, tmp_path_factory)


def new_ticket(core: Core, **fields: Any) -> int:
    core.clock.advance(1)
    return core.service.create_ticket(core.agent, NewTicket(**{"title": "Printer", "queue": "Raw", **fields})).ticket_id


def field_rows(core: Core, ticket_id: int) -> list[tuple[Any, ...]]:
    return [(r["value_text"], r["value_date"], r["value_int"])
            for r in core.rows("dynamic_field_value", object_id=ticket_id)]


def names(core: Core, ticket_id: int, since: int) -> list[str]:
    return [r["name"] for r in core.history(ticket_id)[since:]]


# --- dynamic fields ---------------------------------------------------------------------------------------
def test_a_field_set_stamps_the_ticket_with_its_change(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.clock.advance(5)
    core.service.set_dynamic_field(core.agent2, ticket_id, "Topic", "billing")
    ticket = core.ticket(ticket_id)
    assert (ticket["change_time"], ticket["change_by"]) == (core.clock.current, core.agent2)
    assert core.history(ticket_id)[-1]["create_by"] == core.agent2


def test_clearing_a_text_deletes_its_row_and_clearing_nothing_writes_nothing(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.set_dynamic_field(core.agent, ticket_id, "Topic", "billing")
    core.service.set_dynamic_field(core.agent, ticket_id, "Topic", "")
    assert field_rows(core, ticket_id) == []
    core.service.set_dynamic_field(core.agent, ticket_id, "Topic", "sales")
    core.service.set_dynamic_field(core.agent, ticket_id, "Topic", None)
    assert field_rows(core, ticket_id) == []
    before, changed = len(core.history(ticket_id)), core.ticket(ticket_id)["change_time"]
    core.clock.advance(1)
    core.service.set_dynamic_field(core.agent, ticket_id, "Topic", "")  # empty already: OTRS does nothing
    core.service.set_dynamic_field(core.agent, ticket_id, "Topic", None)
    assert len(core.history(ticket_id)) == before and core.ticket(ticket_id)["change_time"] == changed
    assert names(core, ticket_id, 1) == [
        "%%FieldName%%Topic%%Value%%billing%%OldValue%%", "%%FieldName%%Topic%%Value%%%%OldValue%%billing",
        "%%FieldName%%Topic%%Value%%sales%%OldValue%%", "%%FieldName%%Topic%%Value%%%%OldValue%%sales"]


def test_checkbox_date_and_multiselect_clear_as_their_otrs_backends_do(core: Core) -> None:
    ticket_id = new_ticket(core)
    service, agent = core.service, core.agent
    service.set_dynamic_field(agent, ticket_id, "Urgent", 1)
    service.set_dynamic_field(agent, ticket_id, "Urgent", "")  # a checkbox stores "" as unchecked
    assert field_rows(core, ticket_id) == [(None, None, 0)]
    service.set_dynamic_field(agent, ticket_id, "Urgent", None)
    service.set_dynamic_field(agent, ticket_id, "Due", "2025-12-24")
    service.set_dynamic_field(agent, ticket_id, "Due", "")  # "use this date" unticked: one row, all NULL
    assert field_rows(core, ticket_id) == [(None, None, None)]
    # no value either way, so OTRS changes nothing: the NULL row stays
    service.set_dynamic_field(agent, ticket_id, "Due", "")
    service.set_dynamic_field(agent, ticket_id, "Due", None)
    service.set_dynamic_field(agent, ticket_id, "Tags", ["red", "blue"])
    service.set_dynamic_field(agent, ticket_id, "Tags", [])
    assert field_rows(core, ticket_id) == [(None, None, None)]
    assert names(core, ticket_id, 1) == [
        "%%FieldName%%Urgent%%Value%%1%%OldValue%%", "%%FieldName%%Urgent%%Value%%%%OldValue%%1",
        "%%FieldName%%Urgent%%Value%%%%OldValue%%0", "%%FieldName%%Due%%Value%%2025-12-24%%OldValue%%",
        "%%FieldName%%Due%%Value%%%%OldValue%%2025-12-24", "%%FieldName%%Tags%%Value%%red, blue%%OldValue%%",
        "%%FieldName%%Tags%%Value%%%%OldValue%%red, blue"]


def test_a_checkbox_takes_only_0_or_1(core: Core) -> None:
    ticket_id = new_ticket(core)
    with pytest.raises(ValidationError):
        core.service.set_dynamic_field(core.agent, ticket_id, "Urgent", 2)
    assert field_rows(core, ticket_id) == []


def test_long_values_are_shortened_in_the_history_as_znuny_shortens_them() -> None:
    # the names Znuny 7.0 wrote for these sets (tests/oracle: a 64-character field name, values of 100-150)
    long_name = "Long" + "x" * 60
    assert history_name("Topic", "w" * 100, "v" * 120) == \
        "%%FieldName%%Topic%%Value%%" + "w" * 100 + "%%OldValue%%" + "v" * 50 + "[...]"
    assert history_name(long_name, "y" * 150, "") == \
        f"%%FieldName%%{long_name}%%Value%%" + "y" * 97 + "[...]%%OldValue%%"
    assert history_name(long_name, "z" * 30, "y" * 150) == \
        f"%%FieldName%%{long_name}[...]%%Value%%" + "z" * 30 + "%%OldValue%%" + "y" * 50 + "[...]"


# --- merge ------------------------------------------------------------------------------------------------
def link_rows(core: Core, *ticket_ids: int) -> list[tuple[Any, ...]]:
    lr, lt = core.schema.tables.link_relation, core.schema.tables.link_type
    keys = [str(t) for t in ticket_ids]
    with core.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(lr.c.source_key, lr.c.target_key, lt.c.name, lr.c.create_time, lr.c.create_by)
            .join(lt, lt.c.id == lr.c.type_id)
            .where(lr.c.source_key.in_(keys) | lr.c.target_key.in_(keys)).order_by(lr.c.source_key, lr.c.target_key))]


def add_link(core: Core, source: int, target: int, link_type: str = "Normal") -> Any:
    """A link as OTRS's LinkAdd writes it (by user 1); returns its create_time."""
    t = core.schema.tables
    with core.engine.begin() as conn:
        object_id = conn.execute(select(t.link_object.c.id).where(t.link_object.c.name == "Ticket")).scalar()
        if object_id is None:
            object_id = conn.execute(t.link_object.insert().values(name="Ticket")).inserted_primary_key[0]
        type_id = conn.execute(select(t.link_type.c.id).where(t.link_type.c.name == link_type)).scalar_one()
        stamp = {k: v for k, v in audit(conn).items() if k.startswith("create")}
        conn.execute(t.link_relation.insert().values(
            source_object_id=object_id, source_key=str(source), target_object_id=object_id, target_key=str(target),
            type_id=type_id, state_id=1, **stamp))
    return stamp["create_time"]


def test_merge_links_the_tickets_and_moves_the_merged_tickets_links(core: Core) -> None:
    merged_id, main_id, other_id = new_ticket(core), new_ticket(core), new_ticket(core)
    with core.engine.begin() as conn:  # a database on which OTRS never made the link object yet
        conn.execute(delete(core.schema.tables.link_relation))
        conn.execute(delete(core.schema.tables.link_object))
    linked_at = add_link(core, merged_id, other_id)
    add_link(core, main_id, merged_id)  # becomes main -> main: OTRS deletes it
    merged_tn, main_tn = core.ticket(merged_id)["tn"], core.ticket(main_id)["tn"]
    core.clock.advance(1)

    core.service.merge(core.agent2, merged_id, main_id)

    now = core.clock.current
    assert link_rows(core, merged_id, main_id, other_id) == sorted([
        (str(main_id), str(merged_id), "ParentChild", now, core.agent2),
        (str(main_id), str(other_id), "Normal", linked_at, 1)])
    assert [(r["type"], r["name"], r["create_by"]) for r in core.history(main_id)[-2:]] == [
        ("Merged", f"%%{merged_tn}%%{merged_id}%%{main_tn}%%{main_id}", core.agent2),
        ("TicketLinkAdd", f"%%{merged_tn}%%{merged_id}%%{main_id}", core.agent2)]
    assert (core.history(main_id)[-1]["text"]) == f'Added link to ticket "{merged_tn}".'
    merged_rows = [(r["type"], r["name"]) for r in core.history(merged_id)]
    assert merged_rows[-4:] == [
        ("Merged", f"%%{merged_tn}%%{merged_id}%%{main_tn}%%{main_id}"),
        ("TicketLinkAdd", f"%%{main_tn}%%{main_id}%%{merged_id}"), ("StateUpdate", "%%new%%merged%%"),
        ("SetPendingTime", "%%00-00-00 00:00")]


def test_merge_marks_the_main_ticket_unread_and_stamps_the_moved_rows(core: Core) -> None:
    merged_id, main_id = new_ticket(core), new_ticket(core)
    note = NewArticle(body="Checked the toner.", subject="Note", time_units=2)
    merged_article = core.service.add_article(core.agent, merged_id, note)
    core.service.add_article(core.agent, main_id, note)
    with core.engine.begin() as conn:  # agent2 read it too (TicketFlagSet)
        conn.execute(core.schema.tables.ticket_flag.insert().values(
            ticket_id=main_id, ticket_key="Seen", ticket_value="1", create_time=core.clock.current,
            create_by=core.agent2))
    assert {r["create_by"] for r in core.rows("ticket_flag", ticket_id=main_id)} == {core.agent, core.agent2}
    core.clock.advance(7)

    core.service.merge(core.agent2, merged_id, main_id)

    now = core.clock.current
    assert core.rows("ticket_flag", ticket_id=main_id) == []
    [moved] = [a for a in core.articles(main_id) if a["id"] == merged_article]
    assert (moved["change_time"], moved["change_by"]) == (now, core.agent2)
    moved_history = [r for r in core.history(main_id) if r["article_id"] == merged_article]
    assert {r["type"] for r in moved_history} == {"AddNote", "TimeAccounting"}
    assert all((r["change_time"], r["change_by"]) == (now, core.agent2) for r in moved_history)
    assert all(r["create_time"] < now for r in moved_history)
    [booked] = core.rows("time_accounting", article_id=merged_article)
    assert (booked["ticket_id"], booked["change_time"], booked["change_by"]) == (main_id, now, core.agent2)
    # the merged ticket's own rows without an article stay where they are
    assert [r["type"] for r in core.history(merged_id)][:1] == ["NewTicket"]
    main = core.ticket(main_id)
    assert (main["change_time"], main["change_by"]) == (now, core.agent2)
