"""Ticket changes written as OTRS's own code writes them, statement by statement in autocommit, for tests that
need "someone clicked it in the OTRS UI" or "OTRS's daemon did it" next to otrs-ext's writes.

``Kernel::System::Ticket::TicketLockSet``: ``UPDATE ticket SET ticket_lock_id = ?, change_time =
current_timestamp, change_by = ? WHERE id = ?``, then ``HistoryAdd`` (``Lock``/``Unlock`` ``%%lock``/``%%unlock``,
the ticket's columns as they are now), and on a lock ``TicketUnlockTimeoutUpdate`` (``timeout`` = now, ``Misc``
"Reset of unlock time."). ``TicketOwnerSet``: ``UPDATE ticket SET user_id = ?`` + ``OwnerUpdate``
``%%<login>%%<id>``. The lock screen (AgentTicketLock) locks and then sets the owner to the agent; the daemon's
``Maint::Ticket::UnlockTimeout`` calls ``LockSet(Lock => 'unlock', UserID => 1)``.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, func, select, text

from schema_maps import OtrsSchema

SYSTEM = 1


def _lock_id(conn: Connection, schema: OtrsSchema, name: str) -> int:
    t = schema.tables.ticket_lock_type
    return conn.execute(select(t.c.id).where(t.c.name == name)).scalar_one()


def history(conn: Connection, schema: OtrsSchema, ticket_id: int, history_type: str, name: str, by: int) -> None:
    """``HistoryAdd``: the row with the ticket's columns as they are now."""
    types, t = schema.tables.ticket_history_type, schema.tables.ticket
    type_id = conn.execute(select(types.c.id).where(types.c.name == history_type)).scalar_one()
    row = conn.execute(select(t).where(t.c.id == ticket_id)).mappings().one()
    now = conn.execute(select(func.current_timestamp())).scalar_one()
    conn.execute(schema.tables.ticket_history.insert().values(
        name=name, history_type_id=type_id, ticket_id=ticket_id, article_id=None, type_id=row["type_id"] or 1,
        queue_id=row["queue_id"], owner_id=row["user_id"], priority_id=row["ticket_priority_id"],
        state_id=row["ticket_state_id"], create_time=now, create_by=by, change_time=now, change_by=by))


def lock_set(engine: Engine, schema: OtrsSchema, ticket_id: int, lock: str, by: int, *,
             only_if: str | None = None) -> bool:
    """``TicketLockSet``. ``only_if``: the UPDATE's WHERE also asks for that lock (a write that checks the lock
    at the moment it is written); False when the row did not match, nothing else is written then."""
    with engine.connect() as conn:
        lock_id = _lock_id(conn, schema, lock)
        sql = ("UPDATE ticket SET ticket_lock_id = :lock, change_time = current_timestamp, change_by = :by "
               "WHERE id = :id")
        params = {"lock": lock_id, "by": by, "id": ticket_id}
        if only_if is not None:
            sql += " AND ticket_lock_id = :expected"
            params["expected"] = _lock_id(conn, schema, only_if)
        else:
            current = conn.execute(text("SELECT ticket_lock_id FROM ticket WHERE id = :id"), {"id": ticket_id})
            if current.scalar_one() == lock_id:
                return False  # TicketLockSet returns early when nothing changes
        matched = conn.execute(text(sql), params).rowcount == 1
        conn.commit()
        if not matched:
            return False
        history(conn, schema, ticket_id, {"lock": "Lock", "unlock": "Unlock"}.get(lock, "Misc"), f"%%{lock}", by)
        conn.commit()
        if lock == "lock":
            conn.execute(text("UPDATE ticket SET timeout = :now, change_time = current_timestamp, change_by = :by "
                              "WHERE id = :id"), {"now": int(time.time()), "by": by, "id": ticket_id})
            conn.commit()
            history(conn, schema, ticket_id, "Misc", "Reset of unlock time.", by)
            conn.commit()
        return True


def owner_set(engine: Engine, schema: OtrsSchema, ticket_id: int, owner_id: int, by: int) -> None:
    """``TicketOwnerSet``."""
    with engine.connect() as conn:
        login = conn.execute(select(schema.tables.users.c.login).where(schema.tables.users.c.id == owner_id)).scalar()
        conn.execute(text("UPDATE ticket SET user_id = :owner, change_time = current_timestamp, change_by = :by "
                          "WHERE id = :id"), {"owner": owner_id, "by": by, "id": ticket_id})
        conn.commit()
        history(conn, schema, ticket_id, "OwnerUpdate", f"%%{login}%%{owner_id}", by)
        conn.commit()


def lock_screen(engine: Engine, schema: OtrsSchema, ticket_id: int, agent_id: int, *, checked: bool = False) -> bool:
    """AgentTicketLock: lock, then the agent becomes owner. ``checked``: the lock's UPDATE matches only an
    unlocked row (see ``lock_set``)."""
    if not lock_set(engine, schema, ticket_id, "lock", agent_id, only_if="unlock" if checked else None):
        return False
    owner_set(engine, schema, ticket_id, agent_id, agent_id)
    return True


def unlock_screen(engine: Engine, schema: OtrsSchema, ticket_id: int, agent_id: int) -> bool:
    """AgentTicketLock's Unlock subaction (without a previous owner to give it back to)."""
    return lock_set(engine, schema, ticket_id, "unlock", agent_id)


def unlock_timeout(engine: Engine, schema: OtrsSchema, ticket_id: int) -> bool:
    """What ``Maint::Ticket::UnlockTimeout`` (the daemon's TicketUnlockTimeout cron) writes for a ticket past its
    queue's unlock timeout: ``LockSet(Lock => 'unlock', UserID => 1)``."""
    return lock_set(engine, schema, ticket_id, "unlock", SYSTEM)
