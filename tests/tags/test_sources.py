"""Source and participant tags through the running tailer, for tickets made every way OTRS and otrs-ext make
them: the mail gateway, the agent interface's phone and e-mail tickets, the customer interface (raw SQL as
OTRS writes them), otrs-ext's API for the website (signed-in and anonymous) and other integrations, and the
GenericInterface routes. Merges move tags, deletes drop them."""

from __future__ import annotations

import dataclasses
import time

import pytest
from otrs_writes import article, email_ticket, incoming_mail, note, phone_ticket, reply, ticket
from sqlalchemy import text
from support.runtimes import app_on, runtime_for
from tag_support import links, rules_for_tests, wait_links

from otrs_ext.api.keys import ApiKeys
from otrs_ext.tags.rules import ParticipantRule
from otrs_ext.tickets.compose import build_ticket_core

WS = "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST"
MAIL = (b"From: Jane Doe <jane@acme.test>\r\nTo: support@example.test\r\nSubject: Printer on fire\r\n"
        b"Message-ID: <p1@acme.test>\r\n\r\nThe printer in room 4 is on fire.\r\n")


@pytest.fixture
def app(engine, agents, redis_server, sphinx_server, tmp_path):
    runtime = runtime_for(engine, redis_server.url, sphinx_server.url, tmp_path, secret_key="test-secret-key")
    with app_on(runtime, testing=True) as flask_app:
        yield flask_app


def _api_ticket(client, key: str, source: str | None) -> int:
    body = {"title": "From the website", "queue": "Raw", "customer_user": "jane@acme.test",
            "article": {"subject": "Hello", "body": "Please call me back."}}
    if source is not None:
        body["source"] = source
    response = client.post("/api/v1/tickets", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_every_way_in_gets_its_one_source_tag(engine, agents, app, tag_tail):
    tail = tag_tail()
    anna = agents["anna.petrova"]
    client = app.test_client()
    key = ApiKeys(engine).create("intake", name="website", rate_per_minute=1000)
    gi = client.post(f"{WS}/Ticket", json={
        "UserLogin": "anna.petrova", "Password": "secret-pw",
        "Ticket": {"Title": "Via GI", "Queue": "Raw", "State": "new", "Priority": "3 normal",
                   "CustomerUser": "jane@acme.test"},
        "Article": {"Subject": "GI", "Body": "Created by a script.", "ContentType": "text/plain; charset=utf8"}})
    assert "TicketID" in gi.get_json(), gi.get_json()
    portal = ticket(engine, "From the customer interface")
    article(engine, portal, channel="Internal", sender="customer", visible=True, user=1,
            history_type="WebRequestCustomer", a_from="jane@acme.test", subject="Portal")
    made = {
        "email": incoming_mail(engine, MAIL)[0],
        "phone": phone_ticket(engine, anna)[0],
        "agent": email_ticket(engine, anna)[0],
        "site-anonymous": _api_ticket(client, key, "site-anonymous"),
        "site-authorized": _api_ticket(client, key, "site-authorized"),
        "other": _api_ticket(client, key, None),  # source "api": an integration
        "gi": int(gi.get_json()["TicketID"]),
        "portal": portal,
    }
    expected = {name: [f"source:{name}"] for name in made}
    expected["portal"] = ["source:site-authorized"]  # OTRS's customer interface: a signed-in customer
    expected["agent"] = ["source:agent", "participant:anna.petrova"]  # her e-mail is visible to the customer
    expected["gi"] = ["source:gi", "participant:anna.petrova"]  # GI writes an agent's visible article
    for name, ticket_id in made.items():
        wait_links(engine, ticket_id, expected[name])
    assert tail.error is None


def test_tags_arrive_within_a_second_of_the_commit(engine, agents, tag_tail):
    tag_tail()
    ticket_id, article_id = phone_ticket(engine, agents["anna.petrova"])  # the last commit: its history row
    committed = time.monotonic()
    wait_links(engine, ticket_id, ["source:phone"], timeout=5)
    assert time.monotonic() - committed < 1.0


def test_tickets_from_before_the_first_start_are_tagged_from_its_snapshot(engine, agents, tag_tail):
    ticket_id, _ = incoming_mail(engine, MAIL)
    reply(engine, ticket_id, agents["ben.miller"])
    tag_tail()
    wait_links(engine, ticket_id, ["source:email", "participant:ben.miller"])


def test_history_row_after_the_article_decides_the_source_late(engine, agents, tag_tail):
    """A writer that writes the article's history row only after the assembler's debounce: the article event
    comes first without a source, the history row's event decides it."""
    tag_tail(debounce=0.3)
    ticket_id = ticket(engine, "slow writer")
    with engine.begin() as conn:
        article_id = conn.execute(text(
            "INSERT INTO article (ticket_id, article_sender_type_id, communication_channel_id, "
            "is_visible_for_customer, search_index_needs_rebuild, create_time, create_by, change_time, change_by) "
            "VALUES (:t, 3, 2, 1, 1, NOW(), 1, NOW(), 1)"), {"t": ticket_id}).lastrowid
        conn.execute(text("INSERT INTO article_data_mime (article_id, a_from, a_subject, a_body, incoming_time, "
                          "create_time, create_by, change_time, change_by) VALUES (:a, 'x@y.test', 's', 'b', 0, "
                          "NOW(), 1, NOW(), 1)"), {"a": article_id})
    time.sleep(1.0)
    assert links(engine, ticket_id) == []  # no history row yet: undecided
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ticket_history (name, history_type_id, ticket_id, article_id, type_id, "
                          "queue_id, owner_id, priority_id, state_id, create_time, create_by, change_time, change_by) "
                          "SELECT '%%GenericInterface Create', id, :t, :a, 1, 2, 1, 3, 1, NOW(), 1, NOW(), 1 "
                          "FROM ticket_history_type WHERE name = 'NewTicket'"), {"t": ticket_id, "a": article_id})
    wait_links(engine, ticket_id, ["source:gi"])


