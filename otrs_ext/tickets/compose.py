"""Builds the ticket core (service, reader, directory, permissions, cache invalidator) from a ``Runtime``.

The API, the CLI, Celery tasks and cron call this once per process; the pieces stay plain classes that tests
can also assemble by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import redis

from schema_maps import OtrsSchema

from ..runtime import Runtime
from ..settings import Settings
from .directory import Directory
from .intake import IntakePolicy
from .number_pool import NumberPool
from .numbers import TicketNumbers
from .otrs_cache import Invalidator, otrs_cache_from_settings
from .otrs_tasks import OtrsSideEffects
from .permissions import GRANT_TTL_SECONDS, Permissions
from .reads import TicketReader
from .service import TicketService
from .storage import AttachmentStore, DatabaseStore, FileSystemStore

SPOOL_SUBDIR = "otrs-cache-spool"


@dataclass(frozen=True)
class TicketCore:
    service: TicketService
    reader: TicketReader
    directory: Directory
    permissions: Permissions
    invalidator: Invalidator
    intake: IntakePolicy

    def close(self) -> None:
        """Stop the background number drawing, if any (the process's end stops it too)."""
        if isinstance(self.service.numbers, NumberPool):
            self.service.numbers.close()


def article_store(settings: Settings, schema: OtrsSchema) -> AttachmentStore:
    """OTRS's configured article storage: the database, or ``ArticleDataDir`` on disk."""
    if settings.article_storage == "fs":
        data_dir = settings.article_data_dir or Path(settings.otrs_home or ".") / "var" / "article"
        return FileSystemStore(data_dir)
    return DatabaseStore(schema)


def make_invalidator(settings: Settings) -> Invalidator:
    cache = otrs_cache_from_settings(
        settings.otrs_cache, settings.otrs_home,
        lambda url: redis.Redis.from_url(url, socket_timeout=5),
        temp_dir=settings.otrs_temp_dir, subdir_levels=settings.otrs_cache_subdir_levels,
        redis_prefix=settings.otrs_cache_prefix,
    )
    return Invalidator(cache, spool_dir=settings.state_dir / SPOOL_SUBDIR)


def build_ticket_core(runtime: Runtime, *, number_pool: int = 0) -> TicketCore:
    """``number_pool`` > 0 keeps that many ticket numbers drawn ahead: for long-running processes (the API),
    not for one-shot commands, whose unused numbers would only leave gaps."""
    settings, engine, schema = runtime.settings, runtime.engine, runtime.schema
    permissions = Permissions(
        schema, responsible_enabled=settings.ticket_responsible, watcher_enabled=settings.ticket_watcher,
        customer_company_access=settings.customer_company_tickets, grant_ttl=GRANT_TTL_SECONDS,
    )
    store = article_store(settings, schema)
    invalidator = make_invalidator(settings)
    numbers = TicketNumbers(
        engine, schema, generator=settings.ticket_number_generator, system_id=settings.system_id,
        timezone=settings.otrs_timezone, otrs_home=settings.otrs_home,
    )
    allocator: TicketNumbers | NumberPool = NumberPool(numbers, number_pool) if number_pool > 0 else numbers
    service = TicketService(
        engine, schema, numbers=allocator, permissions=permissions, invalidator=invalidator, store=store,
        timezone=settings.otrs_timezone, max_attachment_bytes=settings.attachment_max_bytes,
        side_effects=OtrsSideEffects(schema, modules=settings.otrs_event_modules, timezone=settings.otrs_timezone),
    )
    return TicketCore(service=service, reader=TicketReader(engine, schema, permissions, store),
                      directory=Directory(engine, schema, permissions), permissions=permissions,
                      invalidator=invalidator,
                      intake=IntakePolicy(engine, schema, queues=settings.api_intake_queues,
                                          own_schema=settings.own_schema))
