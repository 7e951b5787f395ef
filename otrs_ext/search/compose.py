"""Builds the ``SearchService`` from the runtime, for the API and the CLI alike, and the position a reindex
records for the tailer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from ..runtime import Runtime
from ..tags.store import TagStore
from ..tickets.compose import build_ticket_core
from ..tickets.permissions import Permissions
from .cache import RedisSearchCache
from .freshness import indexed_as_of
from .service import SearchService

if TYPE_CHECKING:
    from .positions import ReindexPosition


def build_search_service(runtime: Runtime, permissions: Permissions | None = None) -> SearchService:
    settings = runtime.settings
    if permissions is None:
        permissions = build_ticket_core(runtime).permissions
    return SearchService(runtime.engine, runtime.schema, runtime.search, permissions,
                         otrs_base_url=settings.otrs_base_url, timezone=settings.otrs_timezone,
                         freshness=_freshness(runtime), cache=RedisSearchCache(runtime.redis),
                         tags=TagStore(settings.own_schema))


def _freshness(runtime: Runtime) -> Callable[[], datetime | None]:
    """The ``search`` handler's "caught up until" record (None until it applied an event)."""
    return lambda: indexed_as_of(runtime)


def reindex_position(runtime: Runtime) -> ReindexPosition:
    # imported here: it loads the event pipeline (binlog reader included), which the API never needs
    from .positions import ReindexPosition

    settings = runtime.settings
    return ReindexPosition(runtime.engine, runtime.schema, settings.own_schema, settings.tail_source)
