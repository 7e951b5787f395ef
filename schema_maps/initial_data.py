"""The standard initial data of a fresh OTRS install, for the mapped tables, per generation.

Ids and names are those of the genuine ``initial_insert`` files (compared by ``tests/schema_maps``); otrs-ext
code must still look ids up by name, because admins rename and add rows in real installations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._traits import Traits

Rows = list[tuple[str, list[dict[str, Any]]]]  # (uniform table name, rows) in insert order

STATE_TYPES = ["new", "open", "closed", "pending reminder", "pending auto", "removed", "merged"]
# (name, state type, Znuny 7 colour)
STATES = [
    ("new", "new", "#50B5FF"),
    ("closed successful", "closed", "#3DD598"),
    ("closed unsuccessful", "closed", "#FC5A5A"),
    ("open", "open", "#FFC542"),
    ("removed", "removed", "#8D8D9B"),
    ("pending reminder", "pending reminder", "#FF8A25"),
    ("pending auto close+", "pending auto", "#FF8A25"),
    ("pending auto close-", "pending auto", "#FF8A25"),
    ("merged", "merged", "#FF8A25"),
]
PRIORITIES = [
    ("1 very low", "#03c4f0"), ("2 low", "#83bfc8"), ("3 normal", "#cdcdcd"), ("4 high", "#ffaaaa"),
    ("5 very high", "#ff505e"),
]
LOCK_TYPES = ["unlock", "lock", "tmp_lock"]
SENDER_TYPES = ["agent", "system", "customer"]
CHANNELS = ["Email", "Phone", "Internal", "Chat"]
OTRS5_ARTICLE_TYPES = [
    "email-external", "email-internal", "email-notification-ext", "email-notification-int", "phone", "fax",
    "sms", "webrequest", "note-internal", "note-external", "note-report",
]
HISTORY_TYPES = [
    "NewTicket", "FollowUp", "SendAutoReject", "SendAutoReply", "SendAutoFollowUp", "Forward", "Bounce",
    "SendAnswer", "SendAgentNotification", "SendCustomerNotification", "EmailAgent", "EmailCustomer",
    "PhoneCallAgent", "PhoneCallCustomer", "AddNote", "Move", "Lock", "Unlock", "Remove", "TimeAccounting",
    "CustomerUpdate", "PriorityUpdate", "OwnerUpdate", "LoopProtection", "Misc", "SetPendingTime",
    "StateUpdate", "TicketDynamicFieldUpdate", "WebRequestCustomer", "TicketLinkAdd", "TicketLinkDelete",
    "SystemRequest", "Merged", "ResponsibleUpdate", "Subscribe", "Unsubscribe", "TypeUpdate", "ServiceUpdate",
    "SLAUpdate", "ArchiveFlagUpdate", "EscalationSolutionTimeStop", "EscalationResponseTimeStart",
    "EscalationUpdateTimeStart", "EscalationSolutionTimeStart", "EscalationResponseTimeNotifyBefore",
    "EscalationUpdateTimeNotifyBefore", "EscalationSolutionTimeNotifyBefore", "EscalationResponseTimeStop",
    "EscalationUpdateTimeStop", "TitleUpdate",
]
QUEUES = [
    ("Postmaster", "Postmaster queue."), ("Raw", "All default incoming tickets."),
    ("Junk", "All junk tickets."), ("Misc", "All misc tickets."),
]
GROUPS = [
    ("users", "Group for default access."), ("admin", "Group of all administrators."),
    ("stats", "Group for statistics access."),
]
CHANNEL_TABLES = {
    "Email": ["article_data_mime", "article_data_mime_plain", "article_data_mime_attachment"],
    "Phone": ["article_data_mime", "article_data_mime_plain", "article_data_mime_attachment"],
    "Internal": ["article_data_mime", "article_data_mime_plain", "article_data_mime_attachment"],
}
WELCOME_BODY = (
    "Welcome!\n\nThis ticket was created by the initial data of the helpdesk. otrs-ext seeds it the way a "
    "fresh install does, so that reads and the search index have one known ticket to start from.\n"
)


def _named(names: list[str], now: datetime, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": i, "name": n, **extra, **_audit(now)} for i, n in enumerate(names, start=1)]


def _audit(now: datetime) -> dict[str, Any]:
    return {"create_time": now, "create_by": 1, "change_time": now, "change_by": 1}


def initial_rows(t: Traits, now: datetime) -> Rows:
    """The rows a fresh install of generation ``t`` starts with, in an order that satisfies foreign keys."""
    valid = {"valid_id": 1}
    rows: Rows = [
        ("valid", _named(["valid", "invalid", "invalid-temporarily"], now)),
        ("users", [{
            "id": 1, "login": "root@localhost", "pw": "roK20XGbWEsSM", "first_name": "Admin",
            "last_name": "OTRS", **valid, **_audit(now),
        }]),
        ("groups", [
            {"id": i, "name": n, "comments": c, **valid, **_audit(now)} for i, (n, c) in enumerate(GROUPS, 1)
        ]),
    ]
    group_user = [{"user_id": 1, "group_id": g, "permission_key": "rw", **_audit(now)} for g in (1, 2, 3)]
    if t.group_user_permission_value:
        for row in group_user:
            row["permission_value"] = 1
    rows.append(("group_user", group_user))
    rows.append(("link_type", _named(["Normal", "ParentChild"], now, **valid)))
    rows.append(("link_state", _named(["Valid", "Temporary"], now, **valid)))
    rows.append(("ticket_state_type", _named(STATE_TYPES, now)))
    states = [{
        "id": i, "name": n, "type_id": STATE_TYPES.index(st) + 1, **valid, **_audit(now),
        **({"color": c} if t.colors else {}),
    } for i, (n, st, c) in enumerate(STATES, 1)]
    rows.append(("ticket_state", states))
    rows.append(("ticket_priority", [{
        "id": i, "name": n, **valid, **_audit(now), **({"color": c} if t.colors else {}),
    } for i, (n, c) in enumerate(PRIORITIES, 1)]))
    rows.append(("ticket_lock_type", _named(LOCK_TYPES, now, **valid)))
    rows.append(("ticket_type", _named(["Unclassified"], now, **valid)))
    rows.append(("ticket_history_type", _named(HISTORY_TYPES + list(t.history_types_extra), now, **valid)))
    rows.append(("article_sender_type", _named(SENDER_TYPES, now, **valid)))
    if t.article_split:
        rows.append(("communication_channel", [{
            "id": i, "name": n, "module": f"Kernel::System::CommunicationChannel::{n}", "package_name": "Framework",
            "channel_data": _channel_data(n, t).encode(), **valid, **_audit(now),
        } for i, n in enumerate(CHANNELS, 1)]))
    else:
        rows.append(("article_type", _named(OTRS5_ARTICLE_TYPES, now, **valid)))
    rows.append(("salutation", [{
        "id": 1, "name": "system standard salutation (en)",
        "text": "Dear <OTRS_CUSTOMER_REALNAME>,\n\nThank you for your request.\n\n",
        "content_type": "text/plain; charset=utf-8", "comments": "Standard Salutation.", **valid, **_audit(now),
    }]))
    rows.append(("signature", [{
        "id": 1, "name": "system standard signature (en)",
        "text": "\nYour Ticket-Team\n\n <OTRS_Agent_UserFirstname> <OTRS_Agent_UserLastname>\n\n",
        "content_type": "text/plain; charset=utf-8", "comments": "Standard Signature.", **valid, **_audit(now),
    }]))
    rows.append(("system_address", [{
        "id": 1, "value0": t.system_address, "value1": t.system_address_name, "comments": "Standard Address.",
        "queue_id": 1, **valid, **_audit(now),
    }]))
    rows.append(("follow_up_possible", _named(["possible", "reject", "new ticket"], now, **valid)))
    rows.append(("queue", [{
        "id": i, "name": n, "group_id": 1, "system_address_id": 1, "salutation_id": 1, "signature_id": 1,
        "follow_up_id": 1, "follow_up_lock": 0, "unlock_timeout": 0, "comments": c, **valid, **_audit(now),
    } for i, (n, c) in enumerate(QUEUES, 1)]))
    return rows


def _channel_data(name: str, t: Traits) -> str:
    tables = CHANNEL_TABLES.get(name, [t.chat_table])
    return "---\nArticleDataArticleIDField: article_id\nArticleDataTables:\n" + "".join(f"- {x}\n" for x in tables)


def welcome_ticket(t: Traits, now: datetime) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Ticket 1 of a fresh install: its ticket row, its article (uniform vocabulary) and history row."""
    ticket = {
        "id": 1, "tn": t.welcome_tn, "title": t.welcome_title, "queue_id": 2, "ticket_lock_id": 1, "type_id": 1,
        "user_id": 1, "responsible_user_id": 1, "ticket_priority_id": 3, "ticket_state_id": 1, "timeout": 0,
        "until_time": 0, "escalation_time": 0, "escalation_response_time": 0, "escalation_update_time": 0,
        "escalation_solution_time": 0, **_audit(now),
    }
    if t.create_time_unix:
        ticket["create_time_unix"] = int(now.timestamp())
    history = {
        "id": 1, "name": f"New Ticket [{t.welcome_tn}] created.", "history_type_id": 1, "ticket_id": 1,
        "type_id": 1, "article_id": 1, "priority_id": 3, "owner_id": 1, "state_id": 1, "queue_id": 2,
        **_audit(now),
    }
    article = {
        "id": 1, "ticket_id": 1, "article_sender_type_id": 3, "channel": "Email", "is_visible_for_customer": 1,
        "a_from": f"{t.product} Feedback <feedback@{t.product.lower()}.example>",
        "a_to": f"Your {t.product} System <{t.system_address}>", "a_subject": t.welcome_title,
        "a_body": WELCOME_BODY, "a_message_id": "<007@localhost>", "incoming_time": int(now.timestamp()),
        "content_path": now.strftime("%Y/%m/%d"), **_audit(now),
    }
    return ticket, article, history
