"""The GenericInterface TicketCreate: Znuny's GenericTicketConnector operation (run in-process by
``gi_operation.pl``, as its Provider runs it after the REST transport) against otrs-ext's GI route, for the
same request on the same database. The rows must be equal: owner 1 then an ``OwnerUpdate``, responsible 1 unless
given, ``a_from`` = the customer, ``a_to`` = the queue, trimmed values, the charset as sent, attachments with
an empty disposition."""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from oracle_harness import EPOCH, SYSTEM_USER, ExtCore, Oracle
from pending import pending

GI_OPERATION = Path(__file__).with_name("gi_operation.pl")
WS = "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST"
CUSTOMER = {"op": "Call", "Object": "Kernel::System::CustomerUser", "Method": "CustomerUserAdd",
            "Source": "CustomerUser", "UserFirstname": "Jane", "UserLastname": "Doe", "UserCustomerID": "ACME",
            "UserLogin": "jane", "UserEmail": "jane@acme.test", "UserPassword": "x", "ValidID": 1, "UserID": 1}
FIELDS = [{"op": "Call", "Object": "Kernel::System::DynamicField", "Method": "DynamicFieldAdd", "Name": name,
           "Label": name, "FieldOrder": 100 + i, "FieldType": kind, "ObjectType": "Ticket",
           "Config": {"DefaultValue": "", **extra}, "ValidID": 1, "UserID": 1}
          for i, (name, kind, extra) in enumerate([("Topic", "Text", {}),
                                                  ("Tags", "Multiselect", {"PossibleValues": {"red": "Red",
                                                                                              "blue": "Blue"}})])]


# until OTRS's event queue (issue 9 item 1) matches, its rows are the only expected
# differences: any other one fails the scenario
OPEN = pending("events")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def gi_znuny(oracle: Oracle, data: dict[str, Any], setup: list[dict[str, Any]]) -> dict[str, Any]:
    """Fresh database, ``setup`` through the driver, then the GI TicketCreate through Znuny; its rows."""
    oracle.fresh()
    if setup:
        oracle.znuny(setup)
    request = {"time": EPOCH, "operation": "TicketCreate", "type": "Ticket::TicketCreate",
               "data": {"UserLogin": "agent1", "Password": "agent1", **copy.deepcopy(data)}}
    prefix = ["runuser", "-u", SYSTEM_USER, "--"] if os.geteuid() == 0 else []
    result = subprocess.run([*prefix, "env", f"ZNUNY_HOME={oracle.home}", "perl", str(GI_OPERATION)],
                            input=json.dumps(request).encode(), capture_output=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"Znuny's TicketCreate failed: {result.stdout!r}\n{result.stderr.decode(errors='replace')}")
    return {"answer": json.loads(result.stdout)["Data"], "rows": oracle.rows()}


def gi_ext(oracle: Oracle, data: dict[str, Any], setup: list[dict[str, Any]]) -> dict[str, Any]:
    def create(core: ExtCore) -> Any:
        client, auth = core.api()
        response = client.post(f"{WS}/Ticket", json=copy.deepcopy(data), headers=auth)
        assert response.status_code == 200, response.data
        answer = response.get_json()
        assert "Error" not in answer, answer
        return answer
    run = oracle.run_ext(create, setup=setup)
    return {"answer": run.returned, "rows": run.rows}


def both(oracle: Oracle, data: dict[str, Any], setup: list[dict[str, Any]] | None = None) -> list[str]:
    setup = [CUSTOMER, *FIELDS] if setup is None else setup
    znuny, ours = gi_znuny(oracle, data, setup), gi_ext(oracle, data, setup)
    problems = oracle.diff(znuny["rows"], ours["rows"])
    if set(znuny["answer"]) != set(ours["answer"]) or \
            isinstance(znuny["answer"]["ArticleID"], list) != isinstance(ours["answer"]["ArticleID"], list):
        problems.append(f"answer: znuny={znuny['answer']} ext={ours['answer']}")
    return problems


def request(**ticket: Any) -> dict[str, Any]:
    return {"Ticket": {"Title": "  Printer on fire ", "Queue": "Raw", "State": "new", "Priority": "3 normal",
                       "CustomerUser": "jane@acme.test", **ticket},
            "Article": {"Subject": "Flames", "Body": "The printer in room 4 is on fire.\n\n",
                        "ContentType": "text/plain; charset=UTF-8", "CommunicationChannel": "Phone",
                        "SenderType": "customer"}}


@OPEN
def test_gi_create_known_customer_by_email_with_attachments(oracle) -> None:
    data = request()
    data["Attachment"] = [
        {"Content": _b64(b"%PDF-1.4 manual"), "ContentType": "Application/PDF", "Filename": " manual.pdf "},
        {"Content": _b64(b"GIF89a..."), "ContentType": "image/gif", "Filename": "logo.gif",
         "Disposition": "inline", "ContentID": "logo@acme"},
    ]
    assert both(oracle, data) == []


@OPEN
def test_gi_create_stranger_with_owner_lock_responsible_pending_and_fields(oracle) -> None:
    data = request(CustomerUser="walk-in@example.org", State="pending reminder", OwnerID=2, Responsible="agent1",
                   PendingTime={"Year": 2025, "Month": 12, "Day": 1, "Hour": 9, "Minute": 30}, Type="Unclassified")
    data["Article"] = {"Subject": "Call", "Body": "  Called about the invoice.\n", "MimeType": "text/plain",
                       "Charset": "ISO-8859-1", "TimeUnit": 3}
    data["DynamicField"] = [{"Name": "Topic", "Value": " billing "}, {"Name": "Tags", "Value": ["blue", "red"]}]
    assert both(oracle, data) == []


@OPEN
def test_gi_create_html_two_articles_lock_and_customer_id(oracle) -> None:
    data = request(Lock="lock", CustomerID="OTHER", QueueID=3, Queue=None)
    del data["Ticket"]["Queue"]
    data["Article"] = [
        {"Subject": "HTML", "Body": "<p>Hello <b>there</b></p>\n", "ContentType": "text/html; charset=utf-8",
         "SenderType": "agent", "IsVisibleForCustomer": 0},
        {"Subject": "Second", "Body": "more", "ContentType": "text/plain; charset=\"utf8\"; format=flowed",
         "From": "Someone <someone@example.org>"},
    ]
    data["Attachment"] = {"Content": _b64(b"a,b\n1,2\n"), "ContentType": "text/csv", "Filename": "t.csv"}
    assert both(oracle, data) == []


@OPEN
def test_gi_create_closed_state_with_diff_pending_ignored(oracle) -> None:
    data = request(State="closed successful", Lock="lock", PendingTime={"Diff": 90}, Owner="agent1")
    assert both(oracle, data) == []


@OPEN
def test_gi_create_pending_diff(oracle) -> None:
    data = request(State="pending auto close+", PendingTime={"Diff": 90})
    assert both(oracle, data) == []
