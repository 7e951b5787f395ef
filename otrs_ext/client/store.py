"""The outbox in Redis: every waiting request with its attachments, the dead-letter list and counters.

Keys (prefix ``otrs_ext:outbox:``): ``item:<id>`` a hash of the envelope (``meta``, JSON) and its files
(``file:<n>``, raw bytes), written in one MULTI so an item is never half there; ``pending`` a sorted set of
ids by next attempt time (what a lost Celery message is recovered from); ``retrying`` the pending ids that
failed at least once; ``dead`` a list of dead ids, newest first (their items stay, with the reason);
``stats`` counters; ``lock:<id>`` the one delivery running for an id; ``result:<id>`` the API's answer to a
delivered request, kept a week.

What survives what is Redis's persistence: with ``appendonly yes`` (``appendfsync everysec``) a Redis restart
or crash loses at most the last second of enqueued requests, with ``appendfsync always`` none; with RDB
snapshots alone everything since the last snapshot; without persistence everything. ``maxmemory-policy``
must be ``noeviction``: an evicted item is a request silently lost. ``health()`` reports both.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from .envelope import Envelope

PREFIX = "otrs_ext:outbox:"
RESULT_TTL = 7 * 24 * 3600


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    retrying: int
    dead: int
    counters: dict[str, int]
    next_due: float | None
    newest_dead: list[Envelope] = field(default_factory=list)


class OutboxStore:
    def __init__(self, client: redis.Redis, prefix: str = PREFIX) -> None:
        self.redis = client
        self.prefix = prefix

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # --- items ----------------------------------------------------------------------------------------
    def put(self, envelope: Envelope, contents: list[bytes]) -> None:
        mapping: dict[str, Any] = {"meta": envelope.to_json()}
        mapping.update({f"file:{n}": content for n, content in enumerate(contents)})
        with self.redis.pipeline() as pipe:  # MULTI/EXEC: the item, its files and its schedule or nothing
            pipe.hset(self._k("item", envelope.id), mapping=mapping)
            pipe.zadd(self._k("pending"), {envelope.id: envelope.next_at})
            pipe.hincrby(self._k("stats"), "enqueued", 1)
            pipe.execute()

    def load(self, item_id: str) -> tuple[Envelope, list[bytes]] | None:
        data = self.redis.hgetall(self._k("item", item_id))
        if not data or b"meta" not in data:
            return None
        envelope = Envelope.from_json(data[b"meta"])
        contents = [data.get(f"file:{n}".encode(), b"") for n in range(len(envelope.files))]
        return envelope, contents

    def meta(self, item_id: str) -> Envelope | None:
        raw = self.redis.hget(self._k("item", item_id), "meta")
        return Envelope.from_json(raw) if raw else None

    def reschedule(self, envelope: Envelope) -> None:
        """Record a failed attempt and when the next one is due."""
        with self.redis.pipeline() as pipe:
            pipe.hset(self._k("item", envelope.id), "meta", envelope.to_json())
            pipe.zadd(self._k("pending"), {envelope.id: envelope.next_at})
            pipe.sadd(self._k("retrying"), envelope.id)
            pipe.hincrby(self._k("stats"), "retries", 1)
            pipe.execute()

    def delivered(self, envelope: Envelope, result: dict[str, Any], *, replayed: bool) -> None:
        with self.redis.pipeline() as pipe:
            pipe.set(self._k("result", envelope.id), json.dumps(result), ex=RESULT_TTL)
            pipe.delete(self._k("item", envelope.id))
            pipe.zrem(self._k("pending"), envelope.id)
            pipe.srem(self._k("retrying"), envelope.id)
            pipe.hincrby(self._k("stats"), "delivered", 1)
            if envelope.attempts:
                pipe.hincrby(self._k("stats"), "delivered_after_retry", 1)
            if replayed:
                pipe.hincrby(self._k("stats"), "replayed", 1)
            pipe.execute()

    def bury(self, envelope: Envelope, contents: list[bytes] | None = None) -> None:
        """Move to the dead-letter list; the item (and its files) stays for ``revive``."""
        with self.redis.pipeline() as pipe:
            if contents:  # refused on the first attempt: its files were never stored
                pipe.hset(self._k("item", envelope.id), mapping={f"file:{n}": c for n, c in enumerate(contents)})
            pipe.hset(self._k("item", envelope.id), "meta", envelope.to_json())
            pipe.zrem(self._k("pending"), envelope.id)
            pipe.srem(self._k("retrying"), envelope.id)
            pipe.lrem(self._k("dead"), 0, envelope.id)
            pipe.lpush(self._k("dead"), envelope.id)
            pipe.hincrby(self._k("stats"), "dead", 1)
            pipe.execute()

    def revive(self, envelope: Envelope) -> None:
        """Back from the dead-letter list into the pending set (``envelope`` already reset by the caller)."""
        with self.redis.pipeline() as pipe:
            pipe.hset(self._k("item", envelope.id), "meta", envelope.to_json())
            pipe.lrem(self._k("dead"), 0, envelope.id)
            pipe.zadd(self._k("pending"), {envelope.id: envelope.next_at})
            pipe.hincrby(self._k("stats"), "revived", 1)
            pipe.execute()

    def result(self, item_id: str) -> dict[str, Any] | None:
        raw = self.redis.get(self._k("result", item_id))
        return json.loads(raw) if raw else None

    # --- delivery coordination ------------------------------------------------------------------------
    def lock(self, item_id: str, seconds: float) -> bool:
        """One delivery per item at a time (a redelivered or swept Celery message may run beside another)."""
        return bool(self.redis.set(self._k("lock", item_id), b"1", nx=True, px=int(seconds * 1000)))

    def unlock(self, item_id: str) -> None:
        self.redis.delete(self._k("lock", item_id))

    def overdue(self, before: float, limit: int = 1000) -> list[str]:
        ids = self.redis.zrangebyscore(self._k("pending"), "-inf", before, start=0, num=limit)
        return [i.decode() for i in ids]

    # --- reporting ------------------------------------------------------------------------------------
    def dead_ids(self, limit: int | None = None) -> list[str]:
        return [i.decode() for i in self.redis.lrange(self._k("dead"), 0, -1 if limit is None else limit - 1)]

    def status(self, newest_dead: int = 5) -> OutboxStatus:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(self._k("pending"))
            pipe.scard(self._k("retrying"))
            pipe.llen(self._k("dead"))
            pipe.hgetall(self._k("stats"))
            pipe.zrange(self._k("pending"), 0, 0, withscores=True)
            pending, retrying, dead, stats, first = pipe.execute()
        newest = [e for e in (self.meta(i) for i in self.dead_ids(newest_dead)) if e is not None]
        return OutboxStatus(pending=pending, retrying=retrying, dead=dead,
                            counters={k.decode(): int(v) for k, v in stats.items()},
                            next_due=first[0][1] if first else None, newest_dead=newest)

    def health(self) -> dict[str, Any]:
        """The Redis settings durability depends on (None where the server hides them)."""
        persistence = self.redis.info("persistence")
        memory = self.redis.info("memory")
        return {"aof_enabled": bool(persistence.get("aof_enabled")),
                "rdb_changes_since_save": persistence.get("rdb_changes_since_last_save"),
                "maxmemory_policy": memory.get("maxmemory_policy"), "checked_at": time.time()}
