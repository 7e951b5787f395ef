"""The failed-login counter: one per account and window, so a script cannot guess passwords at the speed of the
API, and respelling a login (case, accents, trailing blanks) gives no fresh attempts."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import redis

FAILURE_LIMIT = 10  # failed logins per login and window before further attempts are refused unchecked
FAILURE_WINDOW = 300  # seconds


# INCR and, for the first attempt of a window, EXPIRE in one step: a crash between the two would leave a
# counter that never expires.
_RESERVE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


def fold(login: str) -> str:
    """A typed login as MariaDB's accent-insensitive, PAD SPACE collation compares it (for logins that match
    no account, so respelling an unknown name does not give fresh attempts either)."""
    decomposed = unicodedata.normalize("NFKD", login)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().rstrip(" ")


def account(row: Any, typed: str) -> str:
    """The counter's identity: the account as stored (id and login), or the folded spelling of an unknown one."""
    return f"user:{row.id}:{row.login}" if row is not None else f"name:{fold(typed)}"


class LoginLockout:
    """Failed logins per account in Redis under ``<prefix>:fail:<sha256 of the account>``."""

    def __init__(self, client: redis.Redis, *, prefix: str) -> None:
        self.redis = client
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE)

    def reserve(self, account: str) -> bool:
        """Count an attempt before its password is checked (increment-then-check: parallel guesses cannot all
        pass a check made before any of them counted); False once the window's budget is spent."""
        return int(self._reserve(keys=[self._key(account)], args=[FAILURE_WINDOW])) <= FAILURE_LIMIT

    def give_back(self, account: str) -> None:
        """A good password gives its reservation back."""
        self.redis.decr(self._key(account))

    def reset(self, account: str) -> bool:
        return bool(self.redis.delete(self._key(account)))

    def _key(self, account: str) -> str:
        return f"{self.prefix}:fail:{hashlib.sha256(account.encode()).hexdigest()}"
