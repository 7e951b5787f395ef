"""Builds the durable client's parts from settings: the outbox store, the outbox's Celery app (with its task),
the outbox and the client.

The website (``client_from_settings``), the worker (``worker.py``) and ``otrs-ext outbox`` start here; the
parts below take what they need as arguments and import none of this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis

from ..settings import Settings
from .alerts import load_alerts
from .client import OtrsExtClient
from .outbox import Outbox
from .store import OutboxStore

if TYPE_CHECKING:
    from celery import Celery


def store_from_settings(settings: Settings) -> OutboxStore:
    url = settings.outbox_redis_url or settings.redis_url
    return OutboxStore(redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5))


def celery_from_settings(settings: Settings) -> Celery:
    """The outbox's Celery app; its delivery task builds the worker's outbox on first use."""
    from .tasks import make_celery  # Celery loads in ~0.1 s: not for every `otrs-ext` command, only when used

    return make_celery(settings, lambda app: outbox_from_settings(settings, celery=app))


def outbox_from_settings(settings: Settings, *, celery: Celery | None = None) -> Outbox:
    return Outbox(store_from_settings(settings), celery or celery_from_settings(settings),
                  api_key=settings.client_api_key, deadline=settings.outbox_deadline_seconds,
                  backoff=settings.outbox_backoff_seconds, backoff_max=settings.outbox_backoff_max_seconds,
                  timeout=settings.client_timeout_seconds, alerts=load_alerts(settings.outbox_alerts))


def client_from_settings(settings: Settings, *, durable: bool = True) -> OtrsExtClient:
    """The website's client; without ``durable`` it has no outbox (a request the API does not take raises)."""
    return OtrsExtClient(settings.client_api_url, settings.client_api_key,
                         outbox=outbox_from_settings(settings) if durable else None,
                         timeout=settings.client_timeout_seconds)
