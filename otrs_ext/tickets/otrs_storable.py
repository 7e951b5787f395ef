"""Perl ``Storable::nfreeze`` output, written from Python: the byte format of OTRS's ``scheduler_task.task_data``.

OTRS's daemon reads a task's data with ``Storable::thaw`` (after base64). Only the parts of the format a task
needs are written here, the way Perl's Storable 3.x (``perl -MStorable``, binary format 2.11) writes them
with ``$Storable::canonical = 1`` (hash keys sorted, so the bytes are reproducible; Perl's own order is random
per process and thaws to the same data):

* header ``05 0b``: major 2 in network order (``nfreeze``), minor 11. Older Storables read it too
  (``$Storable::accept_future_minor`` is on by default);
* ``dict`` (str keys) -> a hash (``SX_HASH``; ``SX_FLAG_HASH`` when a key carries Perl's UTF-8 flag),
  ``list``/``tuple`` -> an array; nested ones as references (``SX_REF``), the top one not, as ``nfreeze(\\%h)``;
* ``str`` -> a string, UTF-8 flagged (``SX_UTF8STR``) when it has a non-ASCII character, as Perl marks decoded
  text; an ASCII ``str`` is a plain byte string, as a Perl literal. ``Flagged("2")`` forces the flag on ASCII
  text, as Znuny's database layer sets it on every value it fetches. ``bytes`` -> an unflagged byte string;
* ``int``/``bool`` -> ``SX_BYTE`` (-128..127) or ``SX_NETINT`` (32 bit); a larger integer becomes its
  decimal string, as Storable does in network order. ``float`` -> its ``%.15g`` string, likewise;
* ``None`` -> ``SX_UNDEF`` (an undefined hash value or array element).

Hash keys follow Perl's key storage: an ASCII key is plain; a key with characters up to U+00FF is kept as
Latin-1 bytes marked "was UTF-8"; a key with higher characters as UTF-8 marked UTF-8.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

MAGIC = b"\x05\x0b"  # (major 2 << 1) | network order, minor 11
SX_ARRAY, SX_HASH, SX_REF, SX_UNDEF = 0x02, 0x03, 0x04, 0x05
SX_BYTE, SX_NETINT, SX_SCALAR, SX_LSCALAR = 0x08, 0x09, 0x0A, 0x01
SX_UTF8STR, SX_LUTF8STR, SX_FLAG_HASH = 0x17, 0x18, 0x19
SHV_K_UTF8, SHV_K_WASUTF8 = 0x01, 0x02
LG_SCALAR = 255  # longest string with a one-byte length


class Flagged(str):
    """Text Perl holds with its UTF-8 flag on even when it is ASCII (values Znuny fetched from the database)."""

    __slots__ = ()


class NotStorable(TypeError):
    """A value with no Storable form here (a set, an object, an infinite float): a programming error."""


def nfreeze(data: Mapping[str, Any] | Sequence[Any]) -> bytes:
    """The bytes ``Storable::nfreeze(\\%data)`` (or ``\\@data``) writes, keys in canonical order."""
    if not isinstance(data, Mapping | list | tuple):
        raise NotStorable("nfreeze needs a dict or a list at the top, as Storable needs a reference")
    out = bytearray(MAGIC)
    _container(out, data)
    return bytes(out)


def _container(out: bytearray, value: Mapping[str, Any] | Sequence[Any]) -> None:
    if isinstance(value, Mapping):
        _hash(out, value)
    else:
        out.append(SX_ARRAY)
        out += struct.pack(">I", len(value))
        for item in value:
            _value(out, item)


def _hash(out: bytearray, value: Mapping[str, Any]) -> None:
    keys = list(value)
    for key in keys:
        if not isinstance(key, str):
            raise NotStorable(f"hash keys must be str, not {type(key).__name__}: {key!r}")
    keys.sort()  # code point order = Perl's sv_cmp on character strings
    encoded = [_key(k) for k in keys]
    flagged = any(flags for flags, _ in encoded)
    out.append(SX_FLAG_HASH if flagged else SX_HASH)
    if flagged:
        out.append(0)  # hash flags: not a restricted hash
    out += struct.pack(">I", len(keys))
    for key, (flags, raw) in zip(keys, encoded, strict=True):
        _value(out, value[key])
        if flagged:
            out.append(flags)
        out += struct.pack(">I", len(raw))
        out += raw


def _key(key: str) -> tuple[int, bytes]:
    """(key flags, stored bytes) as Perl's hash keeps the key; the same few keys recur in every task."""
    known = _KEYS.get((type(key), key))  # the type too: Flagged("a") == "a", but is stored differently
    if known is None:
        if len(_KEYS) > 10_000:
            _KEYS.clear()
        known = _KEYS[(type(key), key)] = _encode_key(key)
    return known


_KEYS: dict[tuple[type, str], tuple[int, bytes]] = {}


def _encode_key(key: str) -> tuple[int, bytes]:
    if key.isascii() and not isinstance(key, Flagged):
        return 0, key.encode("ascii")
    if all(ord(ch) < 0x100 for ch in key):
        return SHV_K_WASUTF8, key.encode("latin-1")
    return SHV_K_UTF8, key.encode("utf-8")


def _value(out: bytearray, value: Any) -> None:
    # The exact types a task holds almost only come first: isinstance against the ABCs below costs more than
    # writing the value. Subclasses (Flagged, bool) take the general path.
    kind = type(value)
    if kind is str:
        _string(out, value.encode("utf-8"), utf8=not value.isascii())
    elif kind is int:
        _integer(out, value)
    elif kind is dict:
        out.append(SX_REF)
        _hash(out, value)
    elif value is None:
        out.append(SX_UNDEF)
    elif isinstance(value, Mapping | list | tuple):
        out.append(SX_REF)
        _container(out, value)
    elif isinstance(value, bool | int):
        _integer(out, int(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise NotStorable(f"{value!r} has no portable Storable form")
        _string(out, format(value, ".15g").encode("ascii"), utf8=False)
    elif isinstance(value, str):
        _string(out, value.encode("utf-8"), utf8=isinstance(value, Flagged) or not value.isascii())
    elif isinstance(value, bytes | bytearray):
        _string(out, bytes(value), utf8=False)
    else:
        raise NotStorable(f"no Storable form for {type(value).__name__}: {value!r}")


def _integer(out: bytearray, number: int) -> None:
    if -128 <= number <= 127:
        out += bytes((SX_BYTE, number + 128))
    elif -(2**31) <= number < 2**31:
        out.append(SX_NETINT)
        out += struct.pack(">i", number)
    else:
        _string(out, str(number).encode("ascii"), utf8=False)


def _string(out: bytearray, raw: bytes, *, utf8: bool) -> None:
    if len(raw) <= LG_SCALAR:
        out += bytes((SX_UTF8STR if utf8 else SX_SCALAR, len(raw)))
    else:
        out.append(SX_LUTF8STR if utf8 else SX_LSCALAR)
        out += struct.pack(">I", len(raw))
    out += raw
