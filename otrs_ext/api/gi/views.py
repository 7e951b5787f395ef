"""TicketGet's output shape: OTRS's key names, IDs and numbers from the database as strings (Perl's DBI hands
them to the JSON encoder as strings, and scripts compare them as such), times as ``YYYY-MM-DD HH:MM:SS``.

Keys otrs-ext does not read (Service, SLA, escalation times, article TimeUnit) are left out rather than
answered with made-up empty values.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ...db.lookups import Lookups
from ...tickets.reads import ArticleView, TicketView
from ...tickets.storage import AttachmentMeta


@dataclass(frozen=True)
class GetOptions:
    dynamic_fields: bool = False
    all_articles: bool = False
    sender_types: tuple[str, ...] = ()
    order_desc: bool = False
    limit: int | None = None
    attachments: bool = False
    contents: bool = True
    html_as_attachment: bool = False


def stamp(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.strftime("%Y-%m-%d 00:00:00")


def _id(lookups: Lookups, table: str, name: str) -> str:
    found = lookups.names(table).get(name)
    return "" if found is None else str(found)


def _login(lookups: Lookups, user_id: int) -> str:
    return next((login for login, ident in lookups.names("users").items() if ident == user_id), "")


def dynamic_field_list(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return [plain(v) for v in value]
        return stamp(value) if isinstance(value, datetime | date) else value

    return [{"Name": name, "Value": plain(value)} for name, value in values.items()]


def ticket(view: TicketView, lookups: Lookups, now: datetime) -> dict[str, Any]:
    """The ticket part of TicketGet (``now`` in OTRS's time zone, for Age)."""
    return {
        "TicketID": str(view.ticket_id), "TicketNumber": view.tn, "Title": view.title,
        "Queue": view.queue, "QueueID": str(view.queue_id),
        "State": view.state, "StateID": _id(lookups, "ticket_state", view.state), "StateType": view.state_type,
        "Priority": view.priority, "PriorityID": _id(lookups, "ticket_priority", view.priority),
        "Lock": view.lock, "LockID": _id(lookups, "ticket_lock_type", view.lock),
        "Type": view.type, "TypeID": _id(lookups, "ticket_type", view.type),
        "Owner": view.owner, "OwnerID": str(view.owner_id),
        "Responsible": _login(lookups, view.responsible_id), "ResponsibleID": str(view.responsible_id),
        "CustomerID": view.customer_id or "", "CustomerUserID": view.customer_user or "",
        "ArchiveFlag": "y" if view.archived else "n", "UntilTime": view.pending_until,
        "UnlockTimeout": str(view.unlock_timeout), "Age": max(0, int((now - view.created).total_seconds())),
        "Created": stamp(view.created), "CreateBy": str(view.created_by),
        "Changed": stamp(view.changed), "ChangeBy": str(view.changed_by),
    }


def article(a: ArticleView, number: int, ticket_id: int, lookups: Lookups,
            files: list[tuple[AttachmentMeta, bytes]] | None, options: GetOptions) -> dict[str, Any]:
    mime, _, rest = a.content_type.partition(";")
    charset = rest.split("=", 1)[1].strip().strip('"') if "=" in rest else ""
    out: dict[str, Any] = {
        "ArticleID": str(a.article_id), "ArticleNumber": number, "TicketID": str(ticket_id),
        "From": a.from_, "To": a.to, "Cc": a.cc, "Subject": a.subject, "Body": a.body, "MessageID": a.message_id,
        "ContentType": a.content_type, "MimeType": mime.strip(), "Charset": charset,
        "SenderType": a.sender_type, "SenderTypeID": _id(lookups, "article_sender_type", a.sender_type),
        "CommunicationChannel": a.channel,
        "CommunicationChannelID": _id(lookups, "communication_channel", a.channel),
        "IsVisibleForCustomer": 1 if a.visible_for_customer else 0, "IncomingTime": str(a.incoming_time),
        "CreateTime": stamp(a.created), "CreateBy": str(a.created_by),
    }
    if files is not None:
        listed = {m.file_id for m in a.attachments}  # the reader's list leaves the HTML body out
        out["Attachment"] = [_attachment(meta, content, options.contents) for meta, content in files
                             if meta.file_id in listed or options.html_as_attachment]
    return out


def _attachment(meta: AttachmentMeta, content: bytes, with_content: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "FileID": str(meta.file_id), "Filename": meta.filename, "ContentType": meta.content_type,
        "ContentID": meta.content_id or "", "ContentAlternative": "", "Disposition": meta.disposition,
        "FilesizeRaw": str(meta.size),
    }
    if with_content:
        out["Content"] = base64.b64encode(content).decode("ascii")
    return out
