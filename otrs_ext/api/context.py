"""The per-app context of services and the request helpers the blueprints use.

Blueprints import this module, never ``app`` (the factory imports them to register them).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g

from ..pool.compose import Pool
from ..runtime import Runtime
from ..tags.service import TagService
from ..tickets.compose import TicketCore
from ..tickets.listing import TicketLister
from .customers import CustomerTokens
from .idempotency import IdempotencyStore
from .keys import ApiKey, ApiKeys
from .ratelimit import RateLimiter


@dataclass
class ApiContext:
    runtime: Runtime
    core: TicketCore
    keys: ApiKeys
    limiter: RateLimiter
    idempotency: IdempotencyStore
    lister: TicketLister
    customer_tokens: CustomerTokens
    tags: TagService
    pool: Pool


def context() -> ApiContext:
    return current_app.extensions["otrs_ext"]


def caller() -> ApiKey | None:
    """The API key of the request; None for a customer token (see ``customer_login``)."""
    return g.api_key


def customer_login() -> str | None:
    return g.get("customer_login")
