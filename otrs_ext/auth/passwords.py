"""Checks a password against ``users.pw`` the way OTRS's ``Kernel::System::Auth::DB`` does.

OTRS recognises the stored format by its shape, not by a setting, so an installation that changed
``AuthModule::DB::CryptType`` over the years holds several formats at once:

* 64 hex digits: SHA-256 of the UTF-8 password (``sha2``, the default since OTRS 3.x);
* 128 hex digits: SHA-512 (``sha512``); 40: SHA-1 (``sha1``); 32: MD5 (``md5``);
* ``BCRYPT:<cost>:<salt>:<hash>``: OTRS's own bcrypt layout (``bcrypt``; Crypt::Eksblowfish with the 16
  characters of ``salt`` as the raw salt, ``key_nul`` on, hash in bcrypt's base64);
* ``$2a$`` / ``$2b$`` / ``$2y$``: a standard bcrypt string (set by hand or by migration tools).

Unix ``crypt``, ``$1$``/``$apr1$`` MD5-crypt and plain text are refused (answered as a wrong password): they are
weak, rare, and Python has no maintained implementation; such agents must set a new password in OTRS once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import bcrypt

_HEX = re.compile(r"\A[0-9a-fA-F]+\Z")
_HEX_DIGESTS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
# bcrypt's own base64 alphabet ("./A-Za-z0-9"), used by Crypt::Eksblowfish's en_base64 and every $2x$ string
_STD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BCRYPT = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_TO_BCRYPT = bytes.maketrans(_STD, _BCRYPT)
BCRYPT_MAX_KEY = 72  # bcrypt reads at most 72 bytes of the key; Eksblowfish truncates silently, bcrypt>=5 raises


def verify(password: str, stored: str | None) -> bool:
    """True when ``password`` matches the stored OTRS hash ``stored``; never raises on odd input."""
    if not password or not stored:
        return False  # OTRS refuses empty passwords, and an empty pw column means "no password login"
    secret = password.encode("utf-8")
    try:
        if stored.startswith("BCRYPT:"):
            return _otrs_bcrypt(secret, stored)
        if stored.startswith(("$2a$", "$2b$", "$2y$")):
            return bcrypt.checkpw(secret[:BCRYPT_MAX_KEY], stored.replace("$2y$", "$2b$", 1).encode())
    except ValueError:
        return False  # a malformed stored value is a failed login, not a server error
    algorithm = _HEX_DIGESTS.get(len(stored))
    if algorithm is None or not _HEX.match(stored):
        return False
    digest = hashlib.new(algorithm, secret).hexdigest()
    return hmac.compare_digest(digest, stored.lower())


def _otrs_bcrypt(secret: bytes, stored: str) -> bool:
    parts = stored.split(":")
    if len(parts) != 4 or not parts[1].isdigit():
        return False
    _, cost_text, salt, expected = parts
    cost = min(max(int(cost_text), 4), 31)
    raw_salt = salt.encode("utf-8")
    if len(raw_salt) != 16:
        return False
    # Python's bcrypt takes the salt as the 22 characters of a $2b$ string; OTRS passes the raw 16 bytes.
    salt22 = _bcrypt_b64(raw_salt)[:22]
    hashed = bcrypt.hashpw(secret[:BCRYPT_MAX_KEY], b"$2b$%02d$" % cost + salt22)
    return hmac.compare_digest(hashed[-31:].decode(), expected)


def _bcrypt_b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=").translate(_TO_BCRYPT)
