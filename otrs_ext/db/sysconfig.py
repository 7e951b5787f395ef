"""OTRS's SysConfig as the installation has deployed it, read from its own tables (OTRS 6 and later).

A setting's value is the YAML ``effective_value`` of its ``sysconfig_default`` row, replaced by the global
``sysconfig_modified`` row (``user_id`` NULL) when an admin changed it. A change still waiting for deployment
(``is_dirty = 1``) is not what OTRS runs with: its newest ``sysconfig_modified_version`` row is (the value
deployed last), and without one the default is. Settings whose ``is_valid`` is 0 do not exist for OTRS's
``Kernel::Config`` and are left out here too.

Not seen: values set in ``Kernel/Config.pm`` (Perl code on the OTRS host, outside the database), and OTRS 5,
whose configuration lives only in Perl files; ``SysConfig.available`` is False there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml
from sqlalchemy import Connection, and_, func, or_, select

from schema_maps import OtrsSchema

from ..errors import ConfigurationError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SysConfig:
    """Reads deployed, valid SysConfig values by name (``Ticket::SearchIndexModule``) or name prefix."""

    def __init__(self, schema: OtrsSchema) -> None:
        self.schema = schema

    @property
    def available(self) -> bool:
        return self.schema.traits.sysconfig_tables

    def read(self, conn: Connection, *, names: Iterable[str] = (), prefixes: Iterable[str] = ()) -> dict[str, Any]:
        """``name -> value`` of the valid settings among ``names`` and those starting with one of ``prefixes``
        (``"Ticket::SearchIndex::StopWords###"`` gives every language's list under its own name)."""
        names, prefixes = list(names), list(prefixes)
        if not self.available or not (names or prefixes):
            return {}
        t = self.schema.tables
        d, m = t.sysconfig_default, t.sysconfig_modified
        wanted = or_(*([d.c.name.in_(names)] if names else []),
                     *(d.c.name.like(_like_prefix(p), escape="\\") for p in prefixes))
        rows = conn.execute(
            select(d.c.name, d.c.is_valid, d.c.effective_value, m.c.is_valid.label("m_valid"),
                   m.c.effective_value.label("m_value"), m.c.is_dirty, m.c.id.label("m_id"))
            .select_from(d.outerjoin(m, and_(m.c.sysconfig_default_id == d.c.id, m.c.user_id.is_(None))))
            .where(wanted)
        ).mappings().all()
        dirty = [r["name"] for r in rows if r["m_id"] is not None and r["is_dirty"]]
        deployed = self._last_deployed(conn, dirty)
        values: dict[str, Any] = {}
        for r in rows:
            valid, raw = r["is_valid"], r["effective_value"]
            if r["m_id"] is not None and not r["is_dirty"]:
                valid, raw = r["m_valid"], r["m_value"]
            elif r["name"] in deployed:
                valid, raw = deployed[r["name"]]
            if valid:
                values[r["name"]] = parse_value(r["name"], raw)
        return values

    def _last_deployed(self, conn: Connection, names: list[str]) -> dict[str, tuple[int, Any]]:
        if not names or not self.schema.traits.sysconfig_tables:
            return {}
        v = self.schema.tables.sysconfig_modified_version
        newest = (select(func.max(v.c.id)).where(v.c.name.in_(names), v.c.user_id.is_(None))
                  .group_by(v.c.name).scalar_subquery())
        rows = conn.execute(select(v.c.name, v.c.is_valid, v.c.effective_value, v.c.reset_to_default)
                            .where(v.c.id.in_(newest)))
        # A deployed reset means the default is in force again: no override then.
        return {name: (valid, raw) for name, valid, raw, reset in rows if not reset}


class CachedSettings:
    """``load(conn)`` once per ``ttl`` seconds: SysConfig changes are rare and take a deployment in OTRS too,
    so a writer re-reads them at most once a minute instead of on every article."""

    def __init__(self, load: Callable[[Connection], Any], *, ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Any = None
        self._loaded_at: float | None = None

    def get(self, conn: Connection) -> Any:
        with self._lock:
            now = self._clock()
            if self._loaded_at is None or now - self._loaded_at >= self.ttl:
                self._value = self._load(conn)
                self._loaded_at = now
            return self._value

    def forget(self) -> None:
        with self._lock:
            self._loaded_at = None


def parse_value(name: str, raw: bytes | str | None) -> Any:
    """An ``effective_value`` (YAML, as OTRS's ``Kernel::System::YAML`` wrote it) as Python data."""
    if raw is None:
        return None
    text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"SysConfig setting {name} has an effective_value that is not YAML: {exc}") from exc


def sub_settings(values: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The hash OTRS's ``Kernel::Config->Get(name)`` returns for ``name###key`` settings: ``{key: value}``."""
    prefix = f"{name}###"
    return {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
