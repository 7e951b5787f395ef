"""OTRS's LinkObject rows between tickets (``link_relation``), as its ``LinkAdd`` and a merge write them.

A link is (source object, source key, target object, target key, type, state); objects, types and states are
looked up by name in ``link_object``, ``link_type`` and ``link_state``. OTRS inserts a missing ``link_object``
(``Ticket`` appears with the first ticket OTRS creates) and a missing ``link_type`` on first use; so does
otrs-ext. Adding a link between two tickets writes a ``TicketLinkAdd`` history row on each: first on the
source, naming the target, then on the target, naming the source.
"""

from __future__ import annotations

import logging

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import UpdateBase

from . import otrs_cache
from .history import name
from .write import Row, Write

log = logging.getLogger(__name__)
TICKET = "Ticket"


def object_id(w: Write, object_name: str) -> int:
    """The ``link_object`` id of ``object_name``, inserted when missing."""
    return _id_or_insert(w, w.schema.tables.link_object, object_name, {})


def type_id(w: Write, type_name: str) -> int:
    """The ``link_type`` id of ``type_name``, inserted (valid) when missing."""
    return _id_or_insert(w, w.schema.tables.link_type, type_name, {
        "valid_id": 1, "create_time": w.now, "create_by": w.user_id, "change_time": w.now, "change_by": w.user_id})


def _id_or_insert(w: Write, table: Table, row_name: str, extra: dict[str, object]) -> int:
    query = select(table.c.id).where(table.c.name == row_name)
    found = w.conn.execute(query).scalar()
    if found is None:
        try:
            with w.conn.begin_nested():
                found = w.conn.execute(table.insert().values(name=row_name, **extra)).inserted_primary_key[0]
        except IntegrityError:  # inserted meanwhile by OTRS or another write (the name is unique)
            # a locking read sees the committed row, which this transaction's snapshot may predate
            found = w.conn.execute(query.with_for_update(read=True)).scalar_one()
    return int(found)


def state_id(w: Write, state_name: str) -> int | None:
    """The ``link_state`` id of ``state_name``; OTRS never adds states on its own."""
    ls = w.schema.tables.link_state
    found = w.conn.execute(select(ls.c.id).where(ls.c.name == state_name)).scalar()
    return None if found is None else int(found)


def add_ticket_link(w: Write, source: Row, target: Row, link_type: str, state: str = "Valid") -> bool:
    """Link ticket ``source`` to ticket ``target``; False (and nothing written) when they already are linked
    with this type, in either direction, or the state is unknown."""
    lr = w.schema.tables.link_relation
    ticket_object = object_id(w, TICKET)
    the_state = state_id(w, state)
    if the_state is None:
        # OTRS's INSERT fails on the NULL state and the link is silently missing; say why at least.
        log.warning("link state %r is missing from link_state; ticket %s not linked to %s", state, source["id"],
                    target["id"], extra={"event": "link_state_missing"})
        return False
    the_type = type_id(w, link_type)
    src, dst = str(source["id"]), str(target["id"])
    exists = w.conn.execute(select(lr.c.source_key).where(
        lr.c.type_id == the_type, lr.c.source_object_id == ticket_object, lr.c.target_object_id == ticket_object,
        or_((lr.c.source_key == src) & (lr.c.target_key == dst), (lr.c.source_key == dst) & (lr.c.target_key == src)),
    ).limit(1)).first()
    if exists is not None:
        return False
    w.conn.execute(lr.insert().values(
        source_object_id=ticket_object, source_key=src, target_object_id=ticket_object, target_key=dst,
        type_id=the_type, state_id=the_state, create_time=w.now, create_by=w.user_id))
    w.new_tickets.difference_update((source["id"], target["id"]))  # they now have a link: read it when asked
    w.stale.extend(otrs_cache.link_list_keys(ticket_object, the_state))
    w.history(source, "TicketLinkAdd", name(target["tn"], target["id"], source["id"]))
    w.history(target, "TicketLinkAdd", name(source["tn"], source["id"], target["id"]))
    return True


def move_ticket_links(w: Write, from_id: int, to_id: int) -> None:
    """Every link of ticket ``from_id`` becomes a link of ticket ``to_id`` (a merge), as OTRS moves them:
    links the merged ticket has as source to objects the main ticket already links to are dropped, the rest
    are re-pointed, and links that now join the main ticket to itself are deleted. No history is written."""
    lr = w.schema.tables.link_relation
    ticket_object = object_id(w, TICKET)
    w.new_tickets.discard(to_id)  # it may receive links: read them when asked
    old, new = str(from_id), str(to_id)
    # OTRS compares target keys across all link types and objects here, not only ticket links of one type.
    also_from_old = select(lr.c.target_key).where(lr.c.source_key == old)
    doubled = [r[0] for r in w.conn.execute(select(lr.c.target_key).where(
        lr.c.target_object_id == ticket_object, lr.c.source_object_id == ticket_object, lr.c.source_key == new,
        lr.c.target_key.in_(also_from_old.scalar_subquery())))]
    if doubled:
        w.conn.execute(delete(lr).where(lr.c.target_object_id == ticket_object, lr.c.source_object_id == ticket_object,
                                        lr.c.source_key == old, lr.c.target_key.in_(doubled)))
    moved = _all_or_nothing(w, update(lr).where(lr.c.source_object_id == ticket_object, lr.c.source_key == old)
                            .values(source_key=new))
    moved += _all_or_nothing(w, update(lr).where(lr.c.target_object_id == ticket_object, lr.c.target_key == old)
                             .values(target_key=new))
    w.conn.execute(delete(lr).where(lr.c.source_object_id == ticket_object, lr.c.target_object_id == ticket_object,
                                    lr.c.source_key == lr.c.target_key))
    if moved or doubled:
        # The link lists are cached per object and state, on both sides; a moved link may join other objects.
        w.stale.extend(otrs_cache.clean_types("LinkObject"))


def _all_or_nothing(w: Write, statement: UpdateBase) -> int:
    """Run ``statement``; when it would duplicate an existing link it changes nothing, as OTRS's single UPDATE
    then fails as a whole (and OTRS goes on with the merge)."""
    try:
        with w.conn.begin_nested():
            return w.conn.execute(statement).rowcount
    except IntegrityError:
        log.warning("a merge could not move links that would duplicate existing ones; left as OTRS leaves them",
                    extra={"event": "merge_links_not_moved"})
        return 0
