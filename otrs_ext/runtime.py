"""The composition root: every long-lived client otrs-ext uses is built here, once per process.

The Flask app, the tailer, Celery workers, ``cron/`` entry points and CLI commands call ``build_runtime``;
nothing else creates engines or clients, and nothing is created at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pluggy
import redis
from sqlalchemy import Engine

import schema_maps
from schema_maps import OtrsSchema

from .db.engine import make_engine
from .db.lookups import Lookups
from .db.sphinxql import SphinxQL
from .events.plugins import make_plugin_manager
from .settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine = field(repr=False)
    redis: redis.Redis = field(repr=False)
    search: SphinxQL = field(repr=False)
    plugins: pluggy.PluginManager = field(repr=False)
    schema: OtrsSchema

    def lookups(self) -> Lookups:
        """A fresh snapshot of the lookup tables (admins may have renamed or added rows)."""
        with self.engine.connect() as conn:
            return Lookups.load(conn, self.schema)

    def close(self) -> None:
        self.engine.dispose()
        self.redis.close()
        self.search.close()


def resolve_schema(engine: Engine, settings: Settings) -> OtrsSchema:
    """The configured generation, or the detected one when ``otrs_version`` is ``auto``."""
    if settings.otrs_version != "auto":
        return schema_maps.load(settings.otrs_version)
    with engine.connect() as conn:
        return schema_maps.detect(conn)


def build_runtime(settings: Settings, *, db_pool_size: int = 5) -> Runtime:
    """Build every client from ``settings``; the OTRS schema generation is detected here, once.
    ``db_pool_size``: database connections kept open, at least as many as threads use the engine at once
    (connections past it are opened and closed per use)."""
    engine = make_engine(settings.db_url, pool_size=db_pool_size)
    try:
        schema = resolve_schema(engine, settings)
        plugins = make_plugin_manager(settings.handlers)
    except Exception:
        engine.dispose()
        raise
    return Runtime(
        settings=settings,
        engine=engine,
        redis=redis.Redis.from_url(settings.redis_url, socket_timeout=5, health_check_interval=30),
        search=SphinxQL(settings.search_url),
        plugins=plugins,
        schema=schema,
    )
