"""The pool's live state in Redis: agents' pool sessions, the waiting line, the dispatch lock, push messages.

Keys (under ``prefix``, default ``otrs-ext:pool:``):

* ``session:<agent>`` — hash ``id``, ``entered_at``, ``seen_at`` of the agent's one pool session; it expires
  ``ttl`` seconds after the last heartbeat. ``alive`` — sorted set agent -> that deadline, so expired sessions
  are found (``expired``) without scanning keys.
* ``waiting`` — sorted set agent -> arrival number (``arrivals``, a counter): the line, first come first served.
* ``dispatch:lock`` / ``dispatch:wanted`` — one dispatcher at a time; a trigger while one runs leaves a flag the
  running one picks up, so no trigger is lost and none waits.
* channel ``agent:<id>`` — JSON messages for that agent's screens (``assigned``, ``released``, ``confirmed``).

Every check-and-change is one Lua script: two requests of one agent, or a heartbeat racing an expiry, cannot
interleave inside it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

_OPEN = """
local current = redis.call('HGET', KEYS[1], 'id')
if current and current ~= ARGV[1] then
  return {0, current, redis.call('HGET', KEYS[1], 'entered_at') or ''}
end
if not current then redis.call('HSET', KEYS[1], 'id', ARGV[1], 'entered_at', ARGV[2]) end
redis.call('HSET', KEYS[1], 'seen_at', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2] + ARGV[3], ARGV[4])
return {1, ARGV[1], redis.call('HGET', KEYS[1], 'entered_at')}
"""
_TOUCH = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'seen_at', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2] + ARGV[3], ARGV[4])
return 1
"""
_CLOSE = """
local current = redis.call('HGET', KEYS[1], 'id')
if ARGV[1] ~= '' and current ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return 1
"""
# an expired session is ended only if its deadline has not moved since it was found (a heartbeat in between wins)
_EXPIRE = """
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not deadline or tonumber(deadline) > tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""
_WAIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
return 1
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Session:
    agent_id: int
    id: str
    entered_at: float


class PoolSessions:
    def __init__(self, client: redis.Redis, *, prefix: str = "otrs-ext:pool:", ttl: int = 120,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = client
        self.prefix = prefix
        self.ttl = ttl
        self.clock = clock
        self._open = client.register_script(_OPEN)
        self._touch = client.register_script(_TOUCH)
        self._close = client.register_script(_CLOSE)
        self._expire = client.register_script(_EXPIRE)
        self._wait = client.register_script(_WAIT)
        self._unlock = client.register_script(_UNLOCK)

    def _key(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    # --- sessions ---------------------------------------------------------------------------------------
    def open(self, agent_id: int, session_id: str) -> tuple[bool, Session]:
        """Open (or renew) the agent's session ``session_id``; (False, the other session) when another one is
        open."""
        now = self.clock()
        ok, sid, entered = self._open(keys=[self._key("session", agent_id), self._key("alive")],
                                      args=[session_id, now, self.ttl, agent_id])
        return bool(ok), Session(agent_id, _text(sid), float(_text(entered) or now))

    def touch(self, agent_id: int, session_id: str) -> bool:
        """The heartbeat: False when the session is not (any more) open."""
        return bool(self._touch(keys=[self._key("session", agent_id), self._key("alive")],
                                args=[session_id, self.clock(), self.ttl, agent_id]))

    def close(self, agent_id: int, session_id: str | None = None) -> bool:
        """End the session (only if it is ``session_id``, when given) and take the agent out of the line."""
        return bool(self._close(keys=[self._key("session", agent_id), self._key("alive"), self._key("waiting")],
                                args=[session_id or "", agent_id]))

    def session(self, agent_id: int) -> Session | None:
        found = self.redis.hgetall(self._key("session", agent_id))
        if not found:
            return None
        values = {_text(k): _text(v) for k, v in found.items()}
        return Session(agent_id, values.get("id", ""), float(values.get("entered_at") or 0))

    def expired(self) -> list[int]:
        """End every session whose deadline has passed; returns their agents (each one exactly once, whoever
        else sweeps at the same time)."""
        now = self.clock()
        ended = []
        for member in self.redis.zrangebyscore(self._key("alive"), "-inf", now):
            agent_id = int(_text(member))
            if self._expire(keys=[self._key("session", agent_id), self._key("alive"), self._key("waiting")],
                            args=[agent_id, now]):
                ended.append(agent_id)
        return ended

    def count_in_pool(self) -> int:
        return int(self.redis.zcard(self._key("alive")))

    def agents_in_pool(self) -> list[int]:
        return [int(_text(m)) for m in self.redis.zrange(self._key("alive"), 0, -1)]

    # --- the line ---------------------------------------------------------------------------------------
    def wait(self, agent_id: int) -> bool:
        """Put the agent at the end of the line unless he is in it already; False when his session is gone."""
        return self._wait(keys=[self._key("session", agent_id), self._key("waiting"), self._key("arrivals")],
                          args=[agent_id]) >= 0

    def unwait(self, agent_id: int) -> None:
        self.redis.zrem(self._key("waiting"), agent_id)

    def waiting(self) -> list[int]:
        """Agents in the line, first come first."""
        return [int(_text(m)) for m in self.redis.zrange(self._key("waiting"), 0, -1)]

    def place(self, agent_id: int) -> int | None:
        """1 for the first in line; None when the agent is not waiting."""
        rank = self.redis.zrank(self._key("waiting"), agent_id)
        return None if rank is None else int(rank) + 1

    def waiting_count(self) -> int:
        return int(self.redis.zcard(self._key("waiting")))

    # --- dispatch lock ----------------------------------------------------------------------------------
    def try_dispatch(self, lease_ms: int = 10_000) -> str | None:
        """The dispatch lock's token, or None while another dispatcher runs (the trigger is left for it)."""
        self.want()
        token = uuid.uuid4().hex
        return token if self.redis.set(self._key("dispatch", "lock"), token, nx=True, px=lease_ms) else None

    def want(self) -> None:
        """Ask for a dispatch round (the running dispatcher, or the next one, does it)."""
        self.redis.set(self._key("dispatch", "wanted"), 1)

    def take_wanted(self) -> bool:
        """Consume the trigger flag: True when a dispatch was asked for since the last time."""
        return bool(self.redis.getdel(self._key("dispatch", "wanted")))

    def wanted(self) -> bool:
        return bool(self.redis.exists(self._key("dispatch", "wanted")))

    def end_dispatch(self, token: str) -> None:
        self._unlock(keys=[self._key("dispatch", "lock")], args=[token])

    # --- push -------------------------------------------------------------------------------------------
    def channel(self, agent_id: int) -> str:
        """The pub/sub channel of the agent's pool screens."""
        return self._key("agent", agent_id)

    def publish(self, agent_id: int, message: dict[str, Any]) -> None:
        self.redis.publish(self.channel(agent_id), json.dumps(message, default=str))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value) if value is not None else ""
