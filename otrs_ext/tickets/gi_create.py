"""TicketCreate as Znuny's GenericTicketConnector writes it, step by step, so its rows are Znuny's.

The operation does not create the ticket the way the agent screens do; observed through the oracle
(``tests/oracle/gi_operation.pl``), in this order:

1. the ticket is created unlocked, owned by user 1, responsible user 1 (whatever the request says);
2. a requested lock is then set (``Lock`` + the unlock-time reset); a closed state unlocks again; a pending
   state takes the request's pending time (``SetPendingTime``), other states ignore it;
3. the ticket's dynamic fields, in the request's order;
4. every article, each with its time units and then the request's attachments (written after the article,
   so OTRS's search index of the article does not name them);
5. the owner: the requested one (``OwnerUpdate``, and a lock when the request named none), else the
   requesting agent (``OwnerUpdate``, no lock);
6. the requested responsible (``ResponsibleUpdate``); without one it stays user 1.

What the request's fields become (the defaults of history type, visibility, sender, ``a_from`` = the customer,
``a_to`` = the queue, trimmed values, the content type as sent) is decided by the GI adapter
(``otrs_ext/api/gi/tickets.py``); this module only keeps Znuny's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from . import create, setters
from .inputs import NewArticle, NewTicket
from .storage import AttachmentStore
from .write import Row, Write

SYSTEM_USER = 1


@dataclass(frozen=True)
class GiTicketCreate:
    ticket: NewTicket  # its lock, owner and responsible are not used: see the fields below
    articles: Sequence[NewArticle]
    lock: str | None = None  # the request's Lock/LockID
    pending: datetime | timedelta | None = None  # PendingTime: a moment, or Diff from now
    owner_id: int | None = None  # the request's Owner/OwnerID
    responsible_id: int | None = None  # the request's Responsible/ResponsibleID


def write(w: Write, tn: str, request: GiTicketCreate, fields: dict[str, Any],
          store: AttachmentStore) -> tuple[Row, list[int]]:
    """The rows of one GI TicketCreate; ``fields`` are the checked dynamic field values. Returns the ticket
    and the ids of its articles."""
    opened = replace(request.ticket, lock="unlock", owner_id=SYSTEM_USER, responsible_id=SYSTEM_USER,
                     dynamic_fields={})
    row = create.insert_ticket(w, tn, opened)
    if request.lock:
        row = setters.set_lock(w, row, request.lock)
    state_type = w.lookups.state_types[row["ticket_state_id"]]
    if state_type.startswith("close"):
        row = setters.set_lock(w, row, "unlock")
    elif state_type.startswith("pending") and request.pending is not None:
        until = request.pending if isinstance(request.pending, datetime) else w.now + request.pending
        row = setters.set_pending_time(w, row, until)
    for field_name, value in fields.items():
        row = setters.set_dynamic_field(w, row, field_name, value)
    article_ids = []
    for article in request.articles:
        # the attachments follow ArticleCreate (after its history, flags and search index rows)
        row, article_id = create.insert_article(w, row, replace(article, attachments=()), store)
        create.add_attachments(w, article_id, article.attachments, store)
        article_ids.append(article_id)
    if request.owner_id:
        row = setters.set_owner(w, row, request.owner_id)
        if not request.lock:
            row = setters.set_lock(w, row, "lock")
    else:
        row = setters.set_owner(w, row, w.user_id)
    if request.responsible_id:
        row = setters.set_responsible(w, row, request.responsible_id)
    return row, article_ids
