"""TicketCreate and ArticleCreate, row by row as OTRS writes them (OTRS_INTERNALS §4.2, §4.3, §13)."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Sequence

from sqlalchemy import and_, delete, func, select

from . import otrs_cache, statements
from .history import name
from .html import html_to_text
from .inputs import Attachment, NewArticle, NewTicket, text_of
from .storage import AttachmentStore, StoredFile, unique_names
from .write import Row, Write

TITLE_LIMIT = 255


def insert_ticket(w: Write, tn: str, new: NewTicket, *, first_article: NewArticle | None = None) -> Row:
    """The ticket row, its ``NewTicket`` history and, with customer data, the customer update.

    ``first_article``: the article the caller writes next (``insert_article``), whose unlock-timeout reset
    then needs no UPDATE of its own (see below)."""
    t = w.schema.tables.ticket
    values = {
        "tn": tn,
        "title": new.title[: t.c.title.type.length or TITLE_LIMIT],
        "queue_id": w.lookups.id("queue", new.queue),
        "ticket_lock_id": w.lookups.id("ticket_lock_type", new.lock),
        "type_id": w.lookups.id("ticket_type", new.type or "Unclassified"),
        "service_id": None,
        "sla_id": None,
        "user_id": new.owner_id,
        "responsible_user_id": new.responsible_id,
        "ticket_priority_id": w.lookups.id("ticket_priority", new.priority),
        "ticket_state_id": w.lookups.id("ticket_state", new.state),
        "timeout": 0,
        "until_time": 0,
        "escalation_time": 0,
        "escalation_update_time": 0,
        "escalation_response_time": 0,
        "escalation_solution_time": 0,
        "archive_flag": 0,
        "create_time": w.now,
        "create_by": w.user_id,
        "change_time": w.now,
        "change_by": w.user_id,
    }
    if w.schema.traits.create_time_unix:  # OTRS 5
        values["create_time_unix"] = w.epoch_now
    # OTRS INSERTs the ticket and then UPDATEs it: the customer right away, the unlock timeout after an agent's
    # first article. The final row is what counts (nobody sees it before the commit), so those columns go into
    # the INSERT at once, with the same change_time/change_by; the steps below still run as before, their
    # UPDATEs found to change nothing and left out (``Write.update_ticket``), their history rows and events
    # unchanged. ``Write.settle`` puts back a value a step did not set after all.
    ahead: Row = {}
    customer = (new.customer_id or "", new.customer_user or "") if new.customer_id or new.customer_user else None
    if customer is not None:
        ahead.update(customer_id=customer[0], customer_user_id=customer[1])
    if first_article is not None and _first_article_resets_unlock_timeout(first_article.sender_type):
        ahead["timeout"] = w.epoch_now
    ticket_id = statements.run_insert(w.conn, t, {**values, **ahead}).lastrowid
    w.inserted_ticket(ticket_id, {**values, **ahead})
    ticket: Row = {"id": ticket_id, **values, "customer_id": None, "customer_user_id": None}
    w.history(ticket, "NewTicket", name(tn, new.queue, new.priority, new.state, ticket_id))
    if customer is not None:
        # TicketCreate passes both to TicketCustomerSet, the missing one as '' (OTRS_INTERNALS §13 item 8:
        # "CustomerID=;"), so the column holds '' rather than NULL.
        ticket = set_customer(w, ticket, *customer)
    return ticket


def set_customer(w: Write, ticket: Row, customer_id: str | None, customer_user: str | None) -> Row:
    """TicketCustomerSet: two UPDATEs (company, then user) and one ``CustomerUpdate`` row; None keeps a value."""
    company = ticket["customer_id"] if customer_id is None else customer_id
    user = ticket["customer_user_id"] if customer_user is None else customer_user
    if (company, user) == (ticket["customer_id"], ticket["customer_user_id"]):
        return ticket
    if company != ticket["customer_id"]:
        ticket = w.update_ticket(ticket, customer_id=company)
    if user != ticket["customer_user_id"]:
        ticket = w.update_ticket(ticket, customer_user_id=user)
    # OTRS names only the values it was given ("CustomerUser=x;" alone when the company is kept).
    given = [("CustomerID", customer_id), ("CustomerUser", customer_user)]
    w.history(ticket, "CustomerUpdate", "%%" + "".join(f"{k}={v};" for k, v in given if v is not None))
    return ticket


def _body_files(article: NewArticle, body: str) -> tuple[str, str, list[StoredFile]]:
    """(a_body, a_content_type, leading files): HTML is kept as ``file-2`` and its text goes to a_body."""
    content_type = article.content_type or f"text/plain; charset={article.charset}"
    if article.mime_type == "text/html":
        html = StoredFile(filename="file-2", content=body.encode("utf-8"),
                          content_type=f'text/html; charset="{article.charset}"', disposition="")
        # the body becomes text: OTRS says so in the content type it was given (first "html" -> "plain")
        return html_to_text(body), re.sub("html", "plain", content_type, count=1, flags=re.IGNORECASE), [html]
    # MIMEBase ArticleCreate turns only these sequences into LF; a lone CR stays.
    return re.sub(r"\n\r|\r\r\n|\r\n", "\n", body), content_type, []


def _one_line(value: str) -> str:
    """Header fields as OTRS stores them: CR and LF removed, not replaced (a folded "a,\n b" becomes "a, b")."""
    return value.replace("\r", "").replace("\n", "")


def insert_article(w: Write, ticket: Row, article: NewArticle, store: AttachmentStore) -> tuple[Row, int]:
    """The article rows, attachments, history, Seen flags and unlock-timeout reset; returns (ticket, id)."""
    body = text_of(article.body, "article.body", [])
    a_body, content_type, files = _body_files(article, body)
    files += [
        StoredFile(filename=n, content=a.content, content_type=a.content_type, disposition=a.disposition,
                   content_id=_bracketed(a.content_id))
        for n, a in zip(unique_names([a.filename for a in article.attachments]), article.attachments, strict=True)
    ]
    message_id = _one_line(article.message_id)[:3800]
    content_path = w.now.strftime("%Y/%m/%d")
    vocabulary = {
        "ticket_id": ticket["id"],
        "article_sender_type_id": w.lookups.id("article_sender_type", article.sender_type),
        "channel": article.channel,
        "is_visible_for_customer": int(article.visible_for_customer),
        "insert_fingerprint": f"{os.getpid()}-{secrets.token_urlsafe(24)[:32]}",
        "a_from": _one_line(article.from_), "a_reply_to": _one_line(article.reply_to),
        "a_to": _one_line(article.to), "a_cc": _one_line(article.cc), "a_bcc": _one_line(article.bcc),
        "a_subject": _one_line(article.subject),
        "a_message_id": message_id,
        "a_message_id_md5": hashlib.md5(message_id.encode()).hexdigest() if message_id else None,
        "a_in_reply_to": _one_line(article.in_reply_to), "a_references": _one_line(article.references),
        "a_content_type": content_type, "a_body": a_body,
        "incoming_time": w.epoch_now, "content_path": content_path,
        "create_time": w.now, "create_by": w.user_id, "change_time": w.now, "change_by": w.user_id,
    }
    ids = {k: w.lookups.names(k) for k in ("communication_channel", "article_type")}
    article_id = w.schema.articles.insert(w.conn, vocabulary, ids, run=statements.insert_row)
    w.new_articles[article_id] = vocabulary
    w.on_rollback.append(lambda: store.discard(article_id, content_path))
    store.write(w.conn, article_id, content_path, files, user_id=w.user_id, now=w.now)
    if w.search_index is not None:
        w.search_index.add(w, ticket["id"], article_id, vocabulary, files, store, content_path)
    w.history(ticket, article.history_type, article.history_comment, article_id=article_id)
    _mark_new_message(w, ticket["id"], article_id)
    if _resets_unlock_timeout(w, ticket["id"], article_id, article.sender_type):
        ticket = w.reset_unlock_timeout(ticket)
    # The screens account time after ArticleCreate returned, so its row follows the timeout reset's.
    if article.time_units:
        _account_time(w, ticket, article_id, article.time_units)
    w.stale.extend(otrs_cache.article_list_keys(ticket["id"]))
    return ticket, article_id


def add_attachments(w: Write, article_id: int, attachments: Sequence[Attachment], store: AttachmentStore) -> None:
    """Files added to an existing article afterwards, as OTRS's ArticleWriteAttachment adds them: a name the
    article already has (its HTML body ``file-2`` too) gets the next free ``-N``. Nothing else changes: OTRS's
    search index of the article, built when it was created, does not list them."""
    if not attachments:
        return
    query = w.schema.articles.select()  # content_path lives in article_data_mime since OTRS 6
    content_path = w.conn.execute(query.where(query.selected_columns.id == article_id)).mappings().one()[
        "content_path"]
    existing = [m.filename for m in store.index(w.conn, article_id, content_path)]
    names = unique_names(existing + [x.filename for x in attachments])[len(existing):]
    store.write(w.conn, article_id, content_path or w.now.strftime("%Y/%m/%d"), [
        StoredFile(filename=n, content=x.content, content_type=x.content_type, disposition=x.disposition,
                   content_id=_bracketed(x.content_id))
        for n, x in zip(names, attachments, strict=True)], user_id=w.user_id, now=w.now)


def _bracketed(content_id: str | None) -> str | None:
    if not content_id:
        return None
    return content_id if content_id.startswith("<") else f"<{content_id}>"


def _mark_new_message(w: Write, ticket_id: int, article_id: int) -> None:
    """TicketNewMessageUpdate: unread for everyone, read by its author (and the ticket too, if all are)."""
    tf, af = w.schema.tables.ticket_flag, w.schema.tables.article_flag
    # The first article of a ticket this write created: the ticket has no flags yet and no other article, so
    # the two reads below would find nothing, and every article is then seen by its author.
    first = w.first_article_of_new(ticket_id, article_id)
    # A DELETE that matches nothing still takes a gap lock at the end of the index; concurrent creates all took
    # it and then deadlocked on their INSERTs. So: no DELETE of the just-inserted article's flags (it has none),
    # and the ticket's Seen flags are deleted only when a plain (lock-free) read finds some.
    if not first:
        seen = and_(tf.c.ticket_id == ticket_id, tf.c.ticket_key == "Seen")
        if w.conn.execute(select(tf.c.ticket_id).where(seen).limit(1)).first() is not None:
            w.conn.execute(delete(tf).where(seen))
    statements.run_insert(w.conn, af, {"article_id": article_id, "article_key": "Seen", "article_value": "1",
                                       "create_time": w.now, "create_by": w.user_id})
    a = w.schema.tables.article
    unseen = 0 if first else w.conn.execute(
        select(func.count()).select_from(a).where(a.c.ticket_id == ticket_id).where(
            ~select(af.c.article_id).where(and_(af.c.article_id == a.c.id, af.c.article_key == "Seen",
                                                af.c.create_by == w.user_id)).exists())
    ).scalar_one()
    if unseen == 0:
        statements.run_insert(w.conn, tf, {"ticket_id": ticket_id, "ticket_key": "Seen", "ticket_value": "1",
                                           "create_time": w.now, "create_by": w.user_id})
    w.stale.extend(otrs_cache.ticket_flag_keys(ticket_id))


def _resets_unlock_timeout(w: Write, ticket_id: int, article_id: int, sender_type: str) -> bool:
    """An agent's article, or a customer's answer to an agent, restarts the unlock timeout (§4.3 item 9)."""
    if w.first_article_of_new(ticket_id, article_id):
        return _first_article_resets_unlock_timeout(sender_type)
    if sender_type == "agent":
        return True
    if sender_type != "customer":
        return False
    a = w.schema.tables.article
    system = w.lookups.id("article_sender_type", "system")
    previous = w.conn.execute(
        select(a.c.article_sender_type_id).where(a.c.ticket_id == ticket_id, a.c.id < article_id,
                                                 a.c.article_sender_type_id != system)
        .order_by(a.c.id.desc()).limit(1)
    ).scalar()
    return previous == w.lookups.id("article_sender_type", "agent")


def _first_article_resets_unlock_timeout(sender_type: str) -> bool:
    """The first article of a new ticket answers no one: only an agent's restarts the timeout."""
    return sender_type == "agent"


def _account_time(w: Write, ticket: Row, article_id: int, units: float) -> None:
    ta = w.schema.tables.time_accounting
    w.conn.execute(ta.insert().values(ticket_id=ticket["id"], article_id=article_id, time_unit=units,
                                      create_time=w.now, create_by=w.user_id, change_time=w.now,
                                      change_by=w.user_id))
    total = w.conn.execute(select(func.sum(ta.c.time_unit)).where(ta.c.ticket_id == ticket["id"])).scalar_one()
    w.history(ticket, "TimeAccounting", name(_units(units), _units(total)), article_id=article_id)


def _units(value: float) -> str:
    return f"{float(value):g}"
