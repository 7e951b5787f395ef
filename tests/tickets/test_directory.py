"""Customers, companies and queues beside a ticket, on the oldest and newest layouts."""

from __future__ import annotations

import pytest
from factories import add_customer_company, add_customer_user, add_group, add_queue

from otrs_ext.errors import NotFound
from otrs_ext.tickets.directory import Directory
from otrs_ext.tickets.permissions import Permissions


@pytest.mark.parametrize("generation", ["otrs5", "znuny71", "otobo11"])
def test_customer_with_company_and_memberships(ticket_core, generation: str) -> None:
    core = ticket_core(generation)
    with core.engine.begin() as conn:
        add_customer_company(conn, core.schema, "ACME", name="ACME Hosting")
        add_customer_company(conn, core.schema, "ROGA", name="Рога и копыта")
        extra = ("ROGA",) if core.schema.traits.article_split else ()
        add_customer_user(conn, core.schema, "Jane@acme.test", "ACME", extra_customer_ids=extra,
                          first_name="Jane", last_name="Doe", title="Dr.", phone="+7 495 000-00-00")
    directory = Directory(core.engine, core.schema, Permissions(core.schema))
    jane = directory.customer("jane@ACME.test")
    assert (jane.login, jane.full_name, jane.phone) == ("Jane@acme.test", "Dr. Jane Doe", "+7 495 000-00-00")
    assert jane.company is not None and jane.company.name == "ACME Hosting" and jane.valid
    assert jane.company_ids == (("ACME", "ROGA") if extra else ("ACME",))
    assert directory.company("ROGA").name == "Рога и копыта"
    with pytest.raises(NotFound, match="no customer user 'ghost'"):
        directory.customer("ghost")
    with pytest.raises(NotFound, match="no customer company"):
        directory.company("NOPE")


def test_queues_are_those_the_agent_may_use(ticket_core) -> None:
    core = ticket_core("znuny71")
    with core.engine.begin() as conn:
        hidden = add_group(conn, core.schema, "secret")
        add_queue(conn, core.schema, "Raw::Hosting", group_id=core.group_id("users"), unlock_timeout=30)
        add_queue(conn, core.schema, "Vault", group_id=hidden)
        add_queue(conn, core.schema, "Retired", group_id=core.group_id("users"), valid=False)
    directory = Directory(core.engine, core.schema, Permissions(core.schema))
    queues = {q.name: q for q in directory.queues(core.agent)}
    assert "Vault" not in queues and "Retired" not in queues
    assert {"Raw", "Misc", "Junk", "Postmaster", "Raw::Hosting"} <= set(queues)
    sub = queues["Raw::Hosting"]
    assert (sub.parent, sub.group, sub.unlock_timeout) == ("Raw", "users", 30)
    assert "Retired" in {q.name for q in directory.queues(core.agent, valid_only=False)}
