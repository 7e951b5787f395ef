"""Agents and their rights in test databases: an agent (``users``) with an optional OTRS password, groups,
direct grants (``group_user``), grants through a role (``roles``, ``group_role``, ``role_user``), and the audit
columns every OTRS row carries.

SQLAlchemy Core through the schema maps, so one call works on every generation (OTRS 5's
``group_user.permission_value`` is written where the schema has it). Every helper takes the caller's connection
and leaves the transaction to the caller.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from schema_maps import OtrsSchema

VALID, INVALID = 1, 2


def audit(conn: Connection, by: int = 1, at: datetime | str | None = None) -> dict[str, Any]:
    """create/change time and user; the time is ``at``, or the database clock as OTRS writes it."""
    now = at if at is not None else conn.execute(select(func.current_timestamp())).scalar_one()
    return {"create_time": now, "create_by": by, "change_time": now, "change_by": by}


def otrs_password(password: str) -> str:
    """``password`` as OTRS stores it by default (SHA-256, hex), so the agent can log in with it."""
    return hashlib.sha256(password.encode()).hexdigest()


def add_agent(conn: Connection, schema: OtrsSchema, login: str, *, password: str | None = None,
              first_name: str = "Test", last_name: str = "Agent", valid: bool = True,
              at: datetime | str | None = None, **columns: Any) -> int:
    """A ``users`` row; ``password`` is stored as OTRS hashes it (none: the agent cannot log in)."""
    row = {"login": login, "pw": otrs_password(password) if password is not None else "", "first_name": first_name,
           "last_name": last_name, "valid_id": VALID if valid else INVALID, **audit(conn, at=at), **columns}
    return conn.execute(schema.tables.users.insert().values(**row)).inserted_primary_key[0]


def group_id(conn: Connection, schema: OtrsSchema, name: str = "users") -> int:
    """The id of the group ``name`` (``users`` owns the standard queues: Postmaster, Raw, Junk, Misc)."""
    groups = schema.tables.groups
    return conn.execute(select(groups.c.id).where(groups.c.name == name)).scalar_one()


def add_group(conn: Connection, schema: OtrsSchema, name: str, *, valid: bool = True) -> int:
    row = {"name": name, "comments": "", "valid_id": VALID if valid else INVALID, **audit(conn)}
    return conn.execute(schema.tables.groups.insert().values(**row)).inserted_primary_key[0]


def grant(conn: Connection, schema: OtrsSchema, user_id: int, group: int, *keys: str, value: int = 1,
          at: datetime | str | None = None) -> None:
    """Direct ``group_user`` rows, one per key. ``value=0`` writes OTRS 5's "not granted" rows (OTRS 5 only:
    later versions have no value column and store only granted keys)."""
    has_value = schema.traits.group_user_permission_value
    if value != 1 and not has_value:
        raise ValueError(f"{schema.label} has no group_user.permission_value; only granted keys are stored")
    for key in keys:
        row = {"user_id": user_id, "group_id": group, "permission_key": key, **audit(conn, at=at)}
        if has_value:
            row["permission_value"] = value
        conn.execute(schema.tables.group_user.insert().values(**row))


def add_role(conn: Connection, schema: OtrsSchema, name: str, *, valid: bool = True) -> int:
    row = {"name": name, "comments": "", "valid_id": VALID if valid else INVALID, **audit(conn)}
    return conn.execute(schema.tables.roles.insert().values(**row)).inserted_primary_key[0]


def grant_role(conn: Connection, schema: OtrsSchema, role_id: int, group: int, *keys: str, value: int = 1) -> None:
    """``group_role`` rows, one per key; OTRS counts only ``permission_value = 1``."""
    for key in keys:
        conn.execute(schema.tables.group_role.insert().values(role_id=role_id, group_id=group, permission_key=key,
                                                              permission_value=value, **audit(conn)))


def assign_role(conn: Connection, schema: OtrsSchema, user_id: int, role_id: int) -> None:
    conn.execute(schema.tables.role_user.insert().values(user_id=user_id, role_id=role_id, **audit(conn)))


def add_agent_with(conn: Connection, schema: OtrsSchema, login: str, *keys: str, group: str = "users",
                   **agent: Any) -> int:
    """An agent (``add_agent``'s keywords) holding ``keys`` on ``group``; the standard queues' by default."""
    agent_id = add_agent(conn, schema, login, **agent)
    grant(conn, schema, agent_id, group_id(conn, schema, group), *keys, at=agent.get("at"))
    return agent_id
