"""Who an agent is: ``AgentAuth`` checks ``UserLogin`` + ``Password`` against ``users.pw``, keeps sessions, and
names the agent an otrs-ext API key acts as.

Sessions live in Redis under the SHA-256 of their id (a copy of Redis holds no usable session), with OTRS's
two limits: an absolute lifetime (SessionMaxTime) and an idle timeout (SessionMaxIdleTime, the key's TTL,
renewed on use). Failed password logins are counted per account (``lockout``); only agents (``users``) can log
in: customer logins are not supported here.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, replace
from typing import Protocol

import redis
from sqlalchemy import Engine, select

from schema_maps import OtrsSchema

from ..errors import OtrsExtError
from . import passwords
from .lockout import LoginLockout, account

VALID_ID = 1


class AgentKey(Protocol):
    """What ``bearer`` reads of an API key already authenticated by the API (``api.keys.ApiKey``)."""

    @property
    def key_id(self) -> int: ...
    @property
    def scope(self) -> str: ...
    @property
    def agent_id(self) -> int | None: ...


class AuthFail(OtrsExtError):
    status = 401
    code = "auth-fail"


@dataclass(frozen=True)
class Agent:
    user_id: int
    login: str
    from_: str  # '"First Last" <email>' as OTRS writes an agent article's From
    key_id: int | None = None  # set when the call came with an otrs-ext API key
    full_name: str = ""  # 'First Last': OTRS's UserFullname, the From of a GI TicketUpdate article


class AgentAuth:
    def __init__(self, engine: Engine, schema: OtrsSchema, client: redis.Redis, *,
                 max_seconds: int, idle_seconds: int, prefix: str = "otrs_ext:gi") -> None:
        self.engine = engine
        self.schema = schema
        self.redis = client
        self.max_seconds = max_seconds
        self.idle_seconds = idle_seconds
        self.prefix = prefix
        self.lockout = LoginLockout(client, prefix=prefix)

    # --- the three ways in -----------------------------------------------------------------------------
    def bearer(self, key: AgentKey) -> Agent:
        """The agent an otrs-ext API key (already authenticated by ``ApiKeys``) acts as."""
        if key.scope != "agent" or key.agent_id is None:
            raise AuthFail("GenericInterface calls act as an agent: use an agent key, not an intake key")
        agent = self._agent(user_id=key.agent_id)
        if agent is None:
            raise AuthFail("the agent of this API key is invalid")
        return replace(agent, key_id=key.key_id)

    def password(self, login: str, password: str) -> Agent:
        users = self.schema.tables.users
        with self.engine.connect() as conn:
            # MariaDB compares with the column's collation: accent- and case-insensitive and PAD SPACE, so
            # "v.dmítriev " finds v.dmitriev. The failure counter is therefore keyed by the account found,
            # never by the spelling typed.
            row = conn.execute(select(users.c.id, users.c.login, users.c.pw, users.c.valid_id)
                               .where(users.c.login == login)).first()
        counted = account(row, login)
        if not self.lockout.reserve(counted):
            raise AuthFail("too many failed logins; wait a few minutes")
        if row is None or row.valid_id != VALID_ID or not passwords.verify(password, row.pw):
            raise AuthFail("wrong login or password")
        self.lockout.give_back(counted)
        agent = self._agent(user_id=row.id)
        if agent is None:
            raise AuthFail("wrong login or password")
        return agent

    def reset_failures(self, login: str) -> bool:
        """End a login lock at once (an administrator's action; the lock otherwise ends after the window)."""
        users = self.schema.tables.users
        with self.engine.connect() as conn:
            row = conn.execute(select(users.c.id, users.c.login).where(users.c.login == login)).first()
        return self.lockout.reset(account(row, login))

    def session(self, session_id: str) -> Agent:
        name = self._session_key(session_id)
        raw = self.redis.get(name)
        if raw is None:
            raise AuthFail("the session is invalid or expired; create a new one")
        data = json.loads(raw)
        if time.time() > data["until"]:
            self.redis.delete(name)
            raise AuthFail("the session is expired; create a new one")
        self.redis.expire(name, self._ttl(data["until"]))
        agent = self._agent(user_id=data["user_id"])
        if agent is None:  # invalidated since login
            self.redis.delete(name)
            raise AuthFail("the session's agent is invalid")
        return agent

    # --- sessions ---------------------------------------------------------------------------------------
    def create_session(self, agent: Agent) -> str:
        session_id = secrets.token_hex(24)  # alphanumeric like OTRS's, safe in a query string
        until = time.time() + self.max_seconds
        self.redis.set(self._session_key(session_id), json.dumps({"user_id": agent.user_id, "until": until,
                                                                  "login": agent.login, "created": time.time()}),
                       ex=self._ttl(until))
        return session_id

    def session_data(self, session_id: str) -> dict[str, object]:
        raw = self.redis.get(self._session_key(session_id))
        if raw is None:
            raise AuthFail("the session is invalid or expired")
        return json.loads(raw)

    def delete_session(self, session_id: str) -> bool:
        return bool(self.redis.delete(self._session_key(session_id)))

    def _session_key(self, session_id: str) -> str:
        return f"{self.prefix}:session:{hashlib.sha256(session_id.encode()).hexdigest()}"

    def _ttl(self, until: float) -> int:
        return max(1, int(min(self.idle_seconds, until - time.time())))

    # --- agents -----------------------------------------------------------------------------------------
    def _agent(self, *, user_id: int) -> Agent | None:
        t = self.schema.tables
        users, prefs = t.users, t.user_preferences
        with self.engine.connect() as conn:
            row = conn.execute(select(users.c.id, users.c.login, users.c.first_name, users.c.last_name,
                                      users.c.valid_id).where(users.c.id == user_id)).first()
            if row is None or row.valid_id != VALID_ID:
                return None
            email = conn.execute(select(prefs.c.preferences_value).where(
                prefs.c.user_id == user_id, prefs.c.preferences_key == "UserEmail")).scalar()
        name = " ".join(p for p in (row.first_name, row.last_name) if p)
        if isinstance(email, bytes):
            email = email.decode("utf-8", "replace")
        return Agent(user_id=row.id, login=row.login, from_=f'"{name}" <{email}>' if email else name,
                     full_name=name)
