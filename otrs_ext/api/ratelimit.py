"""Per-key request limits in Redis: a counter per key and minute, shared by every API worker."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until the next window when refused
    watched: bytes | None = None  # the value of ``hit``'s ``watch`` key, read in the same round trip


class RateLimiter:
    def __init__(self, client: redis.Redis, prefix: str = "otrs_ext:rl") -> None:
        self.client = client
        self.prefix = prefix

    def hit(self, subject: int | str, per_minute: int, *, now: float | None = None,
            watch: str | None = None) -> Verdict:
        """Count a request of ``subject``; ``watch``: a Redis key to read in the same round trip."""
        now = time.time() if now is None else now
        window = int(now // 60)
        name = f"{self.prefix}:{subject}:{window}"
        # One round trip without MULTI/EXEC: INCR is atomic by itself, the EXPIRE only bounds the key's life
        # and the watched key is read as it is, so there is nothing the transaction would add.
        with self.client.pipeline(transaction=False) as pipe:
            pipe.incr(name).expire(name, 120)
            if watch is not None:
                pipe.get(watch)
            count, _, *watched = pipe.execute()
        seen = watched[0] if watched else None
        if count > per_minute:
            return Verdict(False, 0, max(1, int((window + 1) * 60 - now)), seen)
        return Verdict(True, per_minute - count, 0, seen)
