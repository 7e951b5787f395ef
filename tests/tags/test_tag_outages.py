"""The ``tags`` handler under outages: searchd going away makes it raise (the tailer stalls and retries the event,
never skips it) and the index gets the tags once searchd is back; a MariaDB restart mid-stream loses and
duplicates no link."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from otrs_writes import incoming_mail, phone_ticket
from sqlalchemy import Engine, func, select
from support.agents import add_agent_with
from support.tailing import Recorder
from support.waiting import wait_for
from tag_support import TagTail, rules_for_tests, wait_links

import schema_maps
from otrs_ext.db import migrate
from otrs_ext.db.engine import make_engine
from otrs_ext.db.own_tables import own_table
from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.events.domain import HistoryAdded
from otrs_ext.localservices import MariaDBServer, SphinxServer, free_port
from otrs_ext.search.indexer import Indexer
from otrs_ext.tags.index_sync import index_tags
from otrs_ext.tags.store import TagStore
from schema_maps.install import install

SCHEMA = schema_maps.load("znuny71")
HELLO = b"From: jane@acme.test\r\nSubject: Hello\r\nMessage-ID: <h@acme.test>\r\n\r\nHi.\r\n"
AWAY = (b"From: jane@acme.test\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n"
        b"Message-ID: <o@acme.test>\r\n\r\nBack on Monday.\r\n")


@pytest.fixture
def private_searchd(tmp_path: Path) -> Iterator[SphinxServer]:
    server = SphinxServer(tmp_path / "sphinx", port=free_port())  # a fixed port: the restart takes it again
    server.start()
    yield server
    server.stop()


def _tags_in_index(indexer: Indexer, ticket_id: int) -> set[tuple[int, ...]]:
    return index_tags(indexer, ticket_id, ticket_id).get(ticket_id, set())


def test_a_searchd_outage_is_retried_until_the_index_has_the_tags(engine, tag_tail, private_searchd, caplog):
    search = SphinxQL(private_searchd.url)
    tail = tag_tail(search=search)  # tags (and search) with the private searchd
    ticket_id, article_id = incoming_mail(engine, HELLO)
    wait_links(engine, ticket_id, ["source:email"])
    indexer = Indexer(engine, SCHEMA, search)
    store = TagStore()
    wait_for(lambda: bool(_tags_in_index(indexer, ticket_id)), 30, "the ticket in the index")
    # every handler is through with the mail (the recorder comes last), so the outage meets the follow-up only
    tail.wait(lambda events: any(isinstance(e, HistoryAdded) and e.article_id == article_id for e in events), 30)

    private_searchd.stop()
    incoming_mail(engine, AWAY, ticket_id=ticket_id)  # an auto-reply: notification:out-of-office
    wait_links(engine, ticket_id, ["source:email", "notification:out-of-office"])  # stored before the index call
    wait_for(lambda: tail.tailer.metrics.state == "stalled", 20, "the tailer to stall on searchd")
    assert tail.error is None and tail.thread.is_alive()
    time.sleep(1.0)
    private_searchd.start()

    with engine.connect() as conn:
        expected = {tuple(store.tag_ids(conn, ticket_id))}
    wait_for(lambda: _tags_in_index(indexer, ticket_id) == expected, 60, "the tags in the index after the outage")
    assert tail.error is None
    messages = [r.getMessage() for r in caplog.records if "could not reach a service" in r.getMessage()]
    assert messages and all("nothing is skipped" in m for m in messages)
    assert any("handler 'tags'" in m for m in messages)  # the tags handler's own index update raised
    with engine.connect() as conn:  # one link per tag, however often the event was handed over
        assert conn.execute(select(func.count()).select_from(own_table("ticket_tag"))
                            .where(own_table("ticket_tag").c.ticket_id == ticket_id)).scalar_one() == 2


@pytest.fixture
def private_otrs(tmp_path_factory) -> Iterator[tuple[MariaDBServer, Engine]]:
    """An OTRS database on a MariaDB of this test's own (restarting the session's would disturb others)."""
    with MariaDBServer(tmp_path_factory.mktemp("private-mariadb")) as server:
        server.create_database("otrs")
        engine = make_engine(server.url("otrs"))
        with engine.begin() as conn:
            install(conn, "znuny71")
        migrate.upgrade(engine)
        yield server, engine
        engine.dispose()


def test_a_mariadb_restart_mid_stream_loses_and_duplicates_nothing(private_otrs):
    server, engine = private_otrs
    with engine.begin() as conn:
        agent = add_agent_with(conn, SCHEMA, "anna.petrova", "rw")
    tail = TagTail(engine, SCHEMA, Recorder())
    tail.rules = rules_for_tests()
    tail.start()
    try:
        made: list[tuple[int, list[str]]] = []
        for _ in range(5):  # a burst the tailer is still busy with when the server goes
            made.append((incoming_mail(engine, AWAY)[0], ["source:email", "notification:out-of-office"]))
            made.append((phone_ticket(engine, agent)[0], ["source:phone"]))
        server.restart(down_for=1.5)
        for _ in range(3):
            made.append((phone_ticket(engine, agent)[0], ["source:phone"]))
            made.append((incoming_mail(engine, HELLO)[0], ["source:email"]))
        for ticket_id, expected in made:
            wait_links(engine, ticket_id, expected, timeout=60)
        assert tail.error is None and tail.thread.is_alive()
        with engine.connect() as conn:
            link = own_table("ticket_tag")
            total = conn.execute(select(func.count()).select_from(link)
                                 .where(link.c.ticket_id.in_([t for t, _ in made]))).scalar_one()
        assert total == sum(len(expected) for _, expected in made)
    finally:
        tail.halt()
