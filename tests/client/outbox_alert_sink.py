"""An outbox alert hook for the tests (``OTRS_EXT_OUTBOX_ALERTS=outbox_alert_sink:record``): each dead
request lands as JSON in the Redis list ``test:alerts`` of the outbox Redis, where the test reads it."""

from __future__ import annotations

import json

import redis

from otrs_ext.client.envelope import Envelope
from otrs_ext.settings import Settings


def record(envelope: Envelope) -> None:
    settings = Settings.load()
    client = redis.Redis.from_url(settings.outbox_redis_url or settings.redis_url)
    try:
        client.rpush("test:alerts", json.dumps({"id": envelope.id, "reason": envelope.dead_reason,
                                                "problem": envelope.problem, "error": envelope.last_error}))
    finally:
        client.close()
