"""Create (or find) the seeded organisation in the OTRS database: groups, roles, queues, agents, customers.

Idempotent by name: a group, role, queue, system address, agent login, company id or customer login that
already exists is reused and its permission / preference / link rows are left as they are, so a second run
adds tickets but no duplicate people. Permissions are then read back from the database (``group_user`` plus
``role_user`` → ``group_role`` with ``permission_value = 1``, valid roles and groups only), so owners are
drawn from the agents OTRS itself would let own a ticket in that queue.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select, update

from otrs_ext.errors import ConfigurationError
from schema_maps import OtrsSchema

from .roster import (
    DEPARTMENTS,
    ROLE_KEYS,
    CustomerSpec,
    agent_roster,
    customer_roster,
)
from .vocabulary import PROVIDER_DOMAIN

OWNER_KEYS = frozenset({"owner", "rw"})


@dataclass(frozen=True)
class Agent:
    id: int
    login: str
    first_name: str
    last_name: str
    email: str
    lang: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Queue:
    id: int
    name: str
    group_id: int
    address: str  # system address e-mail
    title_ru: str
    title_en: str


@dataclass
class Org:
    """What the ticket generator needs to know about the organisation, with real database ids."""

    agents: dict[str, Agent]  # login -> agent
    queues: dict[str, Queue]  # full name -> queue
    customers: list[CustomerSpec]
    owners: dict[int, tuple[Agent, ...]]  # queue id -> agents holding owner or rw on its group
    readers: dict[int, frozenset[int]]  # agent id -> group ids he holds ro or rw on
    lead: Agent
    created: dict[str, int] = field(default_factory=dict)  # table -> rows inserted by this run


def sha256_hex(password: str) -> str:
    """``users.pw`` as Znuny's default SHA-256 crypt type stores it."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def _fit(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Cut string values to the mapped column length (OTOBO shortened indexed varchars to 191)."""
    for name, value in row.items():
        if isinstance(value, str):
            length = getattr(table.c[name].type, "length", None)
            if length and len(value) > length:
                row[name] = value[:length]
    return row


