"""Ticket create and every ticket setter write the rows OTRS writes (OTRS_INTERNALS §4.2, §4.4, §13), column
by column, and their history names render to the sentences of the OTRS history screen (§5).

Each test runs on the project's own schema definitions of OTRS 5, OTRS 6, Znuny 7.1 and OTOBO 11 and on the
genuine schema files of the same generations (a representative subset there); one database per generation
serves every test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import add_agent, add_watcher, audit
from ops_support import CORES, Core, own_schemas_only, shared_core

from otrs_ext.tickets.inputs import NewArticle, NewTicket
from otrs_ext.tickets.otrs_cache import article_list_keys, dynamic_field_keys, ticket_flag_keys, ticket_keys

RESET = ("Misc", "Reset of unlock time.")
NO_PENDING = ("SetPendingTime", "%%00-00-00 00:00")


@pytest.fixture(scope="module", params=CORES)
def core(request: pytest.FixtureRequest, mariadb_server, tmp_path_factory: pytest.TempPathFactory) -> Core:
    return shared_core(request, mariadb_server, tmp_path_factory)


def epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def new_ticket(core: Core, **fields: Any) -> int:
    """A ticket as agent1 creates it, one second after whatever the previous test did."""
    core.clock.advance(1)
    ticket = NewTicket(**{"title": "Printer on fire", "queue": "Raw", **fields})
    return core.service.create_ticket(core.agent, ticket).ticket_id


def note(**fields: Any) -> NewArticle:
    return NewArticle(**{"body": "Checked the toner.", "subject": "Note", "from_": "Bench Agent <agent1@example.com>",
                         **fields})


def snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("type_id", "queue_id", "owner_id", "priority_id", "state_id")}


def ticket_snapshot(core: Core, ticket_id: int) -> dict[str, Any]:
    t = core.ticket(ticket_id)
    return {"type_id": t["type_id"], "queue_id": t["queue_id"], "owner_id": t["user_id"],
            "priority_id": t["ticket_priority_id"], "state_id": t["ticket_state_id"]}


def new_rows(core: Core, ticket_id: int, before: int) -> list[dict[str, Any]]:
    return core.history(ticket_id)[before:]


# --- TicketCreate -----------------------------------------------------------------------------------------
def test_create_writes_the_ticket_row_and_its_history(core: Core) -> None:
    core.clock.advance(1)
    created = core.service.create_ticket(core.agent, NewTicket(
        title="Printer on fire", queue="Raw", customer_id="ACME", customer_user="jane@acme.test"))
    now = core.clock.current
    row = core.ticket(created.ticket_id)
    expected = {
        "tn": created.tn, "title": "Printer on fire", "queue_id": core.id("queue", "Raw"),
        "ticket_lock_id": core.id("ticket_lock_type", "unlock"), "type_id": core.id("ticket_type", "Unclassified"),
        "service_id": None, "sla_id": None, "user_id": 1, "responsible_user_id": 1,
        "ticket_priority_id": core.id("ticket_priority", "3 normal"), "ticket_state_id": core.id("ticket_state", "new"),
        "customer_id": "ACME", "customer_user_id": "jane@acme.test", "timeout": 0, "until_time": 0,
        "escalation_time": 0, "escalation_update_time": 0, "escalation_response_time": 0,
        "escalation_solution_time": 0, "archive_flag": 0,
        "create_time": now, "create_by": core.agent, "change_time": now, "change_by": core.agent,
    }
    assert {k: row[k] for k in expected} == expected
    if "create_time_unix" in row:  # OTRS 5
        assert row["create_time_unix"] == epoch(now)

    history = core.history(created.ticket_id)
    assert [(r["type"], r["name"]) for r in history] == [
        ("NewTicket", f"%%{created.tn}%%Raw%%3 normal%%new%%{created.ticket_id}"),
        ("CustomerUpdate", "%%CustomerID=ACME;CustomerUser=jane@acme.test;"),
    ]
    assert [r["text"] for r in history] == [
        f'Created ticket [{created.tn}] in "Raw" with priority "3 normal" and state "new".',
        'Changed customer to "CustomerID=ACME;CustomerUser=jane@acme.test;".',
    ]
    for r in history:
        assert snapshot(r) == ticket_snapshot(core, created.ticket_id)
        assert (r["article_id"], r["create_by"], r["change_by"], r["create_time"]) == (
            None, core.agent, core.agent, now)
    assert core.articles(created.ticket_id) == []
    assert core.rows("ticket_flag", ticket_id=created.ticket_id) == []


@own_schemas_only
def test_create_with_owner_lock_type_and_state_writes_them_without_setter_rows(core: Core) -> None:
    ticket_id = new_ticket(core, owner_id=core.agent, responsible_id=core.agent2, lock="lock", state="open",
                           priority="4 high", type="Incident")
    row = core.ticket(ticket_id)
    assert (row["user_id"], row["responsible_user_id"], row["ticket_lock_id"], row["ticket_state_id"],
            row["ticket_priority_id"], row["type_id"]) == (
        core.agent, core.agent2, core.id("ticket_lock_type", "lock"), core.id("ticket_state", "open"),
        core.id("ticket_priority", "4 high"), core.id("ticket_type", "Incident"))
    assert (row["timeout"], row["customer_id"], row["customer_user_id"]) == (0, None, None)
    assert core.entries(ticket_id) == [("NewTicket", f"%%{row['tn']}%%Raw%%4 high%%open%%{ticket_id}")]
    assert snapshot(core.history(ticket_id)[0])["owner_id"] == core.agent


@own_schemas_only
def test_create_with_only_a_customer_user_writes_an_empty_customer_id(core: Core) -> None:
    """TicketCreate hands both values to TicketCustomerSet, the missing one as '' (§13 item 8)."""
    ticket_id = new_ticket(core, customer_user="jane@acme.test")
    row = core.ticket(ticket_id)
    assert (row["customer_id"], row["customer_user_id"]) == ("", "jane@acme.test")
    assert core.entries(ticket_id)[-1] == ("CustomerUpdate", "%%CustomerID=;CustomerUser=jane@acme.test;")


def test_create_with_a_customer_first_article(core: Core) -> None:
    core.clock.advance(1)
    created = core.service.create_ticket(
        core.agent, NewTicket(title="Printer on fire", queue="Raw", customer_user="jane@acme.test"),
        NewArticle(body="It smokes.", subject="Printer", channel="Phone", sender_type="customer",
                   visible_for_customer=True, from_="jane@acme.test", history_type="PhoneCallCustomer",
                   history_comment="%%"))
    history = core.history(created.ticket_id)
    assert [(r["type"], r["name"], r["article_id"]) for r in history] == [
        ("NewTicket", f"%%{created.tn}%%Raw%%3 normal%%new%%{created.ticket_id}", None),
        ("CustomerUpdate", "%%CustomerID=;CustomerUser=jane@acme.test;", None),
        ("PhoneCallCustomer", "%%", created.article_id),
    ]
    assert history[-1]["text"] == "Added phone call from customer."
    assert [a["id"] for a in core.articles(created.ticket_id)] == [created.article_id]
    assert core.ticket(created.ticket_id)["timeout"] == 0  # a customer's first article restarts nothing


@own_schemas_only
def test_create_with_an_agent_first_article_resets_the_unlock_timeout(core: Core) -> None:
    core.clock.advance(1)
    created = core.service.create_ticket(
        core.agent, NewTicket(title="Printer on fire", queue="Raw"),
        NewArticle(body="Called about the printer.", subject="Printer", channel="Email", sender_type="agent",
                   visible_for_customer=True, to="jane@acme.test", history_type="EmailAgent", history_comment="%%"))
    assert core.entries(created.ticket_id)[1:] == [("EmailAgent", "%%"), RESET]
    assert core.history(created.ticket_id)[1]["text"] == "Sent email to customer."
    row = core.ticket(created.ticket_id)
    assert (row["timeout"], row["change_time"], row["change_by"]) == (
        epoch(core.clock.current), core.clock.current, core.agent)


@own_schemas_only
def test_create_with_dynamic_fields(core: Core) -> None:
    ticket_id = new_ticket(core, dynamic_fields={"Topic": "billing", "Tags": ["red", "blue"]})
    assert core.entries(ticket_id)[1:] == [
        ("TicketDynamicFieldUpdate", "%%FieldName%%Topic%%Value%%billing%%OldValue%%"),
        ("TicketDynamicFieldUpdate", "%%FieldName%%Tags%%Value%%red, blue%%OldValue%%"),
    ]
    assert core.reader.get(ticket_id=ticket_id).dynamic_fields == {"Topic": "billing", "Tags": ["red", "blue"]}


# --- lock, owner, responsible, move -----------------------------------------------------------------------
def test_lock_resets_the_unlock_timeout_and_unlock_does_not(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.clock.advance(1)
    locked_at = core.clock.current
    core.service.lock(core.agent, ticket_id)
    row = core.ticket(ticket_id)
    assert (row["ticket_lock_id"], row["timeout"], row["change_time"], row["change_by"]) == (
        core.id("ticket_lock_type", "lock"), epoch(locked_at), locked_at, core.agent)
    rows = new_rows(core, ticket_id, 1)
    assert [(r["type"], r["name"]) for r in rows] == [("Lock", "%%lock"), RESET]
    assert [r["text"] for r in rows] == ["Locked ticket.", "Reset of unlock time."]

    core.clock.advance(1)
    core.service.unlock(core.agent, ticket_id)
    row = core.ticket(ticket_id)
    assert (row["ticket_lock_id"], row["timeout"], row["change_time"]) == (
        core.id("ticket_lock_type", "unlock"), epoch(locked_at), core.clock.current)
    assert core.history(ticket_id)[-1]["name"] == "%%unlock"
    assert core.history(ticket_id)[-1]["text"] == "Unlocked ticket."


@own_schemas_only
def test_tmp_lock_is_a_misc_row_without_timeout_reset(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.lock(core.agent, ticket_id, "tmp_lock")
    assert core.entries(ticket_id)[1:] == [("Misc", "%%tmp_lock")]
    assert core.history(ticket_id)[-1]["text"] == "tmp_lock"
    assert core.ticket(ticket_id)["timeout"] == 0


@own_schemas_only
def test_a_second_timeout_reset_in_the_same_second_writes_nothing(core: Core) -> None:
    """TicketUnlockTimeoutUpdate returns early when ``timeout`` already holds the new value."""
    ticket_id = new_ticket(core)
    core.service.add_article(core.agent, ticket_id, note())
    core.service.lock(core.agent, ticket_id)
    assert core.entries(ticket_id)[1:] == [("AddNote", "%%Note"), RESET, ("Lock", "%%lock")]


@own_schemas_only
def test_set_owner(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.set_owner(core.agent, ticket_id, core.agent2)
    assert core.ticket(ticket_id)["user_id"] == core.agent2
    (row,) = new_rows(core, ticket_id, 1)
    assert (row["type"], row["name"], row["owner_id"], row["create_by"]) == (
        "OwnerUpdate", f"%%agent2%%{core.agent2}", core.agent2, core.agent)
    assert row["text"] == f'Changed owner to "agent2" ({core.agent2}).'


@own_schemas_only
def test_set_responsible(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.set_responsible(core.agent, ticket_id, core.agent2)
    row = core.ticket(ticket_id)
    assert (row["responsible_user_id"], row["user_id"]) == (core.agent2, 1)
    (entry,) = new_rows(core, ticket_id, 1)
    assert (entry["type"], entry["name"], entry["owner_id"]) == ("ResponsibleUpdate", f"%%agent2%%{core.agent2}", 1)
    assert entry["text"] == f'Changed responsible to "agent2" ({core.agent2}).'


def test_move_of_a_locked_ticket_is_followed_by_an_unlock_as_user_1(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.lock(core.agent, ticket_id)
    core.clock.advance(1)
    core.service.move(core.agent, ticket_id, "Misc")
    raw, misc = core.id("queue", "Raw"), core.id("queue", "Misc")
    moved, unlocked = new_rows(core, ticket_id, 3)
    assert (moved["type"], moved["name"], moved["queue_id"], moved["create_by"]) == (
        "Move", f"%%Misc%%{misc}%%Raw%%{raw}", misc, core.agent)
    assert moved["text"] == f'Changed queue to "Misc" ({misc}) from "Raw" ({raw}).'
    assert (unlocked["type"], unlocked["name"], unlocked["create_by"], unlocked["change_by"]) == (
        "Unlock", "%%unlock", 1, 1)
    row = core.ticket(ticket_id)
    assert (row["queue_id"], row["ticket_lock_id"], row["change_by"], row["change_time"]) == (
        misc, core.id("ticket_lock_type", "unlock"), 1, core.clock.current)


@own_schemas_only
def test_move_of_an_unlocked_ticket_writes_only_the_move(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.move(core.agent, ticket_id, "Junk")
    assert [e[0] for e in core.entries(ticket_id)[1:]] == ["Move"]
    assert core.ticket(ticket_id)["change_by"] == core.agent


# --- state and pending time -------------------------------------------------------------------------------
def test_close_writes_state_update_then_the_pending_reset(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.set_state(core.agent, ticket_id, "closed successful")
    closed = core.id("ticket_state", "closed successful")
    rows = new_rows(core, ticket_id, 1)
    assert [(r["type"], r["name"], r["state_id"]) for r in rows] == [
        ("StateUpdate", "%%new%%closed successful%%", closed), (*NO_PENDING, closed)]
    assert [r["text"] for r in rows] == ['Changed state from "new" to "closed successful".',
                                         'Changed pending time to "00-00-00 00:00".']
    row = core.ticket(ticket_id)
    assert (row["ticket_state_id"], row["until_time"], row["change_by"]) == (closed, 0, core.agent)


def test_pending_state_with_a_time_and_back_to_open(core: Core) -> None:
    ticket_id = new_ticket(core)
    until = datetime(2025, 12, 1, 9, 30)
    core.service.set_state(core.agent, ticket_id, "pending reminder", pending_until=until)
    assert core.entries(ticket_id)[1:] == [("StateUpdate", "%%new%%pending reminder%%"),
                                           ("SetPendingTime", "%%2025-12-01 09:30")]
    assert core.history(ticket_id)[-1]["text"] == 'Changed pending time to "2025-12-01 09:30".'
    assert core.ticket(ticket_id)["until_time"] == epoch(until)

    core.service.set_state(core.agent, ticket_id, "open")
    assert core.entries(ticket_id)[3:] == [("StateUpdate", "%%pending reminder%%open%%"), NO_PENDING]
    assert core.ticket(ticket_id)["until_time"] == 0


@own_schemas_only
def test_set_pending_time_writes_even_an_unchanged_time(core: Core) -> None:
    """TicketPendingTimeSet has no no-op check (§4.4)."""
    ticket_id = new_ticket(core, state="pending reminder")
    until = datetime(2025, 12, 2, 8, 0)
    core.service.set_pending_time(core.agent, ticket_id, until)
    core.service.set_pending_time(core.agent, ticket_id, until)
    core.service.set_pending_time(core.agent, ticket_id, None)
    assert core.entries(ticket_id)[1:] == [("SetPendingTime", "%%2025-12-02 08:00")] * 2 + [NO_PENDING]
    assert core.ticket(ticket_id)["until_time"] == 0


@own_schemas_only
# --- priority, title, type, customer ----------------------------------------------------------------------
def test_set_priority(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.set_priority(core.agent, ticket_id, "4 high")
    normal, high = core.id("ticket_priority", "3 normal"), core.id("ticket_priority", "4 high")
    assert core.ticket(ticket_id)["ticket_priority_id"] == high
    (row,) = new_rows(core, ticket_id, 1)
    assert (row["type"], row["name"], row["priority_id"]) == (
        "PriorityUpdate", f"%%3 normal%%{normal}%%4 high%%{high}", high)
    assert row["text"] == f'Changed priority from "3 normal" ({normal}) to "4 high" ({high}).'


@own_schemas_only
@pytest.mark.parametrize(("title", "shown"), [
    ("Toner replaced", "Toner replaced"),
    ("T" * 49, "T" * 49),
    ("T" * 50, "T" * 50 + "..."),  # OTRS appends "..." whenever the cut title is 50 characters long
    ("0123456789" * 6, "0123456789" * 5 + "..."),
])
def test_set_title_shows_at_most_50_characters_in_the_history(core: Core, title: str, shown: str) -> None:
    ticket_id = new_ticket(core)
    core.service.set_title(core.agent, ticket_id, title)
    assert core.ticket(ticket_id)["title"] == title
    (row,) = new_rows(core, ticket_id, 1)
    assert (row["type"], row["name"]) == ("TitleUpdate", f"%%Printer on fire%%{shown}")
    assert row["text"] == f'Changed title from "Printer on fire" to "{shown}".'


def test_set_type_renders_old_before_new(core: Core) -> None:
    """TypeUpdate stores new before old; the history screen swaps them back (AgentTicketHistory)."""
    ticket_id = new_ticket(core)
    core.service.set_type(core.agent, ticket_id, "Incident")
    unclassified, incident = core.id("ticket_type", "Unclassified"), core.id("ticket_type", "Incident")
    assert core.ticket(ticket_id)["type_id"] == incident
    (row,) = new_rows(core, ticket_id, 1)
    assert (row["name"], row["type_id"]) == (f"%%Incident%%{incident}%%Unclassified%%{unclassified}", incident)
    assert row["text"] == f'Changed type from "Unclassified" ({unclassified}) to "Incident" ({incident}).'


def test_set_customer_names_only_what_it_sets(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.set_customer(core.agent, ticket_id, "ACME", "jane@acme.test")
    core.service.set_customer(core.agent, ticket_id, None, "john@acme.test")
    row = core.ticket(ticket_id)
    assert (row["customer_id"], row["customer_user_id"], row["change_by"]) == ("ACME", "john@acme.test", core.agent)
    rows = new_rows(core, ticket_id, 1)
    assert [(r["type"], r["name"]) for r in rows] == [
        ("CustomerUpdate", "%%CustomerID=ACME;CustomerUser=jane@acme.test;"),
        ("CustomerUpdate", "%%CustomerUser=john@acme.test;"),
    ]
    assert rows[1]["text"] == 'Changed customer to "CustomerUser=john@acme.test;".'


# --- dynamic fields ---------------------------------------------------------------------------------------
def test_dynamic_field_values_and_their_history(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.set_dynamic_field(core.agent, ticket_id, "Topic", "billing")
    core.service.set_dynamic_field(core.agent, ticket_id, "Topic", "sales")
    core.service.set_dynamic_field(core.agent, ticket_id, "Tags", ["red", "blue"])
    core.service.set_dynamic_field(core.agent, ticket_id, "Due", datetime(2025, 12, 24))
    core.service.set_dynamic_field(core.agent, ticket_id, "Urgent", 1)
    core.service.set_dynamic_field(core.agent, ticket_id, "Tags", None)
    rows = new_rows(core, ticket_id, 1)
    assert [r["name"] for r in rows] == [
        "%%FieldName%%Topic%%Value%%billing%%OldValue%%",
        "%%FieldName%%Topic%%Value%%sales%%OldValue%%billing",
        "%%FieldName%%Tags%%Value%%red, blue%%OldValue%%",
        "%%FieldName%%Due%%Value%%2025-12-24%%OldValue%%",
        "%%FieldName%%Urgent%%Value%%1%%OldValue%%",  # a checkbox shows its number, as in Znuny
        "%%FieldName%%Tags%%Value%%%%OldValue%%red, blue",
    ]
    assert {r["type"] for r in rows} == {"TicketDynamicFieldUpdate"}
    assert [r["text"] for r in rows[1:3]] == ['Changed dynamic field Topic from "billing" to "sales".',
                                              'Changed dynamic field Tags from "" to "red, blue".']

    values = core.rows("dynamic_field_value", object_id=ticket_id)
    assert sorted((v["value_text"], v["value_date"], v["value_int"]) for v in values if v["value_text"]) == [
        ("sales", None, None)]
    assert [(v["value_date"], v["value_int"]) for v in values if not v["value_text"]] == [
        (datetime(2025, 12, 24), None), (None, 1)]
    assert core.reader.get(ticket_id=ticket_id).dynamic_fields == {
        "Topic": "sales", "Due": datetime(2025, 12, 24), "Urgent": 1}


@own_schemas_only
def test_multiselect_values_are_one_row_each(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.set_dynamic_field(core.agent, ticket_id, "Tags", ["red", "blue", "green"])
    assert [v["value_text"] for v in core.rows("dynamic_field_value", object_id=ticket_id)] == ["red", "blue", "green"]


# --- merge ------------------------------------------------------------------------------------------------
def test_merge_moves_articles_and_writes_both_tickets_history(core: Core) -> None:
    merged_id = new_ticket(core, title="Duplicate")
    main_id = new_ticket(core, title="Original")
    merged_article = core.service.add_article(core.agent, merged_id, note(time_units=2))
    main_article = core.service.add_article(core.agent, main_id, note())
    core.service.lock(core.agent, merged_id)
    merged_tn, main_tn = core.ticket(merged_id)["tn"], core.ticket(main_id)["tn"]
    core.clock.advance(1)
    main_before = len(core.history(main_id))

    core.service.merge(core.agent, merged_id, main_id)

    assert [a["id"] for a in core.articles(main_id)] == sorted([merged_article, main_article])
    # OTRS's automatic note (Ticket::Frontend::AutomaticMergeSubject/-Text) is all the merged ticket keeps
    [note_row] = core.articles(merged_id)
    assert (note_row["a_subject"], note_row["a_body"], note_row["channel"], note_row["is_visible_for_customer"]) == (
        "Ticket Merged", f"Merged Ticket {merged_tn} to {main_tn}.", "Internal", 1)
    assert note_row["a_content_type"] == "text/plain; charset=ascii"
    assert {r["ticket_id"] for r in core.rows("time_accounting", article_id=merged_article)} == {main_id}
    text = f"%%{merged_tn}%%{merged_id}%%{main_tn}%%{main_id}"
    merged_state = core.id("ticket_state", "merged")
    assert [(r["type"], r["name"]) for r in core.history(merged_id)][-5:] == [
        ("Merged", text), ("TicketLinkAdd", f"%%{main_tn}%%{main_id}%%{merged_id}"),
        ("StateUpdate", "%%new%%merged%%"), NO_PENDING, ("Unlock", "%%unlock")]
    assert core.history(merged_id)[-1]["state_id"] == merged_state
    main_history = core.history(main_id)
    # the merged ticket's article rows (AddNote, TimeAccounting) now belong to the main ticket
    assert {r["article_id"] for r in main_history if r["article_id"]} == {merged_article, main_article}
    assert [(r["type"], r["name"]) for r in main_history[-2:]] == [
        ("Merged", text), ("TicketLinkAdd", f"%%{merged_tn}%%{merged_id}%%{main_id}")]
    assert len(main_history) == main_before + 4
    assert main_history[-2]["text"] == f"Merged Ticket ({merged_tn}/{merged_id}) to ({main_tn}/{main_id})."
    merged = core.ticket(merged_id)
    assert (merged["ticket_state_id"], merged["ticket_lock_id"], merged["change_by"]) == (
        merged_state, core.id("ticket_lock_type", "unlock"), core.agent)


def test_merge_hands_watchers_and_ticket_time_accounting_to_the_main_ticket(core: Core) -> None:
    merged_id = new_ticket(core, title="Duplicate")
    main_id = new_ticket(core, title="Original")
    with core.engine.begin() as conn:
        watcher_a = add_agent(conn, core.schema)
        watcher_b = add_agent(conn, core.schema)
        add_watcher(conn, core.schema, merged_id, watcher_a)
        add_watcher(conn, core.schema, merged_id, watcher_b)
        add_watcher(conn, core.schema, main_id, watcher_b)
        conn.execute(core.schema.tables.time_accounting.insert().values(  # booked on the ticket, no article
            ticket_id=merged_id, article_id=None, time_unit=3, **audit(conn)))

    core.service.merge(core.agent, merged_id, main_id)

    assert core.rows("ticket_watcher", ticket_id=merged_id) == []
    watching = sorted(r["user_id"] for r in core.rows("ticket_watcher", ticket_id=main_id))
    assert watching == sorted([watcher_a, watcher_b])
    assert core.rows("time_accounting", ticket_id=merged_id) == []
    assert [float(r["time_unit"]) for r in core.rows("time_accounting", ticket_id=main_id)] == [3.0]


# --- no-op detection --------------------------------------------------------------------------------------
NOOPS: dict[str, Callable[[Core, int], None]] = {
    "unlock": lambda c, t: c.service.unlock(c.agent, t),
    "owner": lambda c, t: c.service.set_owner(c.agent, t, 1),
    "responsible": lambda c, t: c.service.set_responsible(c.agent, t, 1),
    "move": lambda c, t: c.service.move(c.agent, t, "Raw"),
    "state": lambda c, t: c.service.set_state(c.agent, t, "new"),
    "priority": lambda c, t: c.service.set_priority(c.agent, t, "3 normal"),
    "title": lambda c, t: c.service.set_title(c.agent, t, "Printer on fire"),
    "type": lambda c, t: c.service.set_type(c.agent, t, "Unclassified"),
    "customer": lambda c, t: c.service.set_customer(c.agent, t, "ACME", "jane@acme.test"),
    "dynamic field": lambda c, t: c.service.set_dynamic_field(c.agent, t, "Topic", "billing"),
}


@own_schemas_only
@pytest.mark.parametrize("operation", NOOPS.values(), ids=NOOPS.keys())
def test_setting_the_current_value_writes_nothing(core: Core, operation: Callable[[Core, int], None]) -> None:
    ticket_id = new_ticket(core, customer_id="ACME", customer_user="jane@acme.test",
                           dynamic_fields={"Topic": "billing"})
    before = (core.ticket(ticket_id), core.history(ticket_id))
    core.clock.advance(1)
    operation(core, ticket_id)
    assert (core.ticket(ticket_id), core.history(ticket_id)) == before


@own_schemas_only
def test_locking_a_locked_ticket_writes_nothing(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.service.lock(core.agent, ticket_id)
    before = (core.ticket(ticket_id), core.history(ticket_id))
    core.clock.advance(1)
    core.service.lock(core.agent, ticket_id)
    assert (core.ticket(ticket_id), core.history(ticket_id)) == before


# --- OTRS cache invalidation ------------------------------------------------------------------------------
CHANGES: dict[str, Callable[[Core, int], None]] = {
    "lock": lambda c, t: c.service.lock(c.agent, t),
    "owner": lambda c, t: c.service.set_owner(c.agent, t, c.agent2),
    "responsible": lambda c, t: c.service.set_responsible(c.agent, t, c.agent2),
    "move": lambda c, t: c.service.move(c.agent, t, "Misc"),
    "state": lambda c, t: c.service.set_state(c.agent, t, "open"),
    "pending time": lambda c, t: c.service.set_pending_time(c.agent, t, datetime(2025, 12, 1, 8, 0)),
    "priority": lambda c, t: c.service.set_priority(c.agent, t, "5 very high"),
    "title": lambda c, t: c.service.set_title(c.agent, t, "Printer fixed"),
    "type": lambda c, t: c.service.set_type(c.agent, t, "Incident"),
    "customer": lambda c, t: c.service.set_customer(c.agent, t, "ACME", None),
    "dynamic field": lambda c, t: c.service.set_dynamic_field(c.agent, t, "Topic", "billing"),
    "article": lambda c, t: c.service.add_article(c.agent, t, note()),
    "merge": lambda c, t: c.service.merge(c.agent, t, new_ticket(c)),
}


@own_schemas_only
@pytest.mark.parametrize("operation", CHANGES.values(), ids=CHANGES.keys())
def test_a_write_deletes_the_otrs_ticket_cache_entry(core: Core, operation: Callable[[Core, int], None]) -> None:
    ticket_id = new_ticket(core)
    entries = [core.cache_file(cache_type, key) for cache_type, key in ticket_keys(ticket_id)]
    operation(core, ticket_id)
    assert [p for p in entries if p.exists()] == []


@own_schemas_only
@pytest.mark.parametrize(("operation", "keys"), [
    (CHANGES["article"], lambda t: article_list_keys(t) + ticket_flag_keys(t)),
    (CHANGES["dynamic field"], dynamic_field_keys),
    (CHANGES["merge"], article_list_keys),
], ids=["article", "dynamic field", "merge"])
def test_writes_delete_the_other_cache_entries_they_make_stale(
        core: Core, operation: Callable[[Core, int], None], keys: Callable[[int], list[tuple[str, str]]]) -> None:
    ticket_id = new_ticket(core)
    entries = [core.cache_file(cache_type, key) for cache_type, key in keys(ticket_id)]
    operation(core, ticket_id)
    assert [p for p in entries if p.exists()] == []


@own_schemas_only
def test_a_no_op_leaves_the_cache_alone(core: Core) -> None:
    ticket_id = new_ticket(core)
    entries = [core.cache_file(cache_type, key) for cache_type, key in ticket_keys(ticket_id)]
    core.service.set_priority(core.agent, ticket_id, "3 normal")
    assert all(p.exists() for p in entries)
