"""``search``: keeps the ``articles`` RT index in step with OTRS, one domain event at a time.

Each hook makes the index agree with what the database holds *now* for the objects the event names (never with
the event's before/after values), so replays after a crash, events arriving late and a reindex running at the
same time all converge on the current state. Nothing here needs ``services.once``: every effect is idempotent.

* ``ArticleCreated`` → REPLACE that article's document (all columns: REPLACE replaces whole documents).
* ``TicketChanged`` → UPDATE the ticket attributes of all its documents; a new title, number or customer is in
  full-text fields or string attributes, which cannot be UPDATEd, so those re-REPLACE the ticket's documents.
* ``TicketMerged`` → re-REPLACE both tickets: OTRS moved the articles to the main ticket.
* ``TicketDeleted`` → DELETE the ticket's documents. ``TicketCreated`` → nothing (articles come on their own).
* every event, ``HistoryAdded`` included → record it as applied (``otrs_ext.search.freshness``).
"""

from __future__ import annotations

import threading

from ...search.freshness import record_applied
from ...search.indexer import Indexer
from ..dispatch import Services
from ..domain import ArticleCreated, DomainEvent, TicketChanged, TicketDeleted, TicketMerged
from ..hookspecs import hookimpl

# ticket changes that land in full-text fields or string attributes (see domain.TICKET_FIELDS for the names)
REPLACE_ON = frozenset({"title", "tn", "customer_id", "customer_user"})

_indexers: dict[int, Indexer] = {}
_lock = threading.Lock()


def indexer(services: Services) -> Indexer:
    """One Indexer per Services (its statement and document builders are reused for every event)."""
    with _lock:
        found = _indexers.get(id(services))
        if found is None or found.engine is not services.engine or found.search is not services.search:
            if services.search is None:
                raise RuntimeError("the search handler needs a SphinxQL client in services.search "
                                   "(OTRS_EXT_SEARCH_URL)")
            found = _indexers[id(services)] = Indexer(services.engine, services.schema, services.search)
        return found


def _applied(event: DomainEvent, services: Services) -> None:
    record_applied(services.redis, event)


@hookimpl
def on_ticket_created(event, services):  # noqa: ANN001, ANN201
    _applied(event, services)  # a ticket without articles has nothing to search


@hookimpl
def on_article_created(event: ArticleCreated, services: Services) -> None:
    indexer(services).index_articles([event.article_id])
    _applied(event, services)


@hookimpl
def on_ticket_changed(event: TicketChanged, services: Services) -> None:
    if REPLACE_ON & set(event.changes):
        indexer(services).sync_tickets([event.ticket_id])
    else:
        indexer(services).refresh_ticket(event.ticket_id)
    _applied(event, services)


@hookimpl
def on_ticket_merged(event: TicketMerged, services: Services) -> None:
    indexer(services).sync_tickets([event.ticket_id, event.main_ticket_id])
    _applied(event, services)


@hookimpl
def on_ticket_deleted(event: TicketDeleted, services: Services) -> None:
    indexer(services).delete_ticket(event.ticket_id)
    _applied(event, services)


@hookimpl
def on_history_added(event, services):  # noqa: ANN001, ANN201
    _applied(event, services)  # every OTRS action leaves a history row: freshness advances even on no-ops
