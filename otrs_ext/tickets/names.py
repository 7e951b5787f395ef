"""Turns what people type (an agent's login, a ticket number) into the ids the services take."""

from __future__ import annotations

from sqlalchemy import Engine, select

from schema_maps import OtrsSchema

from ..errors import NotFound


def agent_id(engine: Engine, schema: OtrsSchema, login: str) -> int:
    """The id of the agent ``login``, case-insensitively as OTRS's login form compares."""
    users = schema.tables.users
    with engine.connect() as conn:
        found = conn.execute(select(users.c.id).where(users.c.login == login)).scalar()
    if found is None:
        raise NotFound(f"no agent with login {login!r}")
    return found


def ticket_id(engine: Engine, schema: OtrsSchema, ref: str) -> int:
    """``ref`` as a ticket number first; an all-digit ``ref`` that is no number is tried as the id."""
    ticket = schema.tables.ticket
    with engine.connect() as conn:
        found = conn.execute(select(ticket.c.id).where(ticket.c.tn == ref)).scalar()
        if found is None and ref.isdigit():
            found = conn.execute(select(ticket.c.id).where(ticket.c.id == int(ref))).scalar()
    if found is None:
        raise NotFound(f"no ticket with number or id {ref!r}")
    return found
