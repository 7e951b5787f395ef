"""GenericInterface-compatible routes: what a script written for Znuny's GenericTicketConnectorREST sends and
expects back, against real MariaDB and Redis."""

from __future__ import annotations

import base64
import hashlib

import bcrypt
import pytest
from gi_support import PASSWORD, WS
from sqlalchemy import text

from otrs_ext.auth import passwords as otrs_password

PDF = b"%PDF-1.4 " + bytes(range(256)) * 40


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _login(api) -> dict[str, str]:
    return {"UserLogin": "agent1", "Password": PASSWORD}


def _create_body(**ticket) -> dict:
    return {"Ticket": {"Title": "Printer on fire", "Queue": "Raw", "State": "new", "Priority": "3 normal",
                       "CustomerUser": "jane@acme.test", **ticket},
            "Article": {"Subject": "Flames", "Body": "The printer in room 4 is on fire.",
                        "ContentType": "text/plain; charset=utf8", "CommunicationChannel": "Phone",
                        "SenderType": "customer"}}


def _error(response) -> str:
    assert response.status_code == 200, response.data  # GI reports operation errors with HTTP 200
    return response.get_json()["Error"]["ErrorCode"]


def test_session_create_then_ticket_create_get_with_attachment_round_trip(gi) -> None:
    session = gi.client.post(f"{WS}/Session", json=_login(gi)).get_json()
    assert set(session) == {"SessionID"} and len(session["SessionID"]) >= 32

    body = _create_body()
    body["Attachment"] = [{"Content": _b64(PDF), "ContentType": "application/pdf", "Filename": "manual.pdf"}]
    body["SessionID"] = session["SessionID"]
    created = gi.client.post(f"{WS}/Ticket", json=body).get_json()
    assert set(created) == {"TicketID", "TicketNumber", "ArticleID"}
    assert created["TicketID"].isdigit() and created["ArticleID"].isdigit() and len(created["TicketNumber"]) >= 14

    got = gi.client.get(f"{WS}/Ticket/{created['TicketID']}", query_string={
        "SessionID": session["SessionID"], "AllArticles": 1, "Attachments": 1, "DynamicFields": 1}).get_json()
    [ticket] = got["Ticket"]
    assert ticket["TicketNumber"] == created["TicketNumber"] and ticket["Title"] == "Printer on fire"
    assert (ticket["Queue"], ticket["State"], ticket["StateType"], ticket["Priority"]) == \
        ("Raw", "new", "new", "3 normal")
    assert ticket["QueueID"] == "2" and ticket["PriorityID"] == "3" and ticket["Lock"] == "unlock"
    assert ticket["Owner"] == "agent1" and ticket["OwnerID"] == str(gi.agent_id)
    assert ticket["CustomerUserID"] == "jane@acme.test" and ticket["ArchiveFlag"] == "n"
    assert ticket["DynamicField"] == [] and isinstance(ticket["Age"], int)
    [article] = ticket["Article"]
    assert article["ArticleID"] == created["ArticleID"] and article["ArticleNumber"] == 1
    assert (article["SenderType"], article["CommunicationChannel"], article["IsVisibleForCustomer"]) == \
        ("customer", "Phone", 1)
    assert article["From"] == "jane@acme.test" and article["MimeType"] == "text/plain"
    [attachment] = article["Attachment"]
    assert attachment["Filename"] == "manual.pdf" and attachment["FilesizeRaw"] == str(len(PDF))
    assert base64.b64decode(attachment["Content"]) == PDF

    with gi.engine.connect() as conn:
        history = conn.execute(text(
            "SELECT t.name, h.name FROM ticket_history h JOIN ticket_history_type t ON t.id = h.history_type_id "
            "WHERE h.ticket_id = :t ORDER BY h.id"), {"t": int(created["TicketID"])}).all()
    assert ("NewTicket", "%%GenericInterface Create") in [tuple(r) for r in history]


