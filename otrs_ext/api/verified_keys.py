"""API keys a worker verified recently, so that a request need not read ``api_key`` again.

Verifying a key costs a database round trip per request (with the connection checkout around it), a good
part of a ticket create. A key's row never changes but for its revocation, so each entry remembers the value
of a revocation counter in Redis at the time it was verified; ``ApiKeys.revoke`` raises that counter. The rate
limiter reads the counter in the round trip it makes to Redis anyway, and a request whose entry was verified
under another value verifies its key again. An entry is also verified again after ``ttl`` seconds, which
bounds a revocation the counter missed (written to the database directly, or while Redis was away).
"""

from __future__ import annotations

import collections
import hashlib
import threading
import time
from collections.abc import Callable

import redis

from .keys import ApiKey

TTL_SECONDS = 60.0
SIZE = 4096  # entries kept; the least recently used goes first


class VerifiedKeys:
    def __init__(self, client: redis.Redis, counter_key: str, *, ttl: float = TTL_SECONDS, size: int = SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.counter_key = counter_key  # the revocation counter
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        # sha256 of the key -> (the key, the counter it was verified under, when)
        self._entries: collections.OrderedDict[str, tuple[ApiKey, bytes | None, float]] = collections.OrderedDict()

    def counter(self) -> bytes | None:
        """The revocation counter now (raises RedisError when Redis is away)."""
        return self.client.get(self.counter_key)

    def get(self, token: str) -> tuple[ApiKey, bytes | None] | None:
        """(key, the counter it was verified under) of a recent verification of ``token``, else None."""
        digest = _digest(token)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if self._clock() - entry[2] >= self.ttl:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry[0], entry[1]

    def put(self, token: str, key: ApiKey, counter: bytes | None) -> None:
        """Remember that ``token`` is ``key``, verified after the counter read ``counter``."""
        with self._lock:
            self._entries[_digest(token)] = (key, counter, self._clock())
            self._entries.move_to_end(_digest(token))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, token: str) -> None:
        with self._lock:
            self._entries.pop(_digest(token), None)

    def revoked(self) -> None:
        """A key was revoked: forget every entry here, and raise the counter for every other worker."""
        with self._lock:
            self._entries.clear()
        self.client.incr(self.counter_key)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
