"""``tags``: sets source, participant and notification tags (``otrs_ext.tags``) from the domain events.

Every hook derives from what the database holds *now* (``tags.derive``), never from the event's values, and
writes links with ``INSERT IGNORE`` in one transaction per event: a replay after a crash, a late event and a
backfill running at the same time all converge, so nothing here needs ``services.once``.

* ``ArticleCreated`` → participant and notification tags of the article; the source tag when it is the ticket's
  first article and OTRS's history row for it exists. A new incoming e-mail a header rule looks at waits (at most
  ``RAW_MAIL_WAIT``) for its raw mail: OTRS's mail gateway stores it after the article, in its own commit.
* ``HistoryAdded`` naming the ticket's first article → the source tag (the row may come after the article).
* ``TicketMerged`` → the merged ticket's links go to the main ticket, whose source is decided again (its first
  article may now be one of the merged ticket's). ``TicketDeleted`` → the ticket's links go.

After links change, the search index's ``tag_ids`` of the ticket follow at once when the tailer has searchd
(``services.search``); searchd being down raises, and the tailer retries the event (an outage, never a skip).
The rules file is loaded once, at the tailer's start (``on_start``), so a wrong file stops the tailer there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from sqlalchemy import Connection

from ...search.indexer import Indexer
from ...tags.apply import TagWriter
from ...tags.derive import SOURCE, Deriver, Wanted
from ...tags.rules import TagRules, load_rules
from ...tags.store import TagStore
from ..dispatch import Services
from ..domain import ArticleCreated, HistoryAdded, TicketDeleted, TicketMerged
from ..hookspecs import hookimpl

#: longest wait for the raw mail of an incoming e-mail a header rule reads (the gateway writes it milliseconds
#: after the article; an e-mail article written without one, e.g. through the API, waits this long, live only)
RAW_MAIL_WAIT = 0.5
RECENT_SECONDS = 10  # articles older than this (by the database's clock) have all the rows they will get
_POLL = 0.05


class TagsHandler:
    """The ``tags`` handler, registered as an instance: it keeps the loaded rules and what it built from them.
    ``rules`` given: use those (tests); else ``OTRS_EXT_TAG_RULES`` from ``services.settings``."""

    def __init__(self, rules: TagRules | None = None) -> None:
        self._rules = rules
        self._lock = threading.Lock()
        self._built: tuple[object, object, Deriver, TagStore] | None = None
        self._indexer: Indexer | None = None

    def rules(self, services: Services) -> TagRules:
        with self._lock:
            if self._rules is None:
                settings = services.settings
                self._rules = load_rules(settings.tag_rules if settings is not None else None)
            return self._rules

    def _parts(self, services: Services) -> tuple[Deriver, TagStore]:
        rules = self.rules(services)
        with self._lock:
            built = self._built
            if built is None or built[0] is not services.schema or built[1] != services.own_schema:
                built = self._built = (services.schema, services.own_schema,
                                       Deriver(services.schema, rules, services.own_schema),
                                       TagStore(services.own_schema))
            return built[2], built[3]

    @hookimpl
    def on_start(self, services: Services) -> None:
        self.rules(services)

    @hookimpl
    def on_article_created(self, event: ArticleCreated, services: Services) -> None:
        deriver, store = self._parts(services)
        self._await_raw_mail(event, services, deriver)
        with services.engine.begin() as conn:
            wanted, decided = deriver.for_article(conn, event.ticket_id, event.article_id)
            tag_ids = self._apply(conn, store, event.ticket_id, wanted, decided)
        self._sync_index(services, event.ticket_id, tag_ids)

    @hookimpl
    def on_history_added(self, event: HistoryAdded, services: Services) -> None:
        if not event.article_id:
            return
        deriver, store = self._parts(services)
        with services.engine.begin() as conn:
            if deriver.reader.first_articles(conn, [event.ticket_id]).get(event.ticket_id) != event.article_id:
                return
            wanted, decided = deriver.source_of(conn, event.ticket_id, require_history=True)
            tag_ids = self._apply(conn, store, event.ticket_id, wanted, decided)
        self._sync_index(services, event.ticket_id, tag_ids)

    @hookimpl
    def on_ticket_merged(self, event: TicketMerged, services: Services) -> None:
        deriver, store = self._parts(services)
        main = event.main_ticket_id
        with services.engine.begin() as conn:
            store.move_ticket(conn, event.ticket_id, main)
            wanted, decided = deriver.source_of(conn, main, require_history=True)
            self._apply(conn, store, main, wanted, decided)
            tag_ids = store.tag_ids(conn, main)
        self._sync_index(services, main, tag_ids)

    @hookimpl
    def on_ticket_deleted(self, event: TicketDeleted, services: Services) -> None:
        _, store = self._parts(services)
        with services.engine.begin() as conn:
            store.forget_ticket(conn, event.ticket_id)  # the search handler deletes its documents

    @staticmethod
    def _apply(conn: Connection, store: TagStore, ticket_id: int, wanted: Sequence[Wanted],
               decided: bool) -> list[int] | None:
        """Link ``wanted``; when the source was decided, drop any other source. The ticket's tag ids afterwards,
        or None when nothing was derived (no index update needed)."""
        writer = TagWriter(store)
        tags = writer.tags(conn, wanted)
        changes = writer.add(conn, {ticket_id: wanted}, tags=tags)
        if decided:
            source = next((tags[key] for key in tags if key[0] == SOURCE), None)
            changes += writer.replace_source(conn, ticket_id, source)
        if not wanted and not changes:
            return None
        # also after a replay that changed nothing: the first try may have stored the links and then met a
        # searchd outage, and this is the retry that brings the index along
        return store.tag_ids(conn, ticket_id)

    def _sync_index(self, services: Services, ticket_id: int, tag_ids: list[int] | None) -> None:
        if tag_ids is None or services.search is None:
            return
        with self._lock:
            indexer = self._indexer
            if indexer is None or indexer.engine is not services.engine or indexer.search is not services.search \
                    or indexer.schema is not services.schema:
                indexer = self._indexer = Indexer(services.engine, services.schema, services.search,
                                                  own_schema=services.own_schema)
        indexer.update_tags(ticket_id, tag_ids)

    @staticmethod
    def _await_raw_mail(event: ArticleCreated, services: Services, deriver: Deriver) -> None:
        """Give OTRS's mail gateway the moment it needs to store the raw mail a header rule reads, when the
        article is new (a snapshot may meet it half written too; an old article without one waits for nothing)."""
        if not any(rule.headers for rule in deriver.rules.notifications):
            return
        with services.engine.connect() as conn:
            found = deriver.reader.by_ids(conn, [event.article_id])
        if not found or not deriver.wants_raw_mail(found[0]):
            return
        deadline = time.monotonic() + RAW_MAIL_WAIT
        while True:
            with services.engine.connect() as conn:  # a new connection per look: a new snapshot of the table
                stored, age = deriver.reader.raw_mail_state(conn, event.article_id)
            if stored or age > RECENT_SECONDS or time.monotonic() >= deadline:
                return
            time.sleep(_POLL)
