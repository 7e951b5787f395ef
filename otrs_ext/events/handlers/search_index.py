"""``search``: keeps the ``articles`` RT index in step with OTRS, one domain event at a time.

Each hook makes the index agree with what the database holds *now* for the objects the event names (never with
the event's before/after values), so replays after a crash, events arriving late and a reindex running at the
same time all converge on the current state. Nothing here needs ``services.once``: every effect is idempotent.
Handlers are adapters (like the CLI): they may import the services they feed, while the pipeline itself
(``otrs_ext.events``) knows them only by name.

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
from ..domain import (
    ArticleCreated,
    DomainEvent,
    HistoryAdded,
    TicketChanged,
    TicketCreated,
    TicketDeleted,
    TicketMerged,
)
from ..hookspecs import hookimpl

# ticket changes that land in full-text fields or string attributes (see domain.TICKET_FIELDS for the names)
REPLACE_ON = frozenset({"title", "tn", "customer_id", "customer_user"})


class SearchHandler:
    """The ``search`` handler, registered as an instance (``otrs_ext.events.plugins``): it keeps the Indexer
    of the services it is handed (its statement and document builders are reused for every event)."""

    def __init__(self) -> None:
        self._indexer: Indexer | None = None
        self._lock = threading.Lock()

    def indexer(self, services: Services) -> Indexer:
        """The Indexer for ``services``, built on first use and again when they name another database or
        searchd."""
        with self._lock:
            found = self._indexer
            if found is None or found.engine is not services.engine or found.search is not services.search \
                    or found.schema is not services.schema or found.own_schema != services.own_schema:
                if services.search is None:
                    raise RuntimeError("the search handler needs a SphinxQL client in services.search "
                                       "(OTRS_EXT_SEARCH_URL)")
                found = self._indexer = Indexer(services.engine, services.schema, services.search,
                                                own_schema=services.own_schema)
            return found

    @hookimpl
    def on_ticket_created(self, event: TicketCreated, services: Services) -> None:
        _applied(event, services)  # a ticket without articles has nothing to search

    @hookimpl
    def on_article_created(self, event: ArticleCreated, services: Services) -> None:
        self.indexer(services).index_articles([event.article_id])
        _applied(event, services)

    @hookimpl
    def on_ticket_changed(self, event: TicketChanged, services: Services) -> None:
        if REPLACE_ON & set(event.changes):
            self.indexer(services).sync_tickets([event.ticket_id])
        else:
            self.indexer(services).refresh_ticket(event.ticket_id)
        _applied(event, services)

    @hookimpl
    def on_ticket_merged(self, event: TicketMerged, services: Services) -> None:
        self.indexer(services).sync_tickets([event.ticket_id, event.main_ticket_id])
        _applied(event, services)

    @hookimpl
    def on_ticket_deleted(self, event: TicketDeleted, services: Services) -> None:
        self.indexer(services).delete_ticket(event.ticket_id)
        _applied(event, services)

    @hookimpl
    def on_history_added(self, event: HistoryAdded, services: Services) -> None:
        _applied(event, services)  # every OTRS action leaves a history row: freshness advances even on no-ops


def _applied(event: DomainEvent, services: Services) -> None:
    record_applied(services.redis, event)
