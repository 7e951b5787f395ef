"""Customer tokens for the customer portal: signed, short-lived, naming one OTRS customer user.

The website logs its customer in (its own accounts, or OTRS's ``customer_user`` passwords) and asks for a
token with its intake key; the token then lets the portal list and read that customer's tickets (only
articles visible to customers) and answer them. Nothing is stored: the HMAC over login and expiry is the
proof, so revoking means rotating ``OTRS_EXT_SECRET_KEY`` or waiting for the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from ..errors import ConfigurationError
from .keys import Unauthorized

PREFIX = "ctk_"


@dataclass(frozen=True)
class CustomerToken:
    token: str
    login: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CustomerTokens:
    def __init__(self, secret: str, ttl_seconds: int = 3600) -> None:
        self.secret = secret.encode()
        self.ttl = ttl_seconds

    def _sign(self, payload: str) -> str:
        if not self.secret:
            raise ConfigurationError("customer tokens need OTRS_EXT_SECRET_KEY (a long random string)")
        return _b64(hmac.new(self.secret, payload.encode(), hashlib.sha256).digest())

    def issue(self, login: str, *, now: float | None = None) -> CustomerToken:
        expires = int((time.time() if now is None else now) + self.ttl)
        payload = _b64(json.dumps({"sub": login, "exp": expires}, ensure_ascii=False).encode())
        return CustomerToken(f"{PREFIX}{payload}.{self._sign(payload)}", login, expires)

    def verify(self, token: str, *, now: float | None = None) -> str:
        """The customer login the token names; Unauthorized when forged, malformed or expired, and on an
        instance without a secret key (it issued no token, so none can be valid)."""
        if not self.secret:
            raise Unauthorized("customer tokens are not enabled on this instance")
        try:
            payload, signature = token[len(PREFIX):].split(".", 1)
            valid = hmac.compare_digest(signature, self._sign(payload))
            claims = json.loads(_unb64(payload)) if valid else {}
        except (ValueError, UnicodeDecodeError):
            valid, claims = False, {}
        if not valid or not isinstance(claims.get("sub"), str):
            raise Unauthorized("invalid customer token")
        if claims.get("exp", 0) < (time.time() if now is None else now):
            raise Unauthorized("customer token expired; ask for a new one")
        return claims["sub"]