def test_operation_errors_are_http_200_with_znuny_error_codes(gi) -> None:
    assert _error(gi.client.post(f"{WS}/Session", json={"UserLogin": "agent1", "Password": "wrong"})) == \
        "SessionCreate.AuthFail"
    assert _error(gi.client.post(f"{WS}/Ticket", json=_create_body())) == "TicketCreate.MissingParameter"
    body = {**_create_body(), **_login(gi)}
    del body["Ticket"]["Title"]
    missing = gi.client.post(f"{WS}/Ticket", json=body).get_json()["Error"]
    assert missing == {"ErrorCode": "TicketCreate.MissingParameter",
                       "ErrorMessage": "TicketCreate: Ticket->Title parameter is missing!"}
    assert _error(gi.client.post(f"{WS}/Ticket", json={**_create_body(Queue="Nowhere"), **_login(gi)})) == \
        "TicketCreate.InvalidParameter"
    no_article = {**_create_body(), **_login(gi)}
    del no_article["Article"]
    assert _error(gi.client.post(f"{WS}/Ticket", json=no_article)) == "TicketCreate.MissingParameter"
    bad_type = {**_create_body(), **_login(gi)}
    bad_type["Article"]["ContentType"] = "application/x-evil"
    assert _error(gi.client.post(f"{WS}/Ticket", json=bad_type)) == "TicketCreate.InvalidParameter"
    with gi.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ticket WHERE title = 'Printer on fire'")).scalar() == 0

    # transport errors are not operation errors: 400 and 404, still with the Error object
    broken = gi.client.post(f"{WS}/Ticket", data="{not json", content_type="application/json")
    assert broken.status_code == 400 and "Error" in broken.get_json()
    assert gi.client.get(f"{WS}/NoSuchRoute").status_code == 404


def test_agent_key_as_bearer_and_permissions_of_the_ticket_core(gi) -> None:
    agent = {"Authorization": f"Bearer {gi.agent_key}"}
    outsider = {"Authorization": f"Bearer {gi.outsider_key}"}
    created = gi.client.post(f"{WS}/Ticket", json=_create_body(), headers=agent).get_json()
    ticket_id = created["TicketID"]
    # the outsider has no group rights: he can neither create in Raw nor read, find or change the ticket
    assert _error(gi.client.post(f"{WS}/Ticket", json=_create_body(), headers=outsider)) == \
        "TicketCreate.AccessDenied"
    assert _error(gi.client.get(f"{WS}/Ticket/{ticket_id}", headers=outsider)) == "TicketGet.AccessDenied"
    assert _error(gi.client.get(f"{WS}/Ticket/999999", headers=agent)) == "TicketGet.AccessDenied"
    assert gi.client.get(f"{WS}/Ticket", query_string={"Queues": "Raw"}, headers=outsider).get_json() == {}
    assert _error(gi.client.patch(f"{WS}/Ticket/{ticket_id}", json={"Ticket": {"Title": "mine"}},
                                  headers=outsider)) == "TicketUpdate.AccessDenied"
    # an intake key is for the website's forms, not for acting as an agent
    assert _error(gi.client.get(f"{WS}/Ticket/{ticket_id}",
                                headers={"Authorization": f"Bearer {gi.intake_key}"})) == "TicketGet.AuthFail"
    assert _error(gi.client.get(f"{WS}/Ticket/{ticket_id}",
                                headers={"Authorization": "Bearer oxk_nope_nope"})) == "TicketGet.AuthFail"


def test_ticket_search_filters_like_otrs_and_refuses_filters_it_cannot_apply(gi) -> None:
    agent = {"Authorization": f"Bearer {gi.agent_key}"}
    ids = [gi.client.post(f"{WS}/Ticket", json=_create_body(Title=f"Search me {i}", Priority=p),
                          headers=agent).get_json()["TicketID"]
           for i, p in enumerate(("3 normal", "5 very high", "3 normal"))]
    found = gi.client.get(f"{WS}/Ticket", query_string={"Title": "Search me*", "StateType": "Open"},
                          headers=agent).get_json()
    assert found == {"TicketID": list(reversed(ids))}  # newest first, IDs as strings
    high = gi.client.post(f"{WS}/TicketSearch", json={"Priorities": ["5 very high"], "Queues": ["Raw"]},
                          headers=agent).get_json()
    assert high == {"TicketID": [ids[1]]}
    by_number = gi.client.get(f"{WS}/Ticket", headers=agent, query_string={
        "TicketNumber": gi.client.get(f"{WS}/Ticket/{ids[0]}", headers=agent).get_json()["Ticket"][0]["TicketNumber"]})
    assert by_number.get_json() == {"TicketID": [ids[0]]}
    assert gi.client.get(f"{WS}/Ticket", query_string={"Title": "Search me*", "Limit": 2, "OrderBy": "Up"},
                         headers=agent).get_json() == {"TicketID": [ids[1], ids[2]]}
    assert gi.client.get(f"{WS}/Ticket", query_string={"StateType": "Closed", "Title": "Search me*"},
                         headers=agent).get_json() == {}
    assert _error(gi.client.get(f"{WS}/Ticket", query_string={"Fulltext": "fire"}, headers=agent)) == \
        "TicketSearch.InvalidParameter"


