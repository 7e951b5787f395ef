"""``ticket_history`` rows, with the ``%%`` name layouts the OTRS UI turns into sentences.

The UI splits a name that starts with ``%%`` on ``%%`` and fills the parts, in order, into a per-type
sentence (``Move`` → ``Changed queue to "%s" (%s) from "%s" (%s).``); a wrong part order renders a wrong
sentence, so every layout lives here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from schema_maps import OtrsSchema

from ..db.lookups import Lookups
from . import statements

NAME_LIMIT = 200  # ticket_history.name is VARCHAR(200); OTRS cuts longer names

# The English sentences of Ticket::Frontend::HistoryTypes###000-Framework, for rendering history in otrs-ext's
# screens as the agent history screen does.
SENTENCES = {
    "NewTicket": 'Created ticket [%s] in "%s" with priority "%s" and state "%s".',
    "FollowUp": "Added follow-up to ticket [%s]. %s",
    "SendAutoReject": 'Sent auto reject to "%s".',
    "SendAutoReply": 'Sent auto reply to "%s".',
    "SendAutoFollowUp": 'Sent auto follow-up to "%s".',
    "Forward": 'Forwarded to "%s".',
    "Bounce": 'Bounced to "%s".',
    "SendAnswer": 'Sent email to "%s".',
    "SendAgentNotification": 'Sent "%s" notification to "%s" via "%s".',
    "SendCustomerNotification": 'Sent notification to "%s".',
    "EmailAgent": "Sent email to customer.",
    "EmailCustomer": "Added email. %s",
    "PhoneCallAgent": "Added phone call to customer.",
    "PhoneCallCustomer": "Added phone call from customer.",
    "AddNote": "Added note (%s).",
    "Move": 'Changed queue to "%s" (%s) from "%s" (%s).',
    "Lock": "Locked ticket.",
    "Unlock": "Unlocked ticket.",
    "Remove": "%s",
    "TimeAccounting": "Added %s time unit(s), for a total of %s time unit(s).",
    "CustomerUpdate": 'Changed customer to "%s".',
    "PriorityUpdate": 'Changed priority from "%s" (%s) to "%s" (%s).',
    "OwnerUpdate": 'Changed owner to "%s" (%s).',
    "LoopProtection": 'Loop protection: no auto-response sent to "%s".',
    "Misc": "%s",
    "SetPendingTime": 'Changed pending time to "%s".',
    "StateUpdate": 'Changed state from "%s" to "%s".',
    "TicketDynamicFieldUpdate": 'Changed dynamic field %s from "%s" to "%s".',
    "WebRequestCustomer": "Added web request from customer.",
    "TicketLinkAdd": 'Added link to ticket "%s".',
    "TicketLinkDelete": 'Deleted link to ticket "%s".',
    "SystemRequest": "Added system request (%s).",
    "Merged": "Merged Ticket (%s/%s) to (%s/%s).",
    "ResponsibleUpdate": 'Changed responsible to "%s" (%s).',
    "Subscribe": 'Added subscription for user "%s".',
    "Unsubscribe": 'Removed subscription for user "%s".',
    "TypeUpdate": 'Changed type from "%s" (%s) to "%s" (%s).',
    "ServiceUpdate": 'Changed service to "%s" (%s).',
    "SLAUpdate": 'Changed SLA to "%s" (%s).',
    "ArchiveFlagUpdate": 'Changed archive state to "%s".',
    "TitleUpdate": 'Changed title from "%s" to "%s".',
    "EmailResend": 'Resent email to "%s".',
}


def name(*parts: Any) -> str:
    """``%%a%%b%%c`` from the parts, cut to what the column holds."""
    return ("%%" + "%%".join("" if p is None else str(p) for p in parts))[:NAME_LIMIT]


def render(history_type: str, stored: str) -> str:
    """The sentence the OTRS UI shows for a stored history name (English)."""
    if not stored.startswith("%%"):
        return stored
    parts = stored[2:].split("%%")
    sentence = SENTENCES.get(history_type)
    if sentence is None:
        return " ".join(parts)
    wanted = sentence.count("%s")
    parts += [""] * max(0, 6 - len(parts))
    # AgentTicketHistory reorders these two: the dynamic field row is stored as
    # FieldName%%<name>%%Value%%<new>%%OldValue%%<old>, and TypeUpdate stores the new type before the old.
    if history_type == "TicketDynamicFieldUpdate":
        parts = [parts[1], parts[5], parts[3]]
    elif history_type == "TypeUpdate":
        parts = [parts[2], parts[3], parts[0], parts[1]]
    parts = (parts + [""] * wanted)[:wanted]
    # ``CustomerUpdate`` stores "CustomerID=x;CustomerUser=y;", shown as one part.
    return sentence % tuple(parts)


def snapshot(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """The post-change ticket columns every history row repeats."""
    return {
        "ticket_id": ticket["id"],
        "type_id": ticket["type_id"] or 1,
        "queue_id": ticket["queue_id"],
        "owner_id": ticket["user_id"],
        "priority_id": ticket["ticket_priority_id"],
        "state_id": ticket["ticket_state_id"],
    }


class HistoryWriter:
    """``ticket_history`` rows: built one at a time as a write goes, inserted together (``Write.flush``)."""

    def __init__(self, schema: OtrsSchema, lookups: Lookups) -> None:
        self.table = schema.tables.ticket_history
        self.lookups = lookups

    def row(self, ticket: Mapping[str, Any], history_type: str, text: str, *, user_id: int, now: datetime,
            article_id: int | None = None) -> dict[str, Any]:
        """The row as ``HistoryAdd`` writes it, with the ticket's columns as they are now."""
        return dict(
            name=text[:NAME_LIMIT],
            history_type_id=self.lookups.id("ticket_history_type", history_type),
            article_id=article_id,
            **snapshot(ticket),
            create_time=now, create_by=user_id, change_time=now, change_by=user_id,
        )

    def insert(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """``rows`` in their order, as one multi-row INSERT (the driver folds executemany into one): their
        auto-increment ids ascend in that order, so the table ends up as with one INSERT per row."""
        if rows:
            statements.run_insert(conn, self.table, rows)
