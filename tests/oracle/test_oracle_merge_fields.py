"""Merge and dynamic field sets against Znuny 7.0 (issue 9 items 3 and 4): ``TicketMerge`` and the field
backend's ``ValueSet`` (as the agent screens call it) through Znuny, ``TicketService.merge`` and
``set_dynamic_field`` through otrs-ext, on the same database; the rows must be equal."""

from __future__ import annotations

from typing import Any

import pytest
from oracle_harness import ExtCore
from pending import pending


def ticket(ref: str, title: str, state: str = "new", **extra: Any) -> dict[str, Any]:
    return {"op": "TicketCreate", "ref": ref, "Title": title, "Queue": "Raw", "Lock": "unlock",
            "Priority": "3 normal", "State": state, "OwnerID": 1, "UserID": 1, **extra}


def link(source: str, target: str, link_type: str = "Normal") -> dict[str, Any]:
    return {"op": "Call", "Object": "Kernel::System::LinkObject", "Method": "LinkAdd", "SourceObject": "Ticket",
            "SourceKey": f"${source}", "TargetObject": "Ticket", "TargetKey": f"${target}", "Type": link_type,
            "State": "Valid", "UserID": 2}


CUSTOMER = {"CustomerID": "ACME", "CustomerUser": "jane@acme.test"}
MERGE_SETUP = [
    ticket("a", "Duplicate", **CUSTOMER), ticket("b", "Original", "open", **CUSTOMER), ticket("c", "Other"),
    ticket("d", "Fourth"),
    {"op": "AddSeconds", "Seconds": 1},
    {"op": "ArticleCreate", "ChannelName": "Internal", "TicketID": "$a", "SenderType": "agent",
     "IsVisibleForCustomer": 1, "From": "agent1", "Subject": "n1", "Body": "note on the duplicate",
     "MimeType": "text/plain", "Charset": "utf-8", "HistoryType": "AddNote", "HistoryComment": "%%Note",
     "UserID": 2},
    {"op": "TicketAccountTime", "TicketID": "$a", "ArticleID": 2, "TimeUnit": 3, "UserID": 2, "AllowFalse": 1},
    {"op": "ArticleCreate", "ChannelName": "Phone", "TicketID": "$b", "SenderType": "customer",
     "IsVisibleForCustomer": 1, "From": "jane", "Subject": "p1", "Body": "call on the original",
     "MimeType": "text/plain", "Charset": "utf-8", "HistoryType": "PhoneCallCustomer", "HistoryComment": "%%",
     "UserID": 1},
    {"op": "TicketFlagSet", "TicketID": "$b", "Key": "Seen", "Value": 1, "UserID": 2},
    {"op": "TicketFlagSet", "TicketID": "$a", "Key": "Seen", "Value": 1, "UserID": 1},
    {"op": "TicketLockSet", "TicketID": "$a", "Lock": "lock", "UserID": 2},
    {"op": "TicketStateSet", "TicketID": "$a", "State": "pending reminder", "UserID": 2},
    {"op": "TicketPendingTimeSet", "TicketID": "$a", "String": "2025-11-27 09:00:00", "UserID": 2},
]
# links of the merged ticket: moved, dropped where the main ticket has them already, deleted where they would
# link the main ticket to itself; a move that would duplicate a link fails whole in Znuny (its UPDATE does)
LINKS = {
    "moved": [link("a", "c"), link("d", "a"), link("b", "a")],
    "colliding": [link("c", "a"), link("c", "b"), link("a", "d", "ParentChild"), link("b", "d")],
}


# until OTRS's event queue (issue 9 item 1) matches, its rows are the only expected
# differences: any other one fails the scenario
@pending("events")
@pytest.mark.parametrize("links", LINKS, ids=list(LINKS))
def test_merge(oracle, links: str) -> None:
    setup = [*MERGE_SETUP, *LINKS[links], {"op": "AddSeconds", "Seconds": 5}]

    def merge(core: ExtCore) -> None:
        core.advance(6)  # the setup's clock: 1 + 5 seconds
        core.service.merge(core.agent, core.ref("a"), core.ref("b"))

    znuny = oracle.run_znuny([{"op": "AddSeconds", "Seconds": 6},
                              {"op": "TicketMerge", "MainTicketID": "$b", "MergeTicketID": "$a", "UserID": 2}],
                             setup=setup)
    ours = oracle.run_ext(merge, setup=setup)
    assert oracle.compare(znuny, ours) == []


FIELDS = [("Topic", "Text", {}), ("Notes", "TextArea", {}),
          ("Level", "Dropdown", {"PossibleValues": {"low": "Low", "high": "High"}}),
          ("Tags", "Multiselect", {"PossibleValues": {"red": "Red", "blue": "Blue", "green": "Green", "0": "Zero"}}),
          ("Urgent", "Checkbox", {}), ("Due", "Date", {}), ("When", "DateTime", {}), ("Long" + "x" * 60, "Text", {})]
FIELD_SETUP = [{"op": "Call", "Object": "Kernel::System::DynamicField", "Method": "DynamicFieldAdd", "Name": name,
                "Label": name, "FieldOrder": 100 + i, "FieldType": kind, "ObjectType": "Ticket",
                "Config": {"DefaultValue": "", **extra}, "ValidID": 1, "UserID": 1}
               for i, (name, kind, extra) in enumerate(FIELDS)] + [ticket("t", "Fields")]
LONG = FIELDS[-1][0]
# every set as an agent screen makes it, clearing with "" and null, no-ops included
SETS: list[tuple[str, Any]] = [
    ("Topic", "billing"), ("Topic", "billing"), ("Topic", ""), ("Topic", ""), ("Topic", "0"), ("Topic", None),
    ("Topic", "Ünïcødé ✓"), ("Notes", "line1\nline2"), ("Notes", None), ("Level", "high"), ("Level", ""),
    ("Tags", ["red", "blue"]), ("Tags", ["red", "blue"]), ("Tags", ["blue", "red"]), ("Tags", []),
    ("Tags", ["0", "green"]), ("Tags", None), ("Tags", ""), ("Tags", []),
    ("Urgent", 1), ("Urgent", 1), ("Urgent", 0), ("Urgent", ""), ("Urgent", None), ("Urgent", ""), ("Urgent", "1"),
    ("Due", "2025-12-24 00:00:00"), ("Due", ""), ("Due", ""), ("Due", None), ("Due", "2025-12-26 00:00:00"),
    ("Due", None), ("When", "2025-12-24 10:30:15"), ("When", "2025-12-24 10:30:15"), ("When", None),
    ("Topic", "v" * 120), ("Topic", "w" * 100), (LONG, "y" * 150), (LONG, "z" * 30), (LONG, None),
]


@pending("events")
def test_dynamic_field_sets(oracle) -> None:
    ops: list[dict[str, Any]] = []
    for name, value in SETS:
        ops += [{"op": "AddSeconds", "Seconds": 1},
                {"op": "DynamicFieldValueSet", "FieldName": name, "ObjectID": "$t", "Value": value, "UserID": 2}]

    def sets(core: ExtCore) -> None:
        for name, value in SETS:
            core.advance(1)
            core.service.set_dynamic_field(core.agent, core.ref("t"), name, value)

    znuny = oracle.run_znuny(ops, setup=FIELD_SETUP)
    ours = oracle.run_ext(sets, setup=FIELD_SETUP)
    # NewTicket and one row per set that changed something (the no-ops write none)
    assert len(znuny.rows["ticket_history"]) == 32
    assert oracle.compare(znuny, ours) == []