def test_ticket_update_changes_fields_adds_a_note_and_checks_every_name_first(gi) -> None:
    agent = {"Authorization": f"Bearer {gi.agent_key}"}
    created = gi.client.post(f"{WS}/Ticket", json=_create_body(), headers=agent).get_json()
    ticket_id = created["TicketID"]
    refused = gi.client.patch(f"{WS}/Ticket/{ticket_id}", headers=agent,
                              json={"Ticket": {"Title": "changed?", "Queue": "Nowhere"}})
    assert _error(refused) == "TicketUpdate.InvalidParameter"
    updated = gi.client.patch(f"{WS}/Ticket/{ticket_id}", headers=agent, json={
        "Ticket": {"Title": "Printer extinguished", "State": "open", "PriorityID": 4, "Queue": "Misc"},
        "Article": {"Subject": "Update", "Body": "<p>Fire is <b>out</b></p>", "MimeType": "text/html",
                    "Charset": "utf-8", "IsVisibleForCustomer": 0},
        "Attachment": {"Content": _b64(b"log line\n"), "ContentType": "text/plain", "Filename": "fire.log"}})
    result = updated.get_json()
    assert set(result) == {"TicketID", "TicketNumber", "ArticleID"}, result
    assert result["TicketNumber"] == created["TicketNumber"]
    [ticket] = gi.client.get(f"{WS}/Ticket/{ticket_id}", headers=agent, query_string={
        "AllArticles": 1, "Attachments": 1, "ArticleOrder": "DESC", "ArticleLimit": 1,
        "HTMLBodyAsAttachment": 1}).get_json()["Ticket"]
    assert (ticket["Title"], ticket["State"], ticket["Priority"], ticket["Queue"]) == \
        ("Printer extinguished", "open", "4 high", "Misc")
    [note] = ticket["Article"]
    assert note["ArticleID"] == result["ArticleID"] and note["ArticleNumber"] == 2
    assert note["IsVisibleForCustomer"] == 0 and note["From"] == "Api agent1"  # UserFullname, as Znuny's
    assert {a["Filename"] for a in note["Attachment"]} == {"file-2", "fire.log"}  # the HTML body on request
    with gi.engine.connect() as conn:
        names = conn.execute(text(
            "SELECT t.name FROM ticket_history h JOIN ticket_history_type t ON t.id = h.history_type_id "
            "WHERE h.ticket_id = :t ORDER BY h.id"), {"t": int(ticket_id)}).scalars().all()
    assert {"TitleUpdate", "StateUpdate", "PriorityUpdate", "Move", "AddNote"} <= set(names)
    # by number, and under the /api/gi prefix
    by_number = gi.client.post(f"/api/gi/GenericTicketConnectorREST/Ticket/{ticket_id}", headers=agent,
                               json={"TicketNumber": created["TicketNumber"], "Ticket": {"Lock": "lock"}})
    assert by_number.get_json() == {"TicketID": ticket_id, "TicketNumber": created["TicketNumber"]}


def test_ticket_update_refused_part_writes_nothing(gi) -> None:
    """Every permission is checked before the first change: a title change with a move into a queue the agent
    may not move into leaves the ticket, its history and its articles as they were (issue 10)."""
    agent = {"Authorization": f"Bearer {gi.agent_key}"}
    ticket_id = gi.client.post(f"{WS}/Ticket", json=_create_body(), headers=agent).get_json()["TicketID"]
    with gi.engine.begin() as conn:
        # Junk moves to the admin group, where agent1 has no rights
        conn.execute(text("UPDATE queue SET group_id = (SELECT id FROM permission_groups WHERE name = 'admin') "
                          "WHERE name = 'Junk'"))

    def state() -> tuple:
        with gi.engine.connect() as conn:
            return (conn.execute(text("SELECT title, queue_id, change_time FROM ticket WHERE id = :t"),
                                 {"t": int(ticket_id)}).one(),
                    conn.execute(text("SELECT COUNT(*) FROM ticket_history WHERE ticket_id = :t"),
                                 {"t": int(ticket_id)}).scalar(),
                    conn.execute(text("SELECT COUNT(*) FROM article WHERE ticket_id = :t"),
                                 {"t": int(ticket_id)}).scalar())

    before = state()
    refused = gi.client.patch(f"{WS}/Ticket/{ticket_id}", headers=agent, json={
        "Ticket": {"Title": "Moved away", "Queue": "Junk", "Priority": "4 high"},
        "Article": {"Subject": "Away", "Body": "Moving it.", "ContentType": "text/plain; charset=utf8"}})
    assert _error(refused) == "TicketUpdate.AccessDenied"
    assert state() == before
    # the same request without the move is allowed, and writes in Znuny's order
    allowed = gi.client.patch(f"{WS}/Ticket/{ticket_id}", headers=agent, json={
        "Ticket": {"Title": "Moved away", "Priority": "4 high"},
        "Article": {"Subject": "Away", "Body": "Moving it.", "ContentType": "text/plain; charset=utf8"}})
    assert "ArticleID" in allowed.get_json(), allowed.data
    with gi.engine.connect() as conn:
        names = conn.execute(text(
            "SELECT t.name FROM ticket_history h JOIN ticket_history_type t ON t.id = h.history_type_id "
            "WHERE h.ticket_id = :t ORDER BY h.id"), {"t": int(ticket_id)}).scalars().all()
        a_from = conn.execute(text("SELECT m.a_from FROM article_data_mime m JOIN article a ON a.id = m.article_id "
                                   "WHERE a.ticket_id = :t ORDER BY a.id DESC LIMIT 1"),
                              {"t": int(ticket_id)}).scalar()
    changes = [n for n in names if n in ("TitleUpdate", "PriorityUpdate", "AddNote")]
    assert changes == ["TitleUpdate", "PriorityUpdate", "AddNote"]
    assert a_from == "Api agent1"  # Znuny's UserFullname alone, without the address


