"""``Idempotency-Key``: a retried create or reply gets the first call's answer instead of a second ticket.

The first request with a key claims it (a row without outcome) before doing anything; the outcome is stored
when it is known. A retry with the same key and the same request body gets the stored answer; the same key
with a different body is refused (422); a retry while the first is still running gets 409 and may try again.
A request that failed on the server side (5xx) releases its claim, so its retry runs anew.

A claim whose request died without releasing it (the worker was killed, the database went away between claim
and outcome) would answer 409 for ever. Routes that store their outcome in the same transaction as their
writes (``complete_in``) therefore let a retry take over a claim older than ``stale_seconds``: that claim's
writes cannot have committed, or the outcome would be there. The claim's ``created_at`` is its token: a
take-over rewrites it, so a slow original that wakes up later fails to complete and rolls back.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from ..db.own_tables import own_table
from ..errors import Conflict, ValidationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    status_code: int
    body: str
    location: str | None


@dataclass
class Claim:
    """A key this request now holds; ``token`` is the claim row's ``created_at``."""

    key_id: int
    idem_key: str
    token: datetime
    completed: bool = False


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class IdempotencyStore:
    def __init__(self, engine: Engine, own_schema: str | None = None, *, stale_seconds: float = 120.0) -> None:
        self.engine = engine
        self.table = own_table("idempotency", own_schema)
        self.stale_seconds = stale_seconds

    def claim(self, key_id: int, idem_key: str, digest: str, *, atomic: bool = False) -> Claim | Stored:
        """Claim: go ahead (the key is now ours). Stored: answer with it. Raises on misuse or a running twin.

        ``atomic``: the route completes in its own transaction (``complete_in``), so a stale claim may be taken
        over; other routes' stale claims keep answering 409 (their writes may have committed)."""
        if not 1 <= len(idem_key) <= 191:
            raise ValidationError([("Idempotency-Key", "must be 1 to 191 characters")])
        t = self.table
        mine = (t.c.key_id == key_id) & (t.c.idem_key == idem_key)
        try:
            with self.engine.begin() as conn:
                claim = t.insert().values(key_id=key_id, idem_key=idem_key, request_hash=digest,
                                          created_at=func.now())
                if conn.dialect.insert_returning:  # MariaDB 10.5+: the token comes back with the INSERT
                    return Claim(key_id, idem_key, conn.execute(claim.returning(t.c.created_at)).scalar_one())
                conn.execute(claim)
                return Claim(key_id, idem_key, conn.execute(select(t.c.created_at).where(mine)).scalar_one())
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            row = conn.execute(select(t, func.now().label("db_now")).where(mine)).mappings().first()
            if row is None:  # released in between by a failed twin: claim again
                return self.claim(key_id, idem_key, digest, atomic=atomic)
            if row["request_hash"] != digest:
                raise ValidationError([("Idempotency-Key", "was already used with a different request; use a new "
                                                           "key for a new request")])
            if row["status_code"] is not None:
                return Stored(row["status_code"], row["response_body"] or "", row["location"])
            age = (row["db_now"] - row["created_at"]).total_seconds()
            if atomic and age >= self.stale_seconds:
                taken = conn.execute(t.update().where(mine, t.c.status_code.is_(None),
                                                      t.c.created_at == row["created_at"])
                                     .values(created_at=func.now()))
                if taken.rowcount == 1:
                    log.warning("took over an abandoned Idempotency-Key claim (%.0f s old)", age,
                                extra={"event": "api_idempotency_takeover", "key_id": key_id})
                    return Claim(key_id, idem_key, conn.execute(select(t.c.created_at).where(mine)).scalar_one())
        raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")

    def complete_in(self, conn: Any, claim: Claim, status_code: int, body: str, location: str | None) -> None:
        """Store the outcome in the caller's transaction (the one writing the ticket): both commit or neither.
        Fails (and so rolls the writes back) when the claim was taken over meanwhile."""
        t = self.table
        done = conn.execute(t.update().where(t.c.key_id == claim.key_id, t.c.idem_key == claim.idem_key,
                                             t.c.created_at == claim.token, t.c.status_code.is_(None))
                            .values(status_code=status_code, response_body=body, location=location))
        if done.rowcount != 1:
            raise Conflict("this request's Idempotency-Key claim was taken over by a retry; nothing was written")
        claim.completed = True

    def complete(self, claim: Claim, status_code: int, body: str, location: str | None) -> None:
        if claim.completed:
            return
        t = self.table
        mine = (t.c.key_id == claim.key_id) & (t.c.idem_key == claim.idem_key) & (t.c.created_at == claim.token)
        with self.engine.begin() as conn:
            if status_code >= 500:
                conn.execute(t.delete().where(mine))
            else:
                conn.execute(t.update().where(mine).values(status_code=status_code, response_body=body,
                                                           location=location))
        claim.completed = True

    def release(self, claim: Claim) -> None:
        t = self.table
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.key_id == claim.key_id, t.c.idem_key == claim.idem_key,
                                          t.c.created_at == claim.token, t.c.status_code.is_(None)))
