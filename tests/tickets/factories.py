"""Insert agents, groups, roles, queues, customers and tickets into a test OTRS database.

SQLAlchemy Core through the schema maps, so one call works on every generation: Znuny 7's NOT NULL ``color``
columns, OTRS 5's ``create_time_unix`` and the per-generation table names are handled here (agents, groups,
roles and their grants, with OTRS 5's ``group_user.permission_value``, come from ``support.agents``). Every
helper takes the caller's connection (usually inside a transaction the test rolls back) and returns the new row's
id. Names must be unique per database; ``unique()`` makes one.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from sqlalchemy import Connection, func, select
from support import agents
from support.agents import (  # noqa: F401 - the ticket tests import these from here, with the rest
    INVALID,
    VALID,
    assign_role,
    audit,
    grant,
    grant_role,
)

from schema_maps import OtrsSchema

_serial = itertools.count(1)


def unique(prefix: str = "x") -> str:
    """A name no other factory call in this process produced."""
    return f"{prefix}-{next(_serial)}-{uuid.uuid4().hex[:6]}"


def _insert(conn: Connection, schema: OtrsSchema, table: str, row: dict[str, Any]) -> int:
    result = conn.execute(schema.tables[table].insert().values(**row))
    return result.inserted_primary_key[0] if result.inserted_primary_key else 0


def _id(conn: Connection, schema: OtrsSchema, table: str, name: str) -> int:
    t = schema.tables[table]
    found = conn.execute(select(t.c.id).where(t.c.name == name)).scalar()
    if found is None:
        raise LookupError(f"{table} has no row named {name!r}")
    return found


# --- agents, groups, roles: support.agents, under unique names unless given ------------------------------
def add_agent(conn: Connection, schema: OtrsSchema, login: str | None = None, **options: Any) -> int:
    """``support.agents.add_agent`` (``first_name``, ``password``, ``valid``, columns) under a unique login."""
    return agents.add_agent(conn, schema, login or unique("agent"), **options)


def add_group(conn: Connection, schema: OtrsSchema, name: str | None = None, *, valid: bool = True) -> int:
    return agents.add_group(conn, schema, name or unique("group"), valid=valid)


def add_role(conn: Connection, schema: OtrsSchema, name: str | None = None, *, valid: bool = True) -> int:
    return agents.add_role(conn, schema, name or unique("role"), valid=valid)


# --- queues, states, priorities -------------------------------------------------------------------
def add_queue(conn: Connection, schema: OtrsSchema, name: str | None = None, group_id: int = 1, *,
              valid: bool = True, **columns: Any) -> int:
    """A queue using the first system address, salutation, signature and follow-up option."""
    t = schema.tables

    def first(table: str) -> int:
        return conn.execute(select(func.min(t[table].c.id))).scalar_one()

    row = {"name": name or unique("queue"), "group_id": group_id, "unlock_timeout": 0,
           "system_address_id": first("system_address"), "salutation_id": first("salutation"),
           "signature_id": first("signature"), "follow_up_id": first("follow_up_possible"),
           "follow_up_lock": 0,
           "comments": "", "valid_id": VALID if valid else INVALID, **audit(conn), **columns}
    return _insert(conn, schema, "queue", row)


def add_state(conn: Connection, schema: OtrsSchema, name: str | None = None, state_type: str = "open", *,
              color: str = "#FFC542") -> int:
    row = {"name": name or unique("state"), "type_id": _id(conn, schema, "ticket_state_type", state_type),
           "comments": "", "valid_id": VALID, **audit(conn)}
    if schema.traits.colors:  # Znuny 7: NOT NULL without default
        row["color"] = color
    return _insert(conn, schema, "ticket_state", row)


def add_priority(conn: Connection, schema: OtrsSchema, name: str | None = None, *,
                 color: str = "#cdcdcd") -> int:
    row = {"name": name or unique("priority"), "valid_id": VALID, **audit(conn)}
    if schema.traits.colors:
        row["color"] = color
    return _insert(conn, schema, "ticket_priority", row)


# --- customers ------------------------------------------------------------------------------------
def add_customer_company(conn: Connection, schema: OtrsSchema, customer_id: str | None = None, *,
                         name: str | None = None, valid: bool = True) -> str:
    customer_id = customer_id or unique("company")
    _insert(conn, schema, "customer_company", {
        "customer_id": customer_id, "name": name or customer_id, "valid_id": VALID if valid else INVALID,
        **audit(conn)})
    return customer_id


def add_customer_user(conn: Connection, schema: OtrsSchema, login: str | None = None, customer_id: str = "",
                      *, extra_customer_ids: tuple[str, ...] = (), valid: bool = True, **columns: Any) -> int:
    """A DB-backend customer user; ``extra_customer_ids`` become ``customer_user_customer`` rows (OTRS 6+)."""
    login = login or unique("customer")
    row = {"login": login, "email": f"{login}@example.com", "customer_id": customer_id, "pw": "",
           "first_name": "Test", "last_name": "Customer", "valid_id": VALID if valid else INVALID,
           **audit(conn), **columns}
    ident = _insert(conn, schema, "customer_user", row)
    for extra in extra_customer_ids:
        add_customer_membership(conn, schema, login, extra)
    return ident


def add_customer_membership(conn: Connection, schema: OtrsSchema, login: str, customer_id: str) -> None:
    """A ``customer_user_customer`` row: ``login`` may also see ``customer_id``'s tickets (OTRS 6+)."""
    if "customer_user_customer" not in schema.tables:
        raise ValueError(f"{schema.label} has no customer_user_customer table")
    _insert(conn, schema, "customer_user_customer",
            {"user_id": login, "customer_id": customer_id, **audit(conn)})


# --- tickets --------------------------------------------------------------------------------------
def add_ticket(conn: Connection, schema: OtrsSchema, **columns: Any) -> int:
    """A ticket row with OTRS's defaults (queue 1, new, 3 normal, unlocked, owner/responsible 1); any column
    can be given. No article, history or counter row: use the ticket service for a ticket as OTRS makes it."""
    a = audit(conn)
    row: dict[str, Any] = {
        "tn": f"{next(_serial):06d}{uuid.uuid4().int % 10**10:010d}", "title": "Test ticket", "queue_id": 1,
        "ticket_lock_id": _id(conn, schema, "ticket_lock_type", "unlock"),
        "type_id": _id(conn, schema, "ticket_type", "Unclassified"),
        "user_id": 1, "responsible_user_id": 1,
        "ticket_priority_id": _id(conn, schema, "ticket_priority", "3 normal"),
        "ticket_state_id": _id(conn, schema, "ticket_state", "new"),
        "customer_id": None, "customer_user_id": None, "timeout": 0, "until_time": 0, "escalation_time": 0,
        "escalation_update_time": 0, "escalation_response_time": 0, "escalation_solution_time": 0,
        "archive_flag": 0, **a,
    }
    if schema.traits.create_time_unix:  # OTRS 5
        row["create_time_unix"] = int(a["create_time"].timestamp())
    row.update(columns)
    return _insert(conn, schema, "ticket", row)


def add_watcher(conn: Connection, schema: OtrsSchema, ticket_id: int, user_id: int) -> None:
    _insert(conn, schema, "ticket_watcher", {"ticket_id": ticket_id, "user_id": user_id, **audit(conn)})
