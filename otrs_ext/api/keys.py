"""API keys: created once and shown once, stored as a SHA-256 of the secret, found by their prefix.

Keys are 32 random bytes, so a plain SHA-256 is enough (no password stretching needed: there is nothing to
guess). ``intake`` keys may only create tickets (the website's contact forms); ``agent`` keys act as one
OTRS agent, whose OTRS group and role permissions apply to every call.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, bindparam, func, select

from ..db.own_tables import own_table
from ..errors import OtrsExtError, ValidationError

if TYPE_CHECKING:
    from .verified_keys import VerifiedKeys

SCOPES = ("intake", "agent")
KEY_PREFIX = "oxk"


class Unauthorized(OtrsExtError):
    status = 401
    code = "unauthorized"


@dataclass(frozen=True)
class ApiKey:
    key_id: int
    scope: str
    agent_id: int | None
    name: str
    rate_per_minute: int


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys:
    def __init__(self, engine: Engine, own_schema: str | None = None, *,
                 verified: VerifiedKeys | None = None) -> None:
        """``verified``: the API workers' cache of verified keys, told of every revocation."""
        self.engine = engine
        self.table = own_table("api_key", own_schema)
        self.verified = verified
        t = self.table
        # every API request runs it: built once, with the prefix as parameter
        self._by_prefix = select(t.c.id, t.c.secret_hash, t.c.scope, t.c.agent_id, t.c.name, t.c.rate_per_minute,
                                 t.c.revoked_at).where(t.c.prefix == bindparam("prefix"))

    def create(self, scope: str, *, name: str, agent_id: int | None = None, rate_per_minute: int = 600) -> str:
        """Store a new key and return it; it is never shown again."""
        if scope not in SCOPES:
            raise ValidationError([("scope", f"must be one of {', '.join(SCOPES)}")])
        if scope == "agent" and agent_id is None:
            raise ValidationError([("agent", "an agent key acts as an OTRS agent: name one")])
        prefix = secrets.token_hex(6)
        key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        with self.engine.begin() as conn:
            conn.execute(self.table.insert().values(
                prefix=prefix, secret_hash=_hash(key), scope=scope, agent_id=agent_id if scope == "agent" else None,
                name=name, rate_per_minute=rate_per_minute, created_at=func.now()))
        return key

    def authenticate(self, key: str) -> ApiKey:
        parts = key.split("_", 2)  # the secret itself may contain "_"
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            raise Unauthorized("not an otrs-ext API key; send Authorization: Bearer oxk_...")
        with self.engine.connect() as conn:
            row = conn.execute(self._by_prefix, {"prefix": parts[1]}).mappings().first()
        if row is None or row["revoked_at"] is not None or not hmac.compare_digest(row["secret_hash"], _hash(key)):
            raise Unauthorized("unknown or revoked API key")
        return ApiKey(key_id=row["id"], scope=row["scope"], agent_id=row["agent_id"], name=row["name"],
                      rate_per_minute=row["rate_per_minute"])

    def revoke(self, key_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.update().where(self.table.c.id == key_id).values(revoked_at=func.now()))
        if self.verified is not None:
            self.verified.revoked()  # after the commit: a worker verifying again must read the revocation
