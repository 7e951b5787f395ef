"""Agent and customer permissions as OTRS grants them, on Znuny 7.1, OTRS 5 and OTOBO 11.

One database per generation for the module; every test runs in a transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from factories import (
    add_agent,
    add_customer_company,
    add_customer_membership,
    add_customer_user,
    add_group,
    add_queue,
    add_role,
    add_ticket,
    add_watcher,
    assign_role,
    grant,
    grant_role,
    unique,
)
from sqlalchemy import Connection, create_engine, select

from otrs_ext.errors import NotFound, PermissionDenied
from otrs_ext.tickets.permissions import PERMISSION_KEYS, Permissions, UnknownPermission
from schema_maps import OtrsSchema
from schema_maps.install import install

GENERATIONS = ["znuny71", "otrs5", "otobo11"]
OTHER_KEYS = [k for k in PERMISSION_KEYS if k != "rw"]


@pytest.fixture(scope="module", params=GENERATIONS)
def generation_db(request: pytest.FixtureRequest, mariadb_server) -> Iterator[tuple[object, OtrsSchema]]:
    name = f"perm_{request.param}_{unique('db').replace('-', '_')}"
    mariadb_server.create_database(name)
    engine = create_engine(mariadb_server.url(name))
    with engine.begin() as conn:
        schema = install(conn, request.param)
    yield engine, schema
    engine.dispose()
    mariadb_server.drop_database(name)


@dataclass
class Db:
    conn: Connection
    schema: OtrsSchema

    def perms(self, **options: bool) -> Permissions:
        return Permissions(self.schema, **options)

    def queue_in_new_group(self, *, group_valid: bool = True) -> tuple[int, int]:
        group = add_group(self.conn, self.schema, valid=group_valid)
        return group, add_queue(self.conn, self.schema, group_id=group)

    def ticket_ids(self, where) -> set[int]:
        t = self.schema.tables.ticket
        return {r[0] for r in self.conn.execute(select(t.c.id).where(where))}


@pytest.fixture
def db(generation_db) -> Iterator[Db]:
    engine, schema = generation_db
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield Db(conn, schema)
        finally:
            transaction.rollback()


# --- agents: group grants -------------------------------------------------------------------------
@pytest.mark.parametrize("key", PERMISSION_KEYS)
def test_direct_grant_gives_exactly_that_key_and_rw_gives_all(db: Db, key: str) -> None:
    group, queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema)
    grant(db.conn, db.schema, agent, group, key)
    ticket = add_ticket(db.conn, db.schema, queue_id=queue)
    p = db.perms()
    for asked in PERMISSION_KEYS:
        expected = key == "rw" or asked == key
        assert (group in p.agent_group_ids(db.conn, agent, asked)) is expected, asked
        assert (queue in p.agent_queue_ids(db.conn, agent, asked)) is expected, asked
        assert p.can_agent(db.conn, agent, ticket, asked) is expected, asked
        assert p.can_queue(db.conn, agent, queue, asked) is expected, asked


@pytest.mark.parametrize("key", ["ro", "note", "rw"])
def test_role_grant_counts_only_with_permission_value_1(db: Db, key: str) -> None:
    granted_group, granted_queue = db.queue_in_new_group()
    zero_group, zero_queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema)
    role = add_role(db.conn, db.schema)
    assign_role(db.conn, db.schema, agent, role)
    grant_role(db.conn, db.schema, role, granted_group, key)
    grant_role(db.conn, db.schema, role, zero_group, *PERMISSION_KEYS, value=0)
    p = db.perms()
    assert p.agent_group_ids(db.conn, agent, key) == {granted_group}
    assert p.can_agent(db.conn, agent, add_ticket(db.conn, db.schema, queue_id=granted_queue), key)
    assert not p.can_agent(db.conn, agent, add_ticket(db.conn, db.schema, queue_id=zero_queue), key)
    if key != "rw":
        assert p.agent_group_ids(db.conn, agent, "rw") == frozenset()


def test_direct_and_role_grants_add_up(db: Db) -> None:
    direct_group, _ = db.queue_in_new_group()
    role_group, _ = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema)
    role = add_role(db.conn, db.schema)
    grant(db.conn, db.schema, agent, direct_group, "ro")
    grant_role(db.conn, db.schema, role, role_group, "rw")
    assign_role(db.conn, db.schema, agent, role)
    p = db.perms()
    assert p.agent_group_ids(db.conn, agent, "ro") == {direct_group, role_group}
    assert p.agent_group_ids(db.conn, agent, "owner") == {role_group}


def test_otrs5_group_user_permission_value_0_is_not_a_grant(db: Db) -> None:
    if not db.schema.traits.group_user_permission_value:
        pytest.skip(f"{db.schema.label} stores only granted keys")
    group, queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema)
    grant(db.conn, db.schema, agent, group, *PERMISSION_KEYS, value=0)
    grant(db.conn, db.schema, agent, group, "ro")
    p = db.perms()
    assert p.agent_group_ids(db.conn, agent, "ro") == {group}
    for key in PERMISSION_KEYS[1:]:
        assert p.agent_group_ids(db.conn, agent, key) == frozenset(), key


def test_invalid_role_is_ignored(db: Db) -> None:
    group, queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema)
    role = add_role(db.conn, db.schema, valid=False)
    grant_role(db.conn, db.schema, role, group, "rw")
    assign_role(db.conn, db.schema, agent, role)
    p = db.perms()
    assert p.agent_group_ids(db.conn, agent, "ro") == frozenset()
    assert not p.can_agent(db.conn, agent, add_ticket(db.conn, db.schema, queue_id=queue), "ro")


def test_invalid_group_is_ignored_directly_and_through_roles(db: Db) -> None:
    group, queue = db.queue_in_new_group(group_valid=False)
    direct = add_agent(db.conn, db.schema)
    grant(db.conn, db.schema, direct, group, "rw")
    via_role = add_agent(db.conn, db.schema)
    role = add_role(db.conn, db.schema)
    grant_role(db.conn, db.schema, role, group, "rw")
    assign_role(db.conn, db.schema, via_role, role)
    ticket = add_ticket(db.conn, db.schema, queue_id=queue)
    p = db.perms()
    for agent in (direct, via_role):
        assert p.agent_group_ids(db.conn, agent, "ro") == frozenset()
        assert not p.can_agent(db.conn, agent, ticket, "ro")
    with pytest.raises(PermissionDenied, match="invalid: set it valid first"):
        p.require_agent(db.conn, direct, ticket, "ro")


def test_invalid_agent_has_no_permission_at_all_even_as_owner(db: Db) -> None:
    group, queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema, valid=False)
    grant(db.conn, db.schema, agent, group, "rw")
    role = add_role(db.conn, db.schema)
    grant_role(db.conn, db.schema, role, group, "rw")
    assign_role(db.conn, db.schema, agent, role)
    owned = add_ticket(db.conn, db.schema, queue_id=queue, user_id=agent, responsible_user_id=agent)
    p = db.perms(responsible_enabled=True, watcher_enabled=True)
    add_watcher(db.conn, db.schema, owned, agent)
    assert p.agent_group_ids(db.conn, agent, "ro") == frozenset()
    for key in PERMISSION_KEYS:
        assert not p.can_agent(db.conn, agent, owned, key)
    assert db.ticket_ids(p.agent_ticket_filter(db.conn, agent, "ro")) == set()


def test_root_has_rw_on_the_standard_queues(db: Db) -> None:
    p = db.perms()
    assert p.agent_group_ids(db.conn, 1, "rw") >= {1, 2, 3}
    assert p.agent_queue_ids(db.conn, 1, "create") >= {1, 2, 3, 4}
    assert p.can_agent(db.conn, 1, 1, "rw")  # the welcome ticket


# --- agents: ticket modules -----------------------------------------------------------------------
def test_owner_is_always_allowed(db: Db) -> None:
    _, queue = db.queue_in_new_group()
    owner = add_agent(db.conn, db.schema)
    ticket = add_ticket(db.conn, db.schema, queue_id=queue, user_id=owner)
    p = db.perms()
    assert p.agent_group_ids(db.conn, owner, "ro") == frozenset()
    for key in PERMISSION_KEYS:
        assert p.can_agent(db.conn, owner, ticket, key), key
    p.require_agent(db.conn, owner, ticket, "rw")


@pytest.mark.parametrize("enabled", [False, True])
def test_responsible_is_allowed_only_with_ticket_responsible(db: Db, enabled: bool) -> None:
    _, queue = db.queue_in_new_group()
    responsible = add_agent(db.conn, db.schema)
    ticket = add_ticket(db.conn, db.schema, queue_id=queue, responsible_user_id=responsible)
    p = db.perms(responsible_enabled=enabled)
    for key in PERMISSION_KEYS:
        assert p.can_agent(db.conn, responsible, ticket, key) is enabled, key


@pytest.mark.parametrize("enabled", [False, True])
def test_watcher_may_only_read_and_only_with_ticket_watcher(db: Db, enabled: bool) -> None:
    _, queue = db.queue_in_new_group()
    watcher = add_agent(db.conn, db.schema)
    ticket = add_ticket(db.conn, db.schema, queue_id=queue)
    add_watcher(db.conn, db.schema, ticket, watcher)
    p = db.perms(watcher_enabled=enabled)
    assert p.can_agent(db.conn, watcher, ticket, "ro") is enabled
    for key in PERMISSION_KEYS[1:]:
        assert not p.can_agent(db.conn, watcher, ticket, key), key
    other = add_ticket(db.conn, db.schema, queue_id=queue)
    assert not p.can_agent(db.conn, watcher, other, "ro")


def test_ticket_given_as_row_or_id_and_missing_ticket(db: Db) -> None:
    group, queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema)
    grant(db.conn, db.schema, agent, group, "ro")
    ticket_id = add_ticket(db.conn, db.schema, queue_id=queue)
    t = db.schema.tables.ticket
    row = db.conn.execute(select(t).where(t.c.id == ticket_id)).mappings().one()
    p = db.perms()
    assert p.can_agent(db.conn, agent, row, "ro") and p.can_agent(db.conn, agent, dict(row), "ro")
    assert p.can_agent(db.conn, agent, {"id": ticket_id}, "ro")  # incomplete rows are completed by id
    with pytest.raises(NotFound):
        p.can_agent(db.conn, agent, 999_999_999, "ro")


def test_unknown_permission_is_an_error_not_a_denial(db: Db) -> None:
    p = db.perms()
    with pytest.raises(UnknownPermission, match="use one of ro, move_into"):
        p.agent_group_ids(db.conn, 1, "read")
    with pytest.raises(UnknownPermission):
        p.can_agent(db.conn, 1, 1, "write")


def test_require_agent_names_permission_ticket_queue_and_group(db: Db) -> None:
    group, queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema, login="alice.denied")
    grant(db.conn, db.schema, agent, group, "ro")
    ticket = add_ticket(db.conn, db.schema, queue_id=queue, tn="2024010110000017")
    p = db.perms()
    p.require_agent(db.conn, agent, ticket, "ro")
    with pytest.raises(PermissionDenied) as denied:
        p.require_agent(db.conn, agent, ticket, "note")
    queue_name, group_name = _names(db, queue, group)
    message = denied.value.message
    assert "'alice.denied'" in message and "'note'" in message and "2024010110000017" in message
    assert f"queue {queue_name!r}" in message and f"group {group_name!r}" in message
    assert denied.value.status == 403
    with pytest.raises(PermissionDenied, match=f"'move_into' permission on queue {queue_name!r}"):
        p.require_queue(db.conn, agent, queue, "move_into")
    p.require_queue(db.conn, agent, queue, "ro")


def test_agent_queue_ids_valid_only(db: Db) -> None:
    group = add_group(db.conn, db.schema)
    valid_queue = add_queue(db.conn, db.schema, group_id=group)
    invalid_queue = add_queue(db.conn, db.schema, group_id=group, valid=False)
    agent = add_agent(db.conn, db.schema)
    grant(db.conn, db.schema, agent, group, "move_into")
    p = db.perms()
    assert p.agent_queue_ids(db.conn, agent, "move_into") == {valid_queue, invalid_queue}
    assert p.agent_queue_ids(db.conn, agent, "move_into", valid_only=True) == {valid_queue}
    assert p.agent_queue_ids(db.conn, agent, "ro") == frozenset()


@pytest.mark.parametrize("options", [{}, {"responsible_enabled": True, "watcher_enabled": True}])
@pytest.mark.parametrize("key", ["ro", "note", "rw"])
def test_agent_ticket_filter_selects_exactly_what_can_agent_allows(db: Db, key: str, options) -> None:
    ro_group, ro_queue = db.queue_in_new_group()
    rw_group, rw_queue = db.queue_in_new_group()
    _, closed_queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema)
    grant(db.conn, db.schema, agent, ro_group, "ro")
    role = add_role(db.conn, db.schema)
    grant_role(db.conn, db.schema, role, rw_group, "rw")
    assign_role(db.conn, db.schema, agent, role)
    tickets = [
        add_ticket(db.conn, db.schema, queue_id=ro_queue),
        add_ticket(db.conn, db.schema, queue_id=rw_queue),
        add_ticket(db.conn, db.schema, queue_id=closed_queue),
        add_ticket(db.conn, db.schema, queue_id=closed_queue, user_id=agent),
        add_ticket(db.conn, db.schema, queue_id=closed_queue, responsible_user_id=agent),
        add_ticket(db.conn, db.schema, queue_id=closed_queue),
    ]
    add_watcher(db.conn, db.schema, tickets[-1], agent)
    p = db.perms(**options)
    allowed = {t for t in tickets if p.can_agent(db.conn, agent, t, key)}
    assert db.ticket_ids(p.agent_ticket_filter(db.conn, agent, key)) & set(tickets) == allowed
    assert tickets[1] in allowed and tickets[3] in allowed and tickets[2] not in allowed
    assert (tickets[0] in allowed) is (key == "ro")


# --- customers ------------------------------------------------------------------------------------
@dataclass
class CustomerWorld:
    login: str
    mine: int
    mine_other_case: int
    primary_company: int
    primary_company_other_case: int
    extra_company: int | None
    foreign: int
    invalid_group_mine: int


def _customer_world(db: Db, login: str | None = None) -> CustomerWorld:
    login = login or unique("Cust")
    primary = add_customer_company(db.conn, db.schema, unique("Acme"))
    extra = add_customer_company(db.conn, db.schema, unique("Globex"))
    foreign_company = add_customer_company(db.conn, db.schema, unique("Initech"))
    add_customer_user(db.conn, db.schema, login, primary)
    has_extras = "customer_user_customer" in db.schema.tables
    if has_extras:
        add_customer_membership(db.conn, db.schema, login, extra)
    _, queue = db.queue_in_new_group()
    _, hidden_queue = db.queue_in_new_group(group_valid=False)

    def ticket(**columns) -> int:
        return add_ticket(db.conn, db.schema, queue_id=columns.pop("queue_id", queue), **columns)

    return CustomerWorld(
        login=login,
        mine=ticket(customer_user_id=login, customer_id=foreign_company),
        mine_other_case=ticket(customer_user_id=login.upper()),
        primary_company=ticket(customer_user_id="someone-else", customer_id=primary),
        primary_company_other_case=ticket(customer_id=primary.lower()),
        extra_company=ticket(customer_id=extra.upper()) if has_extras else None,
        foreign=ticket(customer_user_id="someone-else", customer_id=foreign_company),
        invalid_group_mine=ticket(customer_user_id=login, queue_id=hidden_queue),
    )


def _customer_visible(db: Db, p: Permissions, w: CustomerWorld) -> set[int]:
    candidates = {w.mine, w.mine_other_case, w.primary_company, w.primary_company_other_case, w.foreign,
                  w.invalid_group_mine} | ({w.extra_company} if w.extra_company else set())
    by_check = {t for t in candidates if p.can_customer(db.conn, w.login, t)}
    by_filter = db.ticket_ids(p.customer_ticket_filter(db.conn, w.login)) & candidates
    assert by_check == by_filter  # lists and single reads agree
    return by_check


def test_customer_sees_own_and_company_tickets_case_insensitively(db: Db) -> None:
    w = _customer_world(db)
    expected = {w.mine, w.mine_other_case, w.primary_company, w.primary_company_other_case}
    if w.extra_company is not None:
        expected.add(w.extra_company)
    assert _customer_visible(db, db.perms(), w) == expected
    assert _customer_visible(db, db.perms(), replace(w, login=w.login.swapcase())) == expected


def test_customer_company_ids_are_primary_plus_memberships(db: Db) -> None:
    login = unique("cu")
    add_customer_user(db.conn, db.schema, login, "Primary-Co")
    expected = {"Primary-Co"}
    if "customer_user_customer" in db.schema.tables:
        add_customer_membership(db.conn, db.schema, login, "Second-Co")
        expected.add("Second-Co")
    assert db.perms().customer_company_ids(db.conn, login) == expected
    assert db.perms().customer_company_ids(db.conn, "nobody-" + login) == frozenset()


def test_company_access_disabled_leaves_only_own_tickets(db: Db) -> None:
    w = _customer_world(db)
    p = db.perms(customer_company_access=False)
    assert _customer_visible(db, p, w) == {w.mine, w.mine_other_case}
    with pytest.raises(PermissionDenied, match="not theirs"):
        p.require_customer(db.conn, w.login, w.primary_company)
    p.require_customer(db.conn, w.login, w.mine)


def test_invalid_customer_user_sees_nothing(db: Db) -> None:
    login = unique("gone")
    company = add_customer_company(db.conn, db.schema)
    add_customer_user(db.conn, db.schema, login, company, valid=False)
    ticket = add_ticket(db.conn, db.schema, customer_user_id=login, customer_id=company)
    p = db.perms()
    assert not p.can_customer(db.conn, login, ticket)
    assert db.ticket_ids(p.customer_ticket_filter(db.conn, login)) == set()


def test_customer_of_another_backend_matches_by_login_only(db: Db) -> None:
    # no customer_user row (an LDAP customer): the login still matches, no company is known
    login = unique("ldap")
    mine = add_ticket(db.conn, db.schema, customer_user_id=login)
    company_ticket = add_ticket(db.conn, db.schema, customer_id="LDAP-CO")
    p = db.perms()
    assert p.can_customer(db.conn, login, mine)
    assert not p.can_customer(db.conn, login, company_ticket)
    assert db.ticket_ids(p.customer_ticket_filter(db.conn, login)) == {mine}


def _names(db: Db, queue_id: int, group_id: int) -> tuple[str, str]:
    q, g = db.schema.tables.queue, db.schema.tables.groups
    return (db.conn.execute(select(q.c.name).where(q.c.id == queue_id)).scalar_one(),
            db.conn.execute(select(g.c.name).where(g.c.id == group_id)).scalar_one())


# --- the same rules as data, for the search index ---------------------------------------------------
def test_agent_read_scope_lists_his_tickets_outside_his_queues(db: Db) -> None:
    group, queue = db.queue_in_new_group()
    _, other_queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema)
    grant(db.conn, db.schema, agent, group, "ro")
    owned = add_ticket(db.conn, db.schema, queue_id=other_queue, user_id=agent)
    watched = add_ticket(db.conn, db.schema, queue_id=other_queue)
    add_watcher(db.conn, db.schema, watched, agent)
    add_ticket(db.conn, db.schema, queue_id=queue, user_id=agent)  # in his queues: not listed again
    scope = db.perms(watcher_enabled=True).agent_read_scope(db.conn, agent, listed=10)
    assert scope is not None and not scope.every_queue
    assert scope.queues == {queue}
    assert scope.other_tickets == tuple(sorted((owned, watched)))
    assert db.perms().agent_read_scope(db.conn, agent, listed=10).other_tickets == (owned,)


def test_agent_read_scope_describes_too_many_tickets_by_their_grants(db: Db) -> None:
    _, queue = db.queue_in_new_group()
    agent = add_agent(db.conn, db.schema)
    for _ in range(2):
        add_ticket(db.conn, db.schema, queue_id=queue, user_id=agent)
    watched = add_ticket(db.conn, db.schema, queue_id=queue)
    add_watcher(db.conn, db.schema, watched, agent)
    scope = db.perms(watcher_enabled=True, responsible_enabled=True).agent_read_scope(db.conn, agent, listed=1)
    assert scope is not None and scope.other_tickets is None
    assert (scope.responsible, scope.watched, scope.queues) == (True, (watched,), frozenset())


def test_agent_read_scope_of_root_and_of_an_invalid_agent(db: Db) -> None:
    root = db.perms().agent_read_scope(db.conn, 1, listed=10)
    assert root is not None and root.every_queue  # root@localhost holds rw on admin, users, stats
    assert db.perms().agent_read_scope(db.conn, add_agent(db.conn, db.schema, valid=False), listed=10) is None


def test_customer_read_scope_holds_what_the_filter_allows(db: Db) -> None:
    w = _customer_world(db)
    scope = db.perms().customer_read_scope(db.conn, w.login)
    assert scope is not None and scope.login == w.login
    assert scope.company_ids == db.perms().customer_company_ids(db.conn, w.login)
    q, g = db.schema.tables.queue, db.schema.tables.groups
    valid = db.conn.execute(select(q.c.id).join(g, g.c.id == q.c.group_id).where(g.c.valid_id == 1)).scalars()
    assert scope.queues == tuple(sorted(valid))
    assert db.perms(customer_company_access=False).customer_read_scope(db.conn, w.login).company_ids == frozenset()


def test_customer_read_scope_of_an_invalid_customer_user_is_none(db: Db) -> None:
    login = unique("gone")
    add_customer_user(db.conn, db.schema, login, add_customer_company(db.conn, db.schema), valid=False)
    assert db.perms().customer_read_scope(db.conn, login) is None
