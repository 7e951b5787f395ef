"""Who may do what with a ticket, decided exactly as OTRS decides it (OTRS_INTERNALS §6).

Agents hold permission keys (``ro``, ``move_into``, ``create``, ``note``, ``owner``, ``priority``, ``rw``) on
permission groups, directly (``group_user``) or through roles (``role_user`` -> ``group_role`` rows with
``permission_value = 1``); ``rw`` implies every other key; invalid users, roles and groups count for nothing.
Ticket access runs OTRS's ``Ticket::Permission`` modules in their order, each one granting and stopping:
OwnerCheck, ResponsibleCheck (only with ``Ticket::Responsible``), GroupCheck (the key on the queue's group),
WatcherCheck (``ro`` only, only with ``Ticket::Watcher``).

Customer users see a ticket whose queue group is valid (OTRS's customer GroupCheck with the default
``CustomerGroupSupport`` off, where every customer holds every valid group) and that is theirs by login, or -
unless ``Ticket::Frontend::CustomerDisableCompanyTicketAccess`` is on - belongs to one of their company ids
(the primary ``customer_user.customer_id`` plus ``customer_user_customer`` rows), compared case-insensitively.

Besides yes/no answers the service builds SQLAlchemy WHERE clauses (``agent_ticket_filter``,
``customer_ticket_filter``) so that ticket lists and searches return only what OTRS would show, and the same
rules as plain data (``agent_read_scope``, ``customer_read_scope``) for the search index, which filters on
ids and cannot run SQL: this module stays the one owner of who may see what.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, false, or_, select, union

from schema_maps import OtrsSchema

from ..errors import NotFound, OtrsExtError, PermissionDenied

PERMISSION_KEYS = ("ro", "move_into", "create", "note", "owner", "priority", "rw")
VALID_ID = 1  # valid.id of "valid"; 2 invalid, 3 invalid-temporarily
# How long a queue permission an agent was found to hold may answer a create without asking again (as the
# API's verified keys and the installation's settings are kept for a while). A revoked grant stops creates
# this much later at most; a refusal is never remembered, so a new grant works at once.
GRANT_TTL_SECONDS = 10.0
GRANTS_KEPT = 4096  # (agent, queue, permission) entries; all are dropped when full

TicketRef = int | Mapping[str, Any]  # a ticket id, or a ticket row (e.g. from ``select(ticket).mappings()``)


class UnknownPermission(OtrsExtError):
    """A permission key OTRS does not know: a programming error, not a denial."""

    status = 500
    code = "unknown-permission"


def implied_keys(permission: str) -> tuple[str, ...]:
    """The ``group_user.permission_key`` values that grant ``permission``: itself and ``rw``."""
    if permission not in PERMISSION_KEYS:
        raise UnknownPermission(f"unknown permission {permission!r}; use one of {', '.join(PERMISSION_KEYS)}")
    return ("rw",) if permission == "rw" else (permission, "rw")


@dataclass(frozen=True)
class AgentReadScope:
    """The tickets a valid agent may read (``ro``), as ids: his queues, and the tickets outside them he sees
    as owner, responsible (``Ticket::Responsible``) or watcher (``Ticket::Watcher``)."""

    user_id: int
    queues: frozenset[int]  # the queues whose group grants him ``ro``
    every_queue: bool  # ``queues`` are all queues: owner, responsible and watcher rights add nothing
    # the tickets outside ``queues`` that are his (owner, responsible, watched), sorted; None when there are more
    # than the caller wanted listed: then the grants themselves (``responsible``, ``watched``) describe them
    other_tickets: tuple[int, ...] | None = ()
    responsible: bool = False  # he sees the tickets he is responsible for (Ticket::Responsible)
    watched: tuple[int, ...] = ()  # the tickets he watches, sorted (only when ``other_tickets`` is None)


@dataclass(frozen=True)
class CustomerReadScope:
    """The tickets a customer user may read, as values: his own by login, his companies' (unless
    ``CustomerDisableCompanyTicketAccess``), and only in queues with a valid group."""

    login: str
    company_ids: frozenset[str]  # as stored; empty when company access is off
    queues: tuple[int, ...]  # queues whose group is valid, sorted (never empty: no queue = no scope)


class Permissions:
    """Agent and customer permission checks on the OTRS tables; every method takes the caller's connection."""

    def __init__(self, schema: OtrsSchema, *, responsible_enabled: bool = False,
                 watcher_enabled: bool = False, customer_company_access: bool = True, grant_ttl: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``responsible_enabled`` = SysConfig ``Ticket::Responsible``, ``watcher_enabled`` =
        ``Ticket::Watcher``, ``customer_company_access`` = not
        ``Ticket::Frontend::CustomerDisableCompanyTicketAccess``. ``grant_ttl``: seconds a queue grant is
        remembered for ``can_queue(..., remembered=True)``; 0 = always ask."""
        self.schema = schema
        self.grant_ttl = grant_ttl
        self._clock = clock
        self._grants: dict[tuple[int, int, str], float] = {}  # (agent, queue, permission) -> when it was seen
        self.responsible_enabled = responsible_enabled
        self.watcher_enabled = watcher_enabled
        self.customer_company_access = customer_company_access
        # built once per permission (and reused with the agent's id as parameter): every request asks
        self._group_queries: dict[str, Any] = {}
        self._queue_grant_queries: dict[str, Any] = {}
        self._queue_query = self._build_queue_query()

    # --- agents: groups and queues ----------------------------------------------------------------
    def agent_group_ids(self, conn: Connection, user_id: int, permission: str) -> frozenset[int]:
        """Valid groups on which the valid agent ``user_id`` holds ``permission`` (or ``rw``), directly or
        through a valid role."""
        query = self._group_queries.get(permission)
        if query is None:
            query = self._group_queries[permission] = self._build_group_query(permission)
        return frozenset(row[0] for row in conn.execute(query, {"agent_id": user_id}))

    def _build_group_query(self, permission: str) -> Any:
        keys = implied_keys(permission)
        user_id = bindparam("agent_id")
        t = self.schema.tables
        gu, ru, gr, roles, groups, users = t.group_user, t.role_user, t.group_role, t.roles, t.groups, t.users
        direct = (
            select(gu.c.group_id)
            .join(users, users.c.id == gu.c.user_id)
            .join(groups, groups.c.id == gu.c.group_id)
            .where(gu.c.user_id == user_id, gu.c.permission_key.in_(keys),
                   users.c.valid_id == VALID_ID, groups.c.valid_id == VALID_ID)
        )
        if self.schema.traits.group_user_permission_value:
            # OTRS 5 kept a row per key with value 0 for "not granted"
            direct = direct.where(gu.c.permission_value == 1)
        via_roles = (
            select(gr.c.group_id)
            .select_from(ru)
            .join(users, users.c.id == ru.c.user_id)
            .join(roles, roles.c.id == ru.c.role_id)
            .join(gr, gr.c.role_id == ru.c.role_id)
            .join(groups, groups.c.id == gr.c.group_id)
            .where(ru.c.user_id == user_id, gr.c.permission_key.in_(keys), gr.c.permission_value == 1,
                   users.c.valid_id == VALID_ID, roles.c.valid_id == VALID_ID, groups.c.valid_id == VALID_ID)
        )
        return union(direct, via_roles)

    def agent_queue_ids(self, conn: Connection, user_id: int, permission: str, *,
                        valid_only: bool = False) -> frozenset[int]:
        """Queues whose group grants ``permission`` to the agent (``ro`` to see, ``move_into`` to move into,
        ``create`` to create in). ``valid_only`` drops invalid queues, as OTRS's selection lists do."""
        groups = self.agent_group_ids(conn, user_id, permission)
        if not groups:
            return frozenset()
        q = self.schema.tables.queue
        query = select(q.c.id).where(q.c.group_id.in_(groups))
        if valid_only:
            query = query.where(q.c.valid_id == VALID_ID)
        return frozenset(row[0] for row in conn.execute(query))

    def can_queue(self, conn: Connection, user_id: int, queue_id: int, permission: str, *,
                  remembered: bool = False) -> bool:
        """Whether the agent holds ``permission`` on the group of queue ``queue_id`` (raises NotFound).
        ``remembered``: a grant found within the last ``grant_ttl`` seconds answers without a query."""
        key = (user_id, queue_id, permission)
        if remembered and self.grant_ttl > 0:
            seen = self._grants.get(key)  # a dict read and write are atomic: no lock for the threads
            if seen is not None and self._clock() - seen < self.grant_ttl:
                return True
        allowed = self._ask_queue(conn, user_id, queue_id, permission)
        if allowed and self.grant_ttl > 0:
            if len(self._grants) >= GRANTS_KEPT:
                self._grants.clear()
            self._grants[key] = self._clock()
        elif not allowed:
            self._grants.pop(key, None)
        return allowed

    def _ask_queue(self, conn: Connection, user_id: int, queue_id: int, permission: str) -> bool:
        query = self._queue_grant_queries.get(permission)
        if query is None:
            # one statement for both reads (the queue's group, the agent's groups): every create asks
            q = self.schema.tables.queue
            query = self._queue_grant_queries[permission] = select(
                q.c.group_id.in_(self._build_group_query(permission))).where(q.c.id == bindparam("queue_id"))
        row = conn.execute(query, {"queue_id": queue_id, "agent_id": user_id}).first()
        if row is None:
            raise NotFound(f"queue {queue_id} does not exist")
        return bool(row[0])

    def require_queue(self, conn: Connection, user_id: int, queue_id: int, permission: str, *,
                      remembered: bool = False) -> None:
        """Raise ``PermissionDenied`` unless the agent holds ``permission`` on the queue's group."""
        if not self.can_queue(conn, user_id, queue_id, permission, remembered=remembered):
            queue = self._queue(conn, queue_id)
            group = self._group_name(conn, queue["group_id"])
            raise PermissionDenied(
                f"{self._agent_name(conn, user_id)} has no {permission!r} permission on queue "
                f"{queue['name']!r}; grant {permission!r} or 'rw' on group {group!r} to the agent or to "
                "one of its roles"
            )

    # --- agents: tickets --------------------------------------------------------------------------
    def can_agent(self, conn: Connection, user_id: int, ticket: TicketRef, permission: str) -> bool:
        """OTRS's ``TicketPermission``: owner, responsible, group, then watcher; the first grant wins."""
        implied_keys(permission)  # an unknown key is a bug even where the owner shortcut would answer
        if not self._agent_valid(conn, user_id):
            # OTRS refuses the login of an invalid agent, so such an agent can do nothing at all.
            return False
        row = self._ticket(conn, ticket, ("id", "queue_id", "user_id", "responsible_user_id"))
        if row["user_id"] == user_id:
            return True
        if self.responsible_enabled and row["responsible_user_id"] == user_id:
            return True
        if self._queue(conn, row["queue_id"])["group_id"] in self.agent_group_ids(conn, user_id, permission):
            return True
        if self.watcher_enabled and permission == "ro":
            w = self.schema.tables.ticket_watcher
            watching = conn.execute(
                select(w.c.ticket_id).where(w.c.ticket_id == row["id"], w.c.user_id == user_id).limit(1)
            ).first()
            if watching is not None:
                return True
        return False

    def require_agent(self, conn: Connection, user_id: int, ticket: TicketRef, permission: str) -> None:
        """Raise ``PermissionDenied`` naming the permission, the ticket, its queue and the group to grant."""
        if self.can_agent(conn, user_id, ticket, permission):
            return
        row = self._ticket(conn, ticket, ("id", "tn", "queue_id"))
        queue = self._queue(conn, row["queue_id"])
        raise PermissionDenied(
            f"{self._agent_name(conn, user_id)} has no {permission!r} permission on ticket {row['tn']} "
            f"(id {row['id']}) in queue {queue['name']!r}; grant {permission!r} or 'rw' on group "
            f"{self._group_name(conn, queue['group_id'])!r} to the agent or to one of its roles"
        )

    require_ticket = require_agent  # the name the ticket service uses

    def require_responsible_feature(self) -> None:
        """OTRS offers the responsible only with ``Ticket::Responsible`` on (its screens hide the field otherwise);
        otrs-ext's API and CLI refuse to set one then, rather than write a value OTRS does not use."""
        if not self.responsible_enabled:
            raise PermissionDenied(
                "the ticket responsible feature is off (OTRS Ticket::Responsible); if OTRS has it on, set "
                "OTRS_EXT_TICKET_RESPONSIBLE=true for otrs-ext too"
            )

    def agent_ticket_filter(self, conn: Connection, user_id: int, permission: str = "ro", *,
                            queues: frozenset[int] | None = None) -> ColumnElement[bool]:
        """A WHERE clause on ``schema.tables.ticket`` true exactly for the tickets ``can_agent`` allows.

        The agent's queues are resolved now (one query; ``queues`` passes them when the caller has just
        resolved them for ``permission``), so the clause is a plain ``queue_id IN (...)`` the ``ticket_queue_id``
        index serves; build a new clause per request, not per process.
        """
        implied_keys(permission)
        if not self._agent_valid(conn, user_id):
            return false()
        t = self.schema.tables.ticket
        grants: list[ColumnElement[bool]] = [t.c.user_id == user_id]
        if self.responsible_enabled:
            grants.append(t.c.responsible_user_id == user_id)
        if queues is None:
            queues = self.agent_queue_ids(conn, user_id, permission)
        if queues:
            grants.append(t.c.queue_id.in_(sorted(queues)))
        if self.watcher_enabled and permission == "ro":
            w = self.schema.tables.ticket_watcher
            grants.append(t.c.id.in_(select(w.c.ticket_id).where(w.c.user_id == user_id)))
        return or_(*grants)

    def agent_read_scope(self, conn: Connection, user_id: int, *, listed: int) -> AgentReadScope | None:
        """What ``agent_ticket_filter(..., "ro")`` allows, as ids for a filter that cannot run SQL (the search
        index); None when the agent is invalid and may see nothing. At most ``listed`` tickets outside his
        queues are listed (``other_tickets``), more are described by the grants instead."""
        if not self._agent_valid(conn, user_id):
            return None
        queues = self.agent_queue_ids(conn, user_id, "ro")
        q = self.schema.tables.queue
        if queues >= set(conn.execute(select(q.c.id)).scalars()):
            return AgentReadScope(user_id, queues, every_queue=True)
        # tickets outside those queues the agent sees as owner, responsible or watcher: usually none or a few
        t = self.schema.tables.ticket
        personal = [t.c.user_id == user_id]
        if self.responsible_enabled:
            personal.append(t.c.responsible_user_id == user_id)
        if self.watcher_enabled:
            w = self.schema.tables.ticket_watcher
            personal.append(t.c.id.in_(select(w.c.ticket_id).where(w.c.user_id == user_id)))
        outside = select(t.c.id).where(or_(*personal))
        if queues:
            outside = outside.where(t.c.queue_id.not_in(sorted(queues)))
        other = sorted(conn.execute(outside.limit(listed + 1)).scalars())
        if len(other) <= listed:
            return AgentReadScope(user_id, queues, every_queue=False, other_tickets=tuple(other))
        watched: list[int] = []
        if self.watcher_enabled:
            w = self.schema.tables.ticket_watcher
            watched = sorted(conn.execute(select(w.c.ticket_id).where(w.c.user_id == user_id)).scalars())
        return AgentReadScope(user_id, queues, every_queue=False, other_tickets=None,
                              responsible=self.responsible_enabled, watched=tuple(watched))

    # --- customers --------------------------------------------------------------------------------
    def customer_company_ids(self, conn: Connection, login: str) -> frozenset[str]:
        """The customer ids (companies) whose tickets ``login`` may see: the primary ``customer_id`` and the
        ``customer_user_customer`` rows (OTRS 6+), as stored (compare them case-insensitively)."""
        return self._customer(conn, login)[1]

    def can_customer(self, conn: Connection, login: str, ticket: TicketRef) -> bool:
        """OTRS's ``CustomerTicketPermission`` with the default modules (see the module docstring)."""
        valid, company_ids = self._customer(conn, login)
        if not valid:
            return False
        row = self._ticket(conn, ticket, ("id", "queue_id", "customer_id", "customer_user_id"))
        if not self._queue_group_valid(conn, row["queue_id"]):
            return False  # GroupCheck is "required": no other module can grant past it
        if row["customer_user_id"] and row["customer_user_id"].lower() == login.lower():
            return True
        if self.customer_company_access and row["customer_id"]:
            return row["customer_id"].lower() in {c.lower() for c in company_ids}
        return False

    def require_customer(self, conn: Connection, login: str, ticket: TicketRef) -> None:
        """Raise ``PermissionDenied`` unless the customer user may see the ticket.

        The message names no other customer or company: it may reach the customer."""
        if not self.can_customer(conn, login, ticket):
            row = self._ticket(conn, ticket, ("id",))
            raise PermissionDenied(
                f"customer user {login!r} may not access ticket {row['id']}: it is not theirs"
                + (" nor one of their companies'" if self.customer_company_access else "")
            )

    def customer_ticket_filter(self, conn: Connection, login: str) -> ColumnElement[bool]:
        """A WHERE clause on ``schema.tables.ticket`` true exactly for the tickets ``can_customer`` allows.

        ``customer_user_id`` and ``customer_id`` are compared with ``=``/``IN`` so their indexes serve the
        customer portal's lists; that is case-insensitive under the ``*_ci`` collations OTRS installs with.
        """
        valid, company_ids = self._customer(conn, login)
        if not valid:
            return false()
        t, q, g = self.schema.tables.ticket, self.schema.tables.queue, self.schema.tables.groups
        grants: list[ColumnElement[bool]] = [t.c.customer_user_id == login]
        if self.customer_company_access and company_ids:
            grants.append(t.c.customer_id.in_(sorted(company_ids)))
        visible_queues = select(q.c.id).join(g, g.c.id == q.c.group_id).where(g.c.valid_id == VALID_ID)
        return and_(t.c.queue_id.in_(visible_queues), or_(*grants))

    def customer_read_scope(self, conn: Connection, login: str) -> CustomerReadScope | None:
        """What ``customer_ticket_filter`` allows, as values for a filter that cannot run SQL (the search index);
        None when the customer user may see nothing (an invalid ``customer_user`` row, no valid queue group)."""
        valid, company_ids = self._customer(conn, login)
        if not valid:
            return None
        q, g = self.schema.tables.queue, self.schema.tables.groups
        queues = sorted(r[0] for r in conn.execute(
            select(q.c.id).join(g, g.c.id == q.c.group_id).where(g.c.valid_id == VALID_ID)))
        if not queues:
            return None
        return CustomerReadScope(login, company_ids if self.customer_company_access else frozenset(), tuple(queues))

    # --- plumbing ---------------------------------------------------------------------------------
    def _ticket(self, conn: Connection, ticket: TicketRef, needed: tuple[str, ...]) -> Mapping[str, Any]:
        """The ticket row as given if it holds ``needed``, else read by id (``NotFound`` if it is gone)."""
        if isinstance(ticket, Mapping):
            if all(k in ticket for k in needed):
                return ticket
            ticket_id = ticket["id"]
        else:
            ticket_id = ticket
        t = self.schema.tables.ticket
        row = conn.execute(select(*(t.c[k] for k in needed)).where(t.c.id == ticket_id)).mappings().first()
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        return dict(row)

    def _build_queue_query(self) -> Any:
        q = self.schema.tables.queue
        return select(q.c.id, q.c.name, q.c.group_id).where(q.c.id == bindparam("queue_id"))

    def _queue(self, conn: Connection, queue_id: int) -> Mapping[str, Any]:
        row = conn.execute(self._queue_query, {"queue_id": queue_id}).mappings().first()
        if row is None:
            raise NotFound(f"queue {queue_id} does not exist")
        return dict(row)

    def _queue_group_valid(self, conn: Connection, queue_id: int) -> bool:
        q, g = self.schema.tables.queue, self.schema.tables.groups
        found = conn.execute(
            select(g.c.id).join(q, q.c.group_id == g.c.id).where(q.c.id == queue_id, g.c.valid_id == VALID_ID)
        ).first()
        return found is not None

    def _agent_valid(self, conn: Connection, user_id: int) -> bool:
        u = self.schema.tables.users
        return conn.execute(select(u.c.valid_id).where(u.c.id == user_id)).scalar() == VALID_ID

    def _agent_name(self, conn: Connection, user_id: int) -> str:
        u = self.schema.tables.users
        row = conn.execute(select(u.c.login, u.c.valid_id).where(u.c.id == user_id)).first()
        if row is None:
            return f"agent id {user_id} (no such user)"
        return f"agent {row.login!r} (id {user_id}{'' if row.valid_id == VALID_ID else ', invalid'})"

    def _group_name(self, conn: Connection, group_id: int) -> str:
        g = self.schema.tables.groups
        row = conn.execute(select(g.c.name, g.c.valid_id).where(g.c.id == group_id)).first()
        if row is None:
            return f"id {group_id}"
        return row.name if row.valid_id == VALID_ID else f"{row.name} (invalid: set it valid first)"

    def _customer(self, conn: Connection, login: str) -> tuple[bool, frozenset[str]]:
        """(may log in, company ids) of a customer user.

        A login without a ``customer_user`` row may live in another backend (LDAP): it keeps its login match
        and its ``customer_user_customer`` rows. A row with ``valid_id != 1`` cannot log in, so sees nothing.
        """
        t = self.schema.tables
        cu = t.customer_user
        row = conn.execute(select(cu.c.customer_id, cu.c.valid_id).where(cu.c.login == login)).first()
        if row is not None and row.valid_id != VALID_ID:
            return False, frozenset()
        ids = {row.customer_id} if row is not None and row.customer_id else set()
        if self.schema.traits.customer_companies:
            cuc = t.customer_user_customer
            extra = conn.execute(select(cuc.c.customer_id).where(cuc.c.user_id == login))
            ids.update(r[0] for r in extra if r[0])
        return True, frozenset(ids)