class _Inserter:
    def __init__(self, conn: Connection, schema: OtrsSchema, now: datetime) -> None:
        self.conn, self.schema, self.now = conn, schema, now
        self.created: dict[str, int] = defaultdict(int)

    def audit(self) -> dict[str, Any]:
        return {"create_time": self.now, "create_by": 1, "change_time": self.now, "change_by": 1}

    def insert(self, uniform: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            table = self.schema.tables[uniform]
            self.conn.execute(table.insert(), [_fit(table, r) for r in rows])
            self.created[table.name] += len(rows)

    def ids(self, uniform: str, column: str, names: list[str]) -> dict[str, int]:
        table = self.schema.tables[uniform]
        found: dict[str, int] = {}
        for start in range(0, len(names), 1000):
            chunk = names[start:start + 1000]
            found.update({n: i for i, n in self.conn.execute(
                select(table.c.id, table.c[column]).where(table.c[column].in_(chunk)))})
        return found

    def ensure_named(self, uniform: str, column: str, rows: list[dict[str, Any]]
                     ) -> tuple[dict[str, int], set[str]]:
        """Insert the rows whose name is missing; return name -> id and the set of names inserted now."""
        names = [r[column] for r in rows]
        have = self.ids(uniform, column, names)
        new = [r for r in rows if r[column] not in have]
        self.insert(uniform, new)
        return self.ids(uniform, column, names), {r[column] for r in new}


def _min_id(conn: Connection, table: Table, where: Any = None) -> int:
    query = select(func.min(table.c.id))
    if where is not None:
        query = query.where(where)
    value = conn.execute(query).scalar()
    return int(value) if value is not None else 1


def ensure_org(conn: Connection, schema: OtrsSchema, *, tickets: int, now: datetime) -> Org:
    """Make sure the organisation sized for ``tickets`` exists and return it with its database ids."""
    ins = _Inserter(conn, schema, now)
    t = schema.tables
    group_perm_value = {"permission_value": 1} if schema.traits.group_user_permission_value else {}

    groups, _ = ins.ensure_named("groups", "name", [
        {"name": d.group, "comments": f"{d.name} department", "valid_id": 1, **ins.audit()}
        for d in DEPARTMENTS])
    roles, new_roles = ins.ensure_named("roles", "name", [
        {"name": d.role, "comments": f"Agents of {d.name}", "valid_id": 1, **ins.audit()}
        for d in DEPARTMENTS])
    ins.insert("group_role", [
        {"role_id": roles[d.role], "group_id": groups[d.group], "permission_key": key, "permission_value": 1,
         **ins.audit()}
        for d in DEPARTMENTS if d.role in new_roles for key in (("rw",) if d.role_rw else ROLE_KEYS)])

    # Queues and their system addresses point at each other: addresses first (parked on an existing queue),
    # then the queues, then the addresses are moved to their department's root queue.
    parking = _min_id(conn, t.queue)
    addresses = {d.name: f"{d.mailbox}@{PROVIDER_DOMAIN}" for d in DEPARTMENTS}
    addr_ids, new_addr = ins.ensure_named("system_address", "value0", [
        {"value0": addresses[d.name], "value1": d.title_ru, "queue_id": parking, "comments": f"{d.name} mail",
         "valid_id": 1, **ins.audit()} for d in DEPARTMENTS])
    fup = t.follow_up_possible
    follow_up = conn.execute(select(fup.c.id).where(fup.c.name == "possible")).scalar() or _min_id(conn, fup)
    queue_rows = [
        {"name": q, "group_id": groups[d.group], "unlock_timeout": 0, "first_response_time": 0,
         "first_response_notify": 0, "update_time": 0, "update_notify": 0, "solution_time": 0,
         "solution_notify": 0, "system_address_id": addr_ids[addresses[d.name]],
         "salutation_id": _min_id(conn, t.salutation, t.salutation.c.valid_id == 1),
         "signature_id": _min_id(conn, t.signature, t.signature.c.valid_id == 1),
         "follow_up_id": follow_up, "follow_up_lock": 0, "comments": f"{d.name}: {q.rpartition('::')[2]}",
         "valid_id": 1, **ins.audit()}
        for d in DEPARTMENTS for q in d.queues]
    queue_ids, _ = ins.ensure_named("queue", "name", queue_rows)
    for d in DEPARTMENTS:
        if addresses[d.name] in new_addr:
            conn.execute(update(t.system_address).where(t.system_address.c.id == addr_ids[addresses[d.name]])
                         .values(queue_id=queue_ids[d.queues[0]]))

    specs = agent_roster(tickets)
    agent_ids, new_agents = ins.ensure_named("users", "login", [
        {"login": a.login, "pw": sha256_hex(a.login), "title": None, "first_name": a.first_name,
         "last_name": a.last_name, "valid_id": 1, **ins.audit()} for a in specs])
    fresh = [a for a in specs if a.login in new_agents]
    ins.insert("user_preferences", [
        {"user_id": agent_ids[a.login], "preferences_key": key, "preferences_value": value.encode("utf-8")}
        for a in fresh for key, value in (("UserEmail", a.email), ("UserLanguage", a.lang))])
    dept_of = {d.name: d for d in DEPARTMENTS}
    ins.insert("role_user", [
        {"user_id": agent_ids[a.login], "role_id": roles[dept_of[a.department].role], **ins.audit()}
        for a in fresh if a.via_role])
    direct = [(a, dept_of[a.department].group, k) for a in fresh for k in a.direct_keys]
    direct += [(a, g, k) for a in fresh for g, k in a.extra]
    ins.insert("group_user", [
        {"user_id": agent_ids[a.login], "group_id": groups[g], "permission_key": k, **group_perm_value,
         **ins.audit()} for a, g, k in direct])

    customers = customer_roster(tickets)
    _ensure_customers(ins, customers)

    agents = {a.login: Agent(agent_ids[a.login], a.login, a.first_name, a.last_name, a.email, a.lang)
              for a in specs}
    queues = {q: Queue(queue_ids[q], q, groups[d.group], addresses[d.name], d.title_ru, d.title_en)
              for d in DEPARTMENTS for q in d.queues}
    owner_groups, readers = _permissions(conn, schema, [a.id for a in agents.values()])
    by_id = {a.id: a for a in agents.values()}
    owners = {q.id: tuple(by_id[u] for u in sorted(owner_groups) if q.group_id in owner_groups[u])
              for q in queues.values()}
    empty = [q.name for q in queues.values() if not owners[q.id]]
    if empty:
        raise ConfigurationError(f"no seeded agent may own tickets in {', '.join(empty)}; check the group "
                                 "permissions of the seeded roles and agents (owner or rw)")
    return Org(agents, queues, customers, owners, readers, agents[specs[0].login], dict(ins.created))


def _ensure_customers(ins: _Inserter, customers: list[CustomerSpec]) -> None:
    companies = {c.company.customer_id: c.company for c in customers}
    table = ins.schema.tables.customer_company
    have = {r for (r,) in ins.conn.execute(select(table.c.customer_id))} if companies else set()
    ins.insert("customer_company", [
        {"customer_id": c.customer_id, "name": c.name, "street": None, "zip": None, "city": c.city,
         "country": "Россия" if c.lang == "ru" else "United Kingdom", "url": f"https://{c.domain}",
         "comments": None, "valid_id": 1, **ins.audit()}
        for c in companies.values() if c.customer_id not in have])
    _, new = ins.ensure_named("customer_user", "login", [
        {"login": c.login, "email": c.email, "customer_id": c.customer_id, "pw": sha256_hex(c.login),
         "title": None, "first_name": c.first_name, "last_name": c.last_name, "phone": c.phone, "fax": None,
         "mobile": None, "street": None, "zip": None, "city": c.company.city,
         "country": "Россия" if c.lang == "ru" else "United Kingdom", "comments": None, "valid_id": 1,
         **ins.audit()} for c in customers])
    if ins.schema.traits.customer_companies:
        ins.insert("customer_user_customer", [
            {"user_id": c.login, "customer_id": c.extra_company, **ins.audit()}
            for c in customers if c.login in new and c.extra_company])


def _permissions(conn: Connection, schema: OtrsSchema, user_ids: list[int]
                 ) -> tuple[dict[int, set[int]], dict[int, frozenset[int]]]:
    """(agent id -> groups with owner/rw, agent id -> groups with ro/rw) from direct and role rows."""
    t = schema.tables
    gu, ru, gr, roles, groups = t.group_user, t.role_user, t.group_role, t.roles, t.groups
    valid_groups = {i for (i,) in conn.execute(select(groups.c.id).where(groups.c.valid_id == 1))}
    rows: list[tuple[int, int, str]] = []
    query = select(gu.c.user_id, gu.c.group_id, gu.c.permission_key).where(gu.c.user_id.in_(user_ids))
    if schema.traits.group_user_permission_value:  # OTRS 5 kept rows with value 0
        query = query.where(gu.c.permission_value == 1)
    rows += conn.execute(query).all()
    rows += conn.execute(
        select(ru.c.user_id, gr.c.group_id, gr.c.permission_key)
        .join(gr, gr.c.role_id == ru.c.role_id).join(roles, roles.c.id == ru.c.role_id)
        .where(ru.c.user_id.in_(user_ids), gr.c.permission_value == 1, roles.c.valid_id == 1)).all()
    owner: dict[int, set[int]] = defaultdict(set)
    read: dict[int, set[int]] = defaultdict(set)
    for user, group, key in rows:
        if group not in valid_groups:
            continue
        if key in OWNER_KEYS:
            owner[user].add(group)
        if key in ("ro", "rw"):
            read[user].add(group)
    return dict(owner), {u: frozenset(g) for u, g in read.items()}
