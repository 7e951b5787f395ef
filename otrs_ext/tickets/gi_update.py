"""TicketUpdate as Znuny's GenericTicketConnector writes it, step by step, so its rows are Znuny's.

Observed through the oracle (``tests/oracle/gi_operation.pl``), each part only when the request names it and
it differs from the ticket, in this order:

1. title, queue (``Move`` and the forced unlock), lock, type;
2. the state: a closed state first unlocks the ticket; a pending state first sets the request's pending time
   (``SetPendingTime`` before ``StateUpdate``, and even when the state does not change); a pending time
   without a pending state is ignored;
3. customer, priority, owner, responsible;
4. the article, then the request's attachments (written after it, so OTRS's search index of the article does
   not name them);
5. the dynamic fields, in the request's order.

Unlike Znuny, which checks its permissions first but then writes statement by statement, all of it is one
transaction: the service checks every permission before the first change, and any later refusal (a dynamic
field value, say) rolls everything back.

What the request's fields become (``a_from`` = the agent's full name, ``a_to`` only when sent, trimmed values,
the content type as sent) is decided by the GI adapter (``otrs_ext/api/gi/tickets.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from . import create, setters
from .inputs import NewArticle
from .storage import AttachmentStore
from .write import Row, Write


@dataclass(frozen=True)
class GiTicketUpdate:
    """The request's changes, names resolved; None = not asked for."""

    title: str | None = None
    queue: str | None = None
    lock: str | None = None
    type: str | None = None
    state: str | None = None
    pending: datetime | timedelta | None = None  # PendingTime: a moment, or Diff from now
    customer_id: str | None = None  # with customer_user: set together when either is not None
    customer_user: str | None = None
    priority: str | None = None
    owner_id: int | None = None
    responsible_id: int | None = None
    articles: Sequence[NewArticle] = ()  # the first one carries the request's attachments
    dynamic_fields: dict[str, Any] = field(default_factory=dict)


def changes(w: Write, row: Row, request: GiTicketUpdate) -> GiTicketUpdate:
    """``request`` without the ticket attributes that already have the requested value (Znuny skips those;
    the pending time of a pending state is kept: it is written even when the state stays)."""
    def differs(table: str, name: str | None, column: str) -> str | None:
        return name if name is not None and w.lookups.id(table, name) != row[column] else None

    # the customer needs no comparison here: TicketCustomerSet (``create.set_customer``) skips an equal one
    return replace(
        request,
        title=request.title if request.title is not None and request.title != row["title"] else None,
        queue=differs("queue", request.queue, "queue_id"),
        lock=differs("ticket_lock_type", request.lock, "ticket_lock_id"),
        type=differs("ticket_type", request.type, "type_id"),
        priority=differs("ticket_priority", request.priority, "ticket_priority_id"),
        owner_id=request.owner_id if request.owner_id not in (None, row["user_id"]) else None,
        responsible_id=request.responsible_id if request.responsible_id not in (None, row["responsible_user_id"])
        else None,
    )


def write(w: Write, row: Row, request: GiTicketUpdate, fields: dict[str, Any],
          store: AttachmentStore) -> tuple[Row, list[int]]:
    """The rows of one GI TicketUpdate (``request`` as returned by ``changes``); ``fields`` are the checked
    dynamic field values. Returns the ticket and the ids of the articles written."""
    if request.title is not None:
        row = setters.set_title(w, row, request.title)
    if request.queue is not None:
        row = setters.move(w, row, request.queue)
    if request.lock is not None:
        row = setters.set_lock(w, row, request.lock)
    if request.type is not None:
        row = setters.set_type(w, row, request.type)
    if request.state is not None:
        state_type = w.lookups.state_types[w.lookups.id("ticket_state", request.state)]
        if state_type.startswith("close"):
            row = setters.set_lock(w, row, "unlock")
        elif state_type.startswith("pending") and request.pending is not None:
            until = request.pending if isinstance(request.pending, datetime) else w.now + request.pending
            row = setters.set_pending_time(w, row, until)
        row = setters.set_state(w, row, request.state)
    if request.customer_id is not None or request.customer_user is not None:
        row = create.set_customer(w, row, request.customer_id, request.customer_user)
    if request.priority is not None:
        row = setters.set_priority(w, row, request.priority)
    if request.owner_id is not None:
        row = setters.set_owner(w, row, request.owner_id)
    if request.responsible_id is not None:
        row = setters.set_responsible(w, row, request.responsible_id)
    article_ids = []
    for article in request.articles:
        row, article_id = create.insert_article(w, row, replace(article, attachments=()), store)
        create.add_attachments(w, article_id, article.attachments, store)
        article_ids.append(article_id)
    for field_name, value in fields.items():
        row = setters.set_dynamic_field(w, row, field_name, value)
    return row, article_ids