def test_replies_make_participants_once_per_agent_and_notes_do_not(engine, agents, tag_tail):
    tag_tail()
    anna, ben = agents["anna.petrova"], agents["ben.miller"]
    ticket_id, _ = incoming_mail(engine, MAIL)
    reply(engine, ticket_id, anna)
    reply(engine, ticket_id, anna)
    note(engine, ticket_id, ben)
    wait_links(engine, ticket_id, ["source:email", "participant:anna.petrova"])
    time.sleep(0.5)  # ben's note came last: give it the time it would need
    assert links(engine, ticket_id) == ["participant:anna.petrova", "source:email"]


def test_notes_count_when_the_rules_say_so(engine, agents, tag_tail):
    tag_tail(rules=dataclasses.replace(rules_for_tests(), participant=ParticipantRule(notes=True)))
    ticket_id, _ = incoming_mail(engine, MAIL)
    note(engine, ticket_id, agents["ben.miller"])
    wait_links(engine, ticket_id, ["source:email", "participant:ben.miller"])


def test_a_merge_moves_tags_and_decides_the_main_tickets_source_again(engine, agents, tag_tail, redis_server,
                                                                     sphinx_server, tmp_path):
    tag_tail()
    anna = agents["anna.petrova"]
    older, _ = incoming_mail(engine, MAIL)  # the older ticket, by mail
    newer, _ = phone_ticket(engine, anna)
    reply(engine, older, anna)
    wait_links(engine, older, ["source:email", "participant:anna.petrova"])
    wait_links(engine, newer, ["source:phone"])
    runtime = runtime_for(engine, redis_server.url, sphinx_server.url, tmp_path)
    try:
        core = build_ticket_core(runtime)
        core.service.merge(anna, older, newer)  # the mail ticket goes into the phone ticket
        core.close()
    finally:
        runtime.close()
    # OTRS moved the articles: the main ticket's first article is now the mail; the merge notes are anna's
    wait_links(engine, newer, ["source:email", "participant:anna.petrova"])
    assert links(engine, older) == []
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ticket WHERE id = :t"), {"t": newer})
    wait_links(engine, newer, [])
