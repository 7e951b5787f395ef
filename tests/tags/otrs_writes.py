"""Tickets and articles written the way OTRS's own code writes them (OTRS_INTERNALS §3-4, the golden rows): one
auto-committed statement at a time, no transaction, for the Znuny 6+ article layout.

* the mail gateway (PostMaster) opens a ticket: ``ticket`` + ``NewTicket`` history as the system user, then
  ``article`` (Email, customer, visible) + ``article_data_mime`` + its ``EmailCustomer`` history row, and only
  then the raw mail in ``article_data_mime_plain`` (``raw_delay`` seconds later, to show the handler waits);
* the agent interface's new phone ticket (``PhoneCallCustomer``) and new e-mail ticket (``EmailAgent``) as the
  agent, replies (``SendAnswer``) and internal notes (``AddNote``).
"""

from __future__ import annotations

import time
from email.parser import BytesHeaderParser
from email.policy import default
from itertools import count

from sqlalchemy import Engine, text

_numbers = count(1)


def _run(engine: Engine, sql: str, **params: object) -> int:
    with engine.begin() as conn:  # one statement, one commit: DBI with AutoCommit
        return conn.execute(text(sql), params).lastrowid


def _id(engine: Engine, table: str, name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT id FROM {table} WHERE name = :n"), {"n": name}).scalar_one()


def history(engine: Engine, ticket_id: int, kind: str, name: str, *, article_id: int | None = None,
            queue_id: int = 2, user: int = 1) -> int:
    return _run(engine, "INSERT INTO ticket_history (name, history_type_id, ticket_id, article_id, type_id, "
                "queue_id, owner_id, priority_id, state_id, create_time, create_by, change_time, change_by) "
                "VALUES (:name, :t, :tid, :aid, 1, :q, 1, 3, 1, NOW(), :u, NOW(), :u)",
                name=name, t=_id(engine, "ticket_history_type", kind), tid=ticket_id, aid=article_id, q=queue_id,
                u=user)


def ticket(engine: Engine, title: str, *, queue_id: int = 2, user: int = 1) -> int:
    tn = f"2026112610{next(_numbers):06d}"
    ticket_id = _run(engine, "INSERT INTO ticket (tn, title, queue_id, ticket_lock_id, type_id, user_id, "
                     "responsible_user_id, ticket_priority_id, ticket_state_id, timeout, until_time, "
                     "escalation_time, escalation_update_time, escalation_response_time, escalation_solution_time, "
                     "archive_flag, create_time, create_by, change_time, change_by) VALUES (:tn, :title, :q, 1, 1, "
                     "1, 1, 3, 1, 0, 0, 0, 0, 0, 0, 0, NOW(), :u, NOW(), :u)", tn=tn, title=title, q=queue_id, u=user)
    history(engine, ticket_id, "NewTicket", f"%%{tn}%%Raw%%3 normal%%new%%{ticket_id}", queue_id=queue_id, user=user)
    return ticket_id


def article(engine: Engine, ticket_id: int, *, channel: str, sender: str, visible: bool, user: int,
            history_type: str, history_name: str = "%%", a_from: str = "", subject: str = "", body: str = "text",
            message_id: str = "", queue_id: int = 2) -> int:
    article_id = _run(engine, "INSERT INTO article (ticket_id, article_sender_type_id, communication_channel_id, "
                      "is_visible_for_customer, search_index_needs_rebuild, insert_fingerprint, create_time, "
                      "create_by, change_time, change_by) VALUES (:t, :s, :c, :v, 1, :fp, NOW(), :u, NOW(), :u)",
                      t=ticket_id, s=_id(engine, "article_sender_type", sender),
                      c=_id(engine, "communication_channel", channel), v=int(visible), fp=f"42-{next(_numbers):032d}",
                      u=user)
    _run(engine, "INSERT INTO article_data_mime (article_id, a_from, a_reply_to, a_to, a_cc, a_bcc, a_subject, "
         "a_message_id, a_message_id_md5, a_in_reply_to, a_references, a_content_type, a_body, incoming_time, "
         "content_path, create_time, create_by, change_time, change_by) VALUES (:a, :f, '', 'support@example.test', "
         "'', '', :s, 'fp', NULL, '', '', 'text/plain; charset=utf-8', :b, UNIX_TIMESTAMP(), '2026/11/26', NOW(), "
         ":u, NOW(), :u)", a=article_id, f=a_from, s=subject, b=body, u=user)
    _run(engine, "UPDATE article_data_mime SET a_message_id = :m WHERE article_id = :a", m=message_id, a=article_id)
    history(engine, ticket_id, history_type, history_name, article_id=article_id, queue_id=queue_id, user=user)
    return article_id


def _decoded(value: object) -> str:
    return str(value) if value is not None else ""


def incoming_mail(engine: Engine, raw: bytes, *, ticket_id: int | None = None, queue_id: int = 2,
                  raw_delay: float = 0.0) -> tuple[int, int]:
    """The mail gateway storing ``raw``: a new ticket (``EmailCustomer``) or, given ``ticket_id``, a follow-up
    (``FollowUp``); (ticket id, article id)."""
    parsed = BytesHeaderParser(policy=default).parsebytes(raw)
    subject = _decoded(parsed["Subject"])
    if ticket_id is None:
        ticket_id = ticket(engine, subject or "(no subject)", queue_id=queue_id)
        kind, name = "EmailCustomer", "%%"
    else:
        kind, name = "FollowUp", "%%2026112610000001%%"
    article_id = article(engine, ticket_id, channel="Email", sender="customer", visible=True, user=1,
                         history_type=kind, history_name=name, a_from=_decoded(parsed["From"]), subject=subject,
                         message_id=_decoded(parsed["Message-ID"]), queue_id=queue_id)
    if raw_delay:
        time.sleep(raw_delay)
    _run(engine, "INSERT INTO article_data_mime_plain (article_id, body, create_time, create_by, change_time, "
         "change_by) VALUES (:a, :b, NOW(), 1, NOW(), 1)", a=article_id, b=raw)
    return ticket_id, article_id


def phone_ticket(engine: Engine, agent_id: int) -> tuple[int, int]:
    """AgentTicketPhone: the agent writes the customer's call as the first article."""
    ticket_id = ticket(engine, "Called about the invoice", user=agent_id)
    return ticket_id, article(engine, ticket_id, channel="Phone", sender="customer", visible=True, user=agent_id,
                              history_type="PhoneCallCustomer", a_from="Jane <jane@acme.test>", subject="Invoice")


def email_ticket(engine: Engine, agent_id: int) -> tuple[int, int]:
    """AgentTicketEmail: the agent writes to a customer and so opens a ticket."""
    ticket_id = ticket(engine, "Your order", user=agent_id)
    return ticket_id, article(engine, ticket_id, channel="Email", sender="agent", visible=True, user=agent_id,
                              history_type="EmailAgent", a_from="Agent <agent@example.test>", subject="Your order")


def reply(engine: Engine, ticket_id: int, agent_id: int) -> int:
    """AgentTicketCompose: an e-mail answer to the customer."""
    return article(engine, ticket_id, channel="Email", sender="agent", visible=True, user=agent_id,
                   history_type="SendAnswer", history_name="%%jane@acme.test", subject="RE: question")


def note(engine: Engine, ticket_id: int, agent_id: int) -> int:
    """AgentTicketNote: an internal note, not visible to the customer."""
    return article(engine, ticket_id, channel="Internal", sender="agent", visible=False, user=agent_id,
                   history_type="AddNote", history_name="%%Note", subject="note")
