"""Builds the pool's services from the runtime (the API, the screens, the CLI and the ``pool`` handler), or from
their parts (``assemble``: tests, and callers that already hold a ticket core)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import redis
from sqlalchemy import Engine

from schema_maps import OtrsSchema

from ..db.sphinxql import SphinxQL
from ..events.plugins import make_plugin_manager
from ..runtime import Runtime
from ..settings import Settings
from ..tickets.clock import Clock
from ..tickets.compose import TicketCore, build_ticket_core
from ..tickets.permissions import Permissions
from ..tickets.service import TicketService
from .assign import PoolService
from .assignments import Assignments
from .config import PoolConfig, queue_orders
from .eligibility import Eligibility
from .ledger import Ledger
from .reconcile import Reconciler
from .sessions import PoolSessions
from .tracking import HoldTracker


@dataclass(frozen=True)
class Pool:
    config: PoolConfig
    eligibility: Eligibility
    ledger: Ledger
    sessions: PoolSessions
    assignments: Assignments
    tracker: HoldTracker
    service: PoolService
    reconciler: Reconciler


def pool_config(settings: Settings) -> PoolConfig:
    return PoolConfig(
        formula=settings.pool_points, penalty_factor=Decimal(str(settings.pool_penalty_factor)),
        queues=settings.pool_queues, excluded_queues=settings.pool_excluded_queues,
        permission=settings.pool_permission, order=settings.pool_order,
        queue_orders=queue_orders(settings.pool_queue_orders), state_types=settings.pool_state_types,
        department_groups=settings.pool_department_groups, heads_group=settings.pool_heads_group,
        session_seconds=settings.pool_session_seconds, heartbeat_seconds=settings.pool_heartbeat_seconds,
    )


def assemble(engine: Engine, schema: OtrsSchema, client: redis.Redis, tickets: TicketService,
             permissions: Permissions, config: PoolConfig, *, own_schema: str | None = None,
             clock: Clock | None = None) -> Pool:
    eligibility = Eligibility(schema, permissions, config, clock=clock)
    ledger = Ledger(engine, schema, permissions, config, own_schema=own_schema)
    sessions = PoolSessions(client, prefix=config.redis_prefix, ttl=config.session_seconds)
    assignments = Assignments(own_schema)
    tracker = HoldTracker(schema, eligibility, ledger, assignments, config, own_schema=own_schema)
    service = PoolService(engine, schema, tickets, eligibility, sessions, assignments, config, clock=clock)
    return Pool(config, eligibility, ledger, sessions, assignments, tracker, service,
                Reconciler(engine, schema, eligibility, ledger, config))


def build_pool(runtime: Runtime, core: TicketCore | None = None) -> Pool:
    """The pool on ``runtime``; ``core``: the process's ticket core when it has one (the API)."""
    core = core or build_ticket_core(runtime)
    return assemble(runtime.engine, runtime.schema, runtime.redis, core.service, core.permissions,
                    pool_config(runtime.settings), own_schema=runtime.settings.own_schema)


def build_pool_from(settings: Settings, engine: Engine, schema: OtrsSchema, client: redis.Redis,
                    search: SphinxQL | None = None) -> Pool:
    """The pool on the clients a process already holds without a ``Runtime`` (the tailer's handler services)."""
    runtime = Runtime(settings=settings, engine=engine, redis=client, search=search or SphinxQL(settings.search_url),
                      plugins=make_plugin_manager(()), schema=schema)
    return build_pool(runtime)
