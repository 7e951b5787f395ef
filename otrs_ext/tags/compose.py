"""Builds the tag service from the runtime, for the API, the screens and the CLI alike."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pymysql

from ..runtime import Runtime
from ..search.indexer import Indexer
from ..tickets.compose import build_ticket_core
from ..tickets.permissions import Permissions
from .service import TagService
from .store import TagStore

log = logging.getLogger(__name__)


def build_tag_service(runtime: Runtime, permissions: Permissions | None = None) -> TagService:
    if permissions is None:
        permissions = build_ticket_core(runtime).permissions
    indexer = Indexer(runtime.engine, runtime.schema, runtime.search, own_schema=runtime.settings.own_schema)

    def index_sync(ticket_id: int, tag_ids: Iterable[int]) -> None:
        # the tags are stored: a searchd outage must not turn the change into an error; the search handler's
        # next refresh of the ticket and `otrs-ext tags reconcile` bring the index along
        try:
            indexer.update_tags(ticket_id, tag_ids)
        except (pymysql.MySQLError, OSError) as exc:
            log.warning("search index tag_ids of ticket %s not updated: %s", ticket_id, exc)

    return TagService(runtime.engine, TagStore(runtime.settings.own_schema), permissions, index_sync=index_sync)
