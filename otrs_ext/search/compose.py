"""Builds the ``SearchService`` from the runtime, for the API and the CLI alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..runtime import Runtime
from ..tickets.compose import build_ticket_core
from ..tickets.permissions import Permissions
from .cache import RedisSearchCache
from .service import SearchService


def build_search_service(runtime: Runtime, permissions: Permissions | None = None) -> SearchService:
    settings = runtime.settings
    if permissions is None:
        permissions = build_ticket_core(runtime).permissions
    return SearchService(runtime.engine, runtime.schema, runtime.search, permissions,
                         otrs_base_url=settings.otrs_base_url, timezone=settings.otrs_timezone,
                         freshness=_freshness(runtime), cache=RedisSearchCache(runtime.redis))


def _freshness(runtime: Runtime) -> Callable[[], datetime | None] | None:
    """The indexer's "caught up until" record, when the indexer that keeps one is installed."""
    try:
        from . import freshness  # type: ignore[attr-defined]  # written by the indexer
    except ImportError:
        return None
    reader = getattr(freshness, "indexed_as_of", None)
    if reader is None:
        return None
    return lambda: reader(runtime)
