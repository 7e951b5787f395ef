"""``Idempotency-Key``: a retried create or reply gets the first call's answer instead of a second ticket.

The first request with a key claims it (a row without outcome) before doing anything; the outcome is stored
when it is known. A retry with the same key and the same request body gets the stored answer; the same key
with a different body is refused (422); a retry while the first is still running gets 409 and may try again.
A request that failed on the server side (5xx) releases its claim, so its retry runs anew.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from ..db.own_tables import own_table
from ..errors import Conflict, ValidationError


@dataclass(frozen=True)
class Stored:
    status_code: int
    body: str
    location: str | None


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class IdempotencyStore:
    def __init__(self, engine: Engine, own_schema: str | None = None) -> None:
        self.engine = engine
        self.table = own_table("idempotency", own_schema)

    def claim(self, key_id: int, idem_key: str, digest: str) -> Stored | None:
        """None: go ahead (the key is now ours). Stored: answer with it. Raises on misuse or a running twin."""
        if not 1 <= len(idem_key) <= 191:
            raise ValidationError([("Idempotency-Key", "must be 1 to 191 characters")])
        t = self.table
        try:
            with self.engine.begin() as conn:
                conn.execute(t.insert().values(key_id=key_id, idem_key=idem_key, request_hash=digest,
                                               created_at=func.now()))
            return None
        except IntegrityError:
            pass
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.key_id == key_id, t.c.idem_key == idem_key)).mappings().first()
        if row is None:  # released in between by a failed twin: claim again
            return self.claim(key_id, idem_key, digest)
        if row["request_hash"] != digest:
            raise ValidationError([("Idempotency-Key", "was already used with a different request; use a new key "
                                                       "for a new request")])
        if row["status_code"] is None:
            raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
        return Stored(row["status_code"], row["response_body"] or "", row["location"])

    def complete(self, key_id: int, idem_key: str, status_code: int, body: str, location: str | None) -> None:
        t = self.table
        with self.engine.begin() as conn:
            if status_code >= 500:
                conn.execute(t.delete().where(t.c.key_id == key_id, t.c.idem_key == idem_key))
            else:
                conn.execute(t.update().where(t.c.key_id == key_id, t.c.idem_key == idem_key)
                             .values(status_code=status_code, response_body=body, location=location))

    def release(self, key_id: int, idem_key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.delete().where(self.table.c.key_id == key_id, self.table.c.idem_key == idem_key))
