"""The GenericInterface TicketUpdate: Znuny's GenericTicketConnector operation (``gi_operation.pl``) against
otrs-ext's ``PATCH Ticket/:TicketID`` for the same request, on a ticket Znuny created; rows compared once the
daemon has run."""

from __future__ import annotations

from typing import Any

import pytest
from oracle_harness import DAEMON, EPOCH, ExtCore
from pending import pending
from scenarios import ticket_op

WS = "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST"
LATER = 60

CASES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "title-priority": ({"Ticket": {"Title": "Printer still on fire", "Priority": "4 high"}}, ()),
    "queue-state-owner": ({"Ticket": {"Queue": "Misc", "State": "open", "Owner": "agent1", "Lock": "lock"}},
                          ()),
    "pending": ({"Ticket": {"State": "pending reminder",
                            "PendingTime": {"Year": 2025, "Month": 11, "Day": 28, "Hour": 9, "Minute": 30}}},
                ("gi_update",)),
    "customer": ({"Ticket": {"CustomerUser": "hank@globex.test", "CustomerID": "GLOBEX"}}, ()),
    "responsible": ({"Ticket": {"ResponsibleID": 2}}, ()),
    "close": ({"Ticket": {"State": "closed successful"}}, ()),
    "note": ({"Article": {"Subject": "Update", "Body": "Toner replaced.", "ContentType": "text/plain; charset=utf8",
                          "CommunicationChannel": "Internal", "SenderType": "agent", "IsVisibleForCustomer": 1}},
             ("gi_update",)),
    "note-with-attachment-and-move": (
        {"Ticket": {"Queue": "Junk"},
         "Article": {"Subject": "Moved", "Body": "<p>Spam, <b>moved</b>.</p>", "ContentType": "text/html; charset=utf8",
                     "CommunicationChannel": "Internal", "SenderType": "agent", "IsVisibleForCustomer": 0},
         "Attachment": [{"Content": "c3BhbSBoZWFkZXJz", "ContentType": "text/plain", "Filename": "headers.txt"}]},
        ("gi_update",)),
}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pending(*CASES[n][1]) if CASES[n][1] else ())
                                  for n in CASES])
def test_gi_ticket_update(oracle, name: str) -> None:
    request, _ = CASES[name]
    setup = [ticket_op()]

    oracle.fresh()
    ticket_id = oracle.znuny(setup)["results"][0]["TicketID"]
    answer = oracle.gi_operation("TicketUpdate", {"TicketID": ticket_id, **request}, time=EPOCH + LATER)
    assert answer.get("Success") == 1, answer
    oracle.znuny(DAEMON, time=EPOCH + LATER)
    znuny = oracle.rows()

    def update(core: ExtCore) -> Any:
        core.advance(LATER)
        client, auth = core.api()
        response = client.patch(f"{WS}/Ticket/{core.ref('t')}", json=request, headers=auth)
        assert response.status_code == 200 and "Error" not in response.get_json(), response.data
        return response.get_json()

    ours = oracle.run_ext(update, setup=setup, after=DAEMON)
    assert ours.returned["TicketID"] == str(ticket_id)
    assert set(ours.returned) == set(answer["Data"])
    assert oracle.diff(znuny, ours.rows) == []