def test_sessions_end_on_delete_and_password_guessing_is_throttled(gi) -> None:
    session_id = gi.client.post(f"{WS}/Session", json=_login(gi)).get_json()["SessionID"]
    data = gi.client.get(f"{WS}/Session/{session_id}").get_json()
    assert {"Key": "UserLogin", "Value": "agent1"} in data["SessionData"]
    assert gi.client.delete(f"{WS}/Session/{session_id}").get_json() == {"Success": 1}
    assert _error(gi.client.get(f"{WS}/Ticket/1", query_string={"SessionID": session_id})) == "TicketGet.AuthFail"
    # sessions are stored hashed, with the idle timeout as their TTL
    keys = gi.runtime.redis.keys("otrs_ext:gi:session:*")
    assert all(session_id not in k.decode() for k in keys)

    for _ in range(10):
        assert _error(gi.client.post(f"{WS}/Session", json={"UserLogin": "Agent1", "Password": "guess"})) == \
            "SessionCreate.AuthFail"
    locked = gi.client.post(f"{WS}/Session", json=_login(gi)).get_json()["Error"]
    assert "too many failed logins" in locked["ErrorMessage"]


def test_configured_webservice_names_only(gi) -> None:
    gi.app.extensions["otrs_ext"].runtime = gi.runtime.__class__(
        **{**gi.runtime.__dict__, "settings": gi.runtime.settings.with_changes(gi_webservices=("Tickets",))})
    assert gi.client.post(f"{WS}/Session", json=_login(gi)).status_code == 404
    ok = gi.client.post("/znuny/nph-genericinterface.pl/Webservice/Tickets/Session", json=_login(gi))
    assert "SessionID" in ok.get_json()


@pytest.mark.parametrize(("password", "stored", "expected"), [
    # OTRS's own bcrypt layout, made by Crypt::Eksblowfish::Bcrypt (the module Kernel::System::Auth::DB uses)
    ("s3cret Ünïcode", "BCRYPT:9:aB3dE6gH9jK2mN5p:9HMm/Y9hQv6S3wahzNJ1o06uerO6nFW", True),
    ("s3cret Unicode", "BCRYPT:9:aB3dE6gH9jK2mN5p:9HMm/Y9hQv6S3wahzNJ1o06uerO6nFW", False),
    ("x" * 80, "BCRYPT:9:Zz09Yy18Xx27Ww36:.yrb5MhjX8zj2mc/B4LyBc/S10Yv7V2", True),  # truncated at 72 bytes
    ("pw", hashlib.sha256(b"pw").hexdigest(), True),
    ("pw", hashlib.sha256(b"pw").hexdigest().upper(), True),
    ("pw", hashlib.sha512(b"pw").hexdigest(), True),
    ("pw", hashlib.sha1(b"pw").hexdigest(), True),
    ("pw", hashlib.md5(b"pw").hexdigest(), True),
    ("pW", hashlib.sha256(b"pw").hexdigest(), False),
    ("pw", bcrypt.hashpw(b"pw", b"$2b$04$abcdefghijklmnopqrstuu").decode(), True),
    ("pw", bcrypt.hashpw(b"pw", b"$2b$04$abcdefghijklmnopqrstuu").decode().replace("$2b$", "$2y$"), True),
    ("pw", "$1$salt$abcdefghijklmnopqrstuv", False),  # MD5-crypt: refused, not guessed at
    ("pw", "pw", False),  # plain text is never accepted
    ("", "", False),
    ("pw", "BCRYPT:x:y:z", False),
    ("pw", "$2b$04$tooshort", False),
])
def test_otrs_password_formats(password: str, stored: str, expected: bool) -> None:
    assert otrs_password.verify(password, stored) is expected
