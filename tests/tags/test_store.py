"""The tag store on a real database: one tag per kind and folded name, one link per ticket and tag, audit rows
for manual changes, merges and deletes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from otrs_ext.db.own_tables import own_table
from otrs_ext.errors import ValidationError
from otrs_ext.tags.store import TagStore, parse_ref


@pytest.fixture
def engine(otrs_database):
    return otrs_database("znuny71", migrated=True)


def test_names_are_unique_per_kind_whatever_their_case_but_accents_differ(engine) -> None:
    store = TagStore()
    with engine.begin() as conn:
        vip = store.ensure(conn, "manual", "VIP", created_by="7", colour="#aa0000", labels={"ru": "ВИП"})
        assert store.ensure(conn, "manual", "vip", created_by="8").id == vip.id
        assert store.ensure(conn, "manual", "víp", created_by="8").id != vip.id
        assert store.ensure(conn, "source", "vip", created_by="rule:x").id != vip.id
        assert store.find(conn, "manual", "Vip") == vip
        assert vip.ref == "manual:VIP" and vip.label("ru") == "ВИП" and vip.label("de") == "VIP"
        assert [t.ref for t in store.tags(conn, kind="manual")] == ["manual:VIP", "manual:víp"]


@pytest.mark.parametrize("ref, message", [
    ("colour:red", "kind one of"), ("manual: vip", "space"), ("manual:" + "x" * 101, "at most 100"),
    ("manual:a\x07b", "control"), ("manual:", "empty"),
])
def test_bad_refs_name_the_problem(ref, message) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_ref(ref)
    assert message in str(caught.value.problems)


def test_bad_colour_writes_nothing(engine) -> None:
    with engine.begin() as conn, pytest.raises(ValidationError):
        TagStore().ensure(conn, "manual", "red", created_by="1", colour="red")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(own_table("tag"))).scalar_one() == 0


def test_links_once_with_audit_of_manual_changes_merge_and_delete(engine) -> None:
    store = TagStore()
    with engine.begin() as conn:
        vip = store.ensure(conn, "manual", "vip", created_by="7")
        email = store.ensure(conn, "source", "email", created_by="rule:source")
        assert store.link(conn, 10, vip, agent_id=7, audit=True)
        assert not store.link(conn, 10, vip, agent_id=8, audit=True)
        assert store.link(conn, 10, email, rule="source", article_id=100)
        assert store.link(conn, 11, email, rule="source", article_id=110)
        assert [(link.tag.ref, link.agent_id, link.rule) for link in store.links(conn, [10])[10]] == [
            ("manual:vip", 7, None), ("source:email", None, "source")]
        assert store.unlink(conn, 10, vip, agent_id=9, audit=True)
        assert not store.unlink(conn, 10, vip, agent_id=9, audit=True)
        audit = own_table("ticket_tag_audit")
        assert [tuple(r) for r in conn.execute(select(audit.c.action, audit.c.agent_id).order_by(audit.c.id))] == [
            ("added", 7), ("removed", 9)]
        store.link(conn, 11, vip, agent_id=7)
        store.move_ticket(conn, 11, 10)
        assert store.links(conn, [11])[11] == []
        assert sorted(store.tag_ids(conn, 10)) == sorted([vip.id, email.id])
        assert store.links(conn, [10])[10][1].article_id == 100  # the main ticket's own link is kept
        store.forget_ticket(conn, 10)
        assert store.tag_ids(conn, 10) == []
