"""The rows the GI TicketCreate writes are those of Znuny's GenericTicketConnector (issue 9 item 6): created with
owner 1 and then given its owner (``OwnerUpdate``), responsible 1 unless the request names one, ``a_from`` the
customer, ``a_to`` the queue, values trimmed, the charset and Content-Type kept as sent, attachments with an
empty disposition. ``tests/oracle/test_oracle_gi_create.py`` compares the same requests with real Znuny."""

from __future__ import annotations

import base64

from gi_support import PASSWORD, WS
from sqlalchemy import text


def _create(gi, body: dict) -> dict:
    answer = gi.client.post(f"{WS}/Ticket", json={"UserLogin": "agent1", "Password": PASSWORD, **body}).get_json()
    assert "Error" not in answer, answer
    return answer


def _rows(gi, sql: str, ticket_id: str) -> list[tuple]:
    with gi.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), {"t": int(ticket_id)})]


def _customer(gi) -> None:
    with gi.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO customer_user (login, email, customer_id, pw, title, first_name, last_name, valid_id, "
            "create_time, create_by, change_time, change_by) VALUES ('jane', 'Jane@Acme.test', 'ACME', '', NULL, "
            "'Jane', 'Doe', 1, NOW(), 1, NOW(), 1)"))


def test_gi_create_owner_responsible_addresses_and_trimmed_body(gi) -> None:
    _customer(gi)
    created = _create(gi, {
        "Ticket": {"Title": " Printer on fire ", "Queue": "Raw", "State": "new", "Priority": "3 normal",
                   "CustomerUser": "jane@acme.test"},
        "Article": {"Subject": "Flames", "Body": "The printer is on fire.\n\n",
                    "ContentType": "text/plain; charset=UTF-8", "CommunicationChannel": "Phone",
                    "SenderType": "customer"}})
    ticket = _rows(gi, "SELECT title, user_id, responsible_user_id, customer_user_id, customer_id FROM ticket "
                       "WHERE id = :t", created["TicketID"])
    # known by its email address: OTRS stores the customer's login and company
    assert ticket == [("Printer on fire", gi.agent_id, 1, "jane", "ACME")]
    history = _rows(gi, "SELECT t.name, h.name, h.owner_id FROM ticket_history h JOIN ticket_history_type t "
                        "ON t.id = h.history_type_id WHERE h.ticket_id = :t ORDER BY h.id", created["TicketID"])
    assert [(kind, owner) for kind, _, owner in history] == [
        ("NewTicket", 1), ("CustomerUpdate", 1), ("NewTicket", 1), ("OwnerUpdate", gi.agent_id)]
    assert history[-1][1] == f"%%agent1%%{gi.agent_id}"
    article = _rows(gi, "SELECT m.a_from, m.a_to, m.a_body, m.a_content_type FROM article a JOIN article_data_mime m "
                        "ON m.article_id = a.id WHERE a.ticket_id = :t", created["TicketID"])
    assert article == [('"Jane Doe" <Jane@Acme.test>', "Raw", "The printer is on fire.", "text/plain; charset=utf-8")]


def test_gi_create_keeps_charset_and_writes_attachments_as_otrs_does(gi) -> None:
    created = _create(gi, {
        "Ticket": {"Title": "Invoice", "QueueID": 2, "State": "new", "Priority": "3 normal",
                   "CustomerUser": "walk-in@example.org", "OwnerID": gi.agent_id, "ResponsibleID": gi.agent_id},
        "Article": [{"Subject": "One", "Body": "first", "MimeType": "text/plain", "Charset": "ISO-8859-1"},
                    {"Subject": "Two", "Body": "second", "ContentType": 'text/plain; charset="utf8"; format=flowed'}],
        "Attachment": {"Content": base64.b64encode(b"a,b\n").decode(), "ContentType": "Text/CSV", "Filename": "t.csv"}})
    assert isinstance(created["ArticleID"], list) and len(created["ArticleID"]) == 2
    articles = _rows(gi, "SELECT m.a_from, m.a_to, m.a_content_type, h.name FROM article a JOIN article_data_mime m "
                         "ON m.article_id = a.id JOIN ticket_history h ON h.article_id = a.id WHERE a.ticket_id = :t "
                         "ORDER BY a.id", created["TicketID"])
    assert articles == [
        ("walk-in@example.org", "Raw", "text/plain; charset=iso-8859-1", "%%GenericInterface Create"),
        ("walk-in@example.org", "Raw", 'text/plain; charset="utf8"; format=flowed', "%%GenericInterface Create")]
    # every article gets the request's attachments, with the disposition OTRS gives them when none is sent: ''
    files = _rows(gi, "SELECT x.filename, x.content_type, x.disposition FROM article a JOIN "
                      "article_data_mime_attachment x ON x.article_id = a.id WHERE a.ticket_id = :t ORDER BY x.id",
                  created["TicketID"])
    assert files == [("t.csv", "text/csv", ""), ("t.csv", "text/csv", "")]
    history = _rows(gi, "SELECT t.name FROM ticket_history h JOIN ticket_history_type t ON t.id = h.history_type_id "
                        "WHERE h.ticket_id = :t ORDER BY h.id", created["TicketID"])
    # a requested owner locks the ticket when the request named no lock (the unlock time was just reset by the
    # agent's article, so no second Misc row)
    assert [r[0] for r in history] == ["NewTicket", "CustomerUpdate", "NewTicket", "Misc", "NewTicket",
                                       "OwnerUpdate", "Lock", "ResponsibleUpdate"]
    assert _rows(gi, "SELECT user_id, responsible_user_id, ticket_lock_id FROM ticket WHERE id = :t",
                 created["TicketID"]) == [(gi.agent_id, gi.agent_id, 2)]
