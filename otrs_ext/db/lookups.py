"""Name -> id maps of OTRS's lookup tables, read from the live database.

Ids differ between versions (history type 52 is ``Bulk`` in Znuny 7 and ``ArticleDynamicFieldUpdate`` in
OTOBO 11) and admins add and rename rows, so otrs-ext never hard-codes an id: it loads these maps once per
process (or per job) and asks by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from schema_maps import OtrsSchema

from ..errors import ConfigurationError

# uniform table name -> column holding the name
_NAMED = {
    "ticket_state": "name",
    "ticket_state_type": "name",
    "ticket_priority": "name",
    "ticket_lock_type": "name",
    "ticket_type": "name",
    "ticket_history_type": "name",
    "article_sender_type": "name",
    "communication_channel": "name",
    "article_type": "name",
    "queue": "name",
    "groups": "name",
    "users": "login",
    "valid": "name",
}


@dataclass(frozen=True)
class Lookups:
    """Immutable snapshot of every lookup table; ``lookups.id("ticket_state", "open")``."""

    maps: Mapping[str, Mapping[str, int]]
    state_types: Mapping[int, str]  # ticket_state id -> its state type name (new, open, closed, ...)

    @classmethod
    def load(cls, conn: Connection, schema: OtrsSchema) -> Lookups:
        maps: dict[str, dict[str, int]] = {}
        for uniform, column in _NAMED.items():
            if uniform not in schema.tables:
                continue
            table = schema.tables[uniform]
            maps[uniform] = {name: ident for ident, name in conn.execute(select(table.c.id, table.c[column]))}
        state, state_type = schema.tables.ticket_state, schema.tables.ticket_state_type
        state_types = {
            ident: type_name
            for ident, type_name in conn.execute(
                select(state.c.id, state_type.c.name).join(state_type, state_type.c.id == state.c.type_id)
            )
        }
        return cls(maps=maps, state_types=state_types)

    def id(self, table: str, name: str) -> int:
        try:
            return self.maps[table][name]
        except KeyError:
            known = ", ".join(sorted(self.maps.get(table, {}))) or "none"
            raise ConfigurationError(
                f"the OTRS database has no {table} named {name!r} (known: {known}); "
                "create it in the OTRS admin interface or use an existing name"
            ) from None

    def names(self, table: str) -> Mapping[str, int]:
        return self.maps.get(table, {})

    def ids_named(self, table: str, names: Sequence[str], path: str, problems: list[tuple[str, str]]) -> list[int]:
        """The ids of ``names`` (a request's filter); each unknown one adds a ``(path[i], message)`` problem."""
        known = self.names(table)
        for i, name in enumerate(names):
            if name not in known:
                problems.append((f"{path}[{i}]", f"unknown {table.replace('_', ' ')} {name!r}"))
        return [known[n] for n in names if n in known]

    def states_of_type(self, *type_names: str) -> list[int]:
        """Ids of the states whose state type is one of ``type_names`` (e.g. ``"closed"``)."""
        return sorted(i for i, t in self.state_types.items() if t in type_names)
