"""Building blocks of the scenarios: the same ticket and article, as Znuny ops and as otrs-ext inputs."""

from __future__ import annotations

import base64
from typing import Any

from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket

AGENT = 2
CUSTOMER = "jane@acme.test"
FROM_AGENT = "Oracle Agent <agent1@oracle.example.com>"
FROM_CUSTOMER = "Jane Doe <jane@acme.test>"


def ticket_op(ref: str = "t", *, title: str = "Printer on fire", queue: str = "Raw", state: str = "new",
              priority: str = "3 normal", lock: str = "unlock", owner: int = 1, user: int = AGENT,
              customer_id: str = "ACME", customer_user: str = CUSTOMER, **extra: Any) -> dict[str, Any]:
    """Znuny's TicketCreate as the agent screens call it."""
    return {"op": "TicketCreate", "ref": ref, "Title": title, "Queue": queue, "Lock": lock, "Priority": priority,
            "State": state, "CustomerID": customer_id, "CustomerUser": customer_user, "OwnerID": owner,
            "UserID": user, **extra}


def new_ticket(*, title: str = "Printer on fire", queue: str = "Raw", state: str = "new",
               priority: str = "3 normal", lock: str = "unlock", owner: int = 1, customer_id: str = "ACME",
               customer_user: str = CUSTOMER, **extra: Any) -> NewTicket:
    """The same ticket for otrs-ext (responsible 1, as Znuny's default)."""
    return NewTicket(title=title, queue=queue, state=state, priority=priority, lock=lock, owner_id=owner,
                     customer_id=customer_id, customer_user=customer_user, **extra)


def article_op(ticket: str = "$t", *, ref: str | None = None, channel: str = "Internal", sender: str = "agent",
               visible: bool = False, body: str = "The printer in room 4 is on fire.", subject: str = "Flames",
               mime_type: str = "text/plain", charset: str = "utf-8", from_: str = FROM_AGENT,
               to: str = CUSTOMER, cc: str = "", history_type: str = "AddNote", history_comment: str = "%%Note",
               user: int = AGENT, attachments: tuple[Attachment, ...] = (), **extra: Any) -> dict[str, Any]:
    """Znuny's ArticleCreate of ``channel``'s backend with the same fields as ``new_article``."""
    op: dict[str, Any] = {
        "op": "ArticleCreate", "TicketID": ticket, "ChannelName": channel, "SenderType": sender,
        "IsVisibleForCustomer": int(visible), "From": from_, "To": to, "Subject": subject, "Body": body,
        "MimeType": mime_type, "Charset": charset, "HistoryType": history_type, "HistoryComment": history_comment,
        "UserID": user, **extra}
    if cc:
        op["Cc"] = cc
    if ref:
        op["ref"] = ref
    if attachments:
        op["Attachment"] = [attachment_param(a) for a in attachments]
    return op


def attachment_param(a: Attachment) -> dict[str, Any]:
    param: dict[str, Any] = {"Filename": a.filename, "ContentType": a.content_type,
                             "ContentBase64": base64.b64encode(a.content).decode(), "Disposition": a.disposition}
    if a.content_id:
        param["ContentID"] = a.content_id
    return param


def new_article(*, channel: str = "Internal", sender: str = "agent", visible: bool = False,
                body: str = "The printer in room 4 is on fire.", subject: str = "Flames",
                mime_type: str = "text/plain", charset: str = "utf-8",
                from_: str = FROM_AGENT, to: str = CUSTOMER, cc: str = "",
                history_type: str = "AddNote", history_comment: str = "%%Note",
                attachments: tuple[Attachment, ...] = (), **extra: Any) -> NewArticle:
    return NewArticle(body=body, subject=subject, channel=channel, sender_type=sender, visible_for_customer=visible,
                      mime_type=mime_type, charset=charset, from_=from_, to=to, cc=cc, history_type=history_type,
                      history_comment=history_comment, attachments=attachments, **extra)
