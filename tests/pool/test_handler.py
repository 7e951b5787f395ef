"""The ``pool`` handler as the tailer runs it: built in, built from the settings and checked at start, a replayed
event changes nothing, and an unreachable Redis or MariaDB raises for the tailer to retry (never a poison event)."""

from __future__ import annotations

import socket
from datetime import datetime

import pytest
import redis
from sqlalchemy import create_engine
from support import otrs_ui
from support.runtimes import settings_for
from support.tailing import dispatcher

from otrs_ext.errors import ConfigurationError
from otrs_ext.events.dispatch import ServiceDown, Services
from otrs_ext.events.domain import TicketChanged, TicketCreated
from otrs_ext.events.handlers.pool import PoolHandler
from otrs_ext.events.plugins import make_plugin_manager
from otrs_ext.pool.compose import assemble


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_built_in_built_from_settings_and_checked_at_start(world, redis_server, tmp_path) -> None:
    manager = make_plugin_manager(["pool"])
    handler = manager.get_plugin("pool")
    assert isinstance(handler, PoolHandler)
    settings = settings_for(world.engine, redis_server.url, "mysql://127.0.0.1:9306", tmp_path, handlers=("pool",))
    client = redis.Redis.from_url(redis_server.url)
    services = Services(engine=world.engine, schema=world.schema, redis=client, settings=settings)
    manager.hook.on_start(services=services)
    assert handler.pool(services).config.permission == "rw"
    wrong = PoolHandler()
    with pytest.raises(ConfigurationError, match="Nowhere"):
        wrong.on_start(Services(engine=world.engine, schema=world.schema, redis=client,
                                settings=settings.with_changes(pool_queues=("Raw", "Nowhere"))))
    with pytest.raises(RuntimeError, match="settings and a Redis client"):
        PoolHandler().pool(Services(engine=world.engine, schema=world.schema))
    client.close()


def test_a_replayed_lock_writes_one_credit(world) -> None:
    users = world.group_id("users")
    agent = world.agent(groups=(users,))
    ticket = world.ticket("Raw", age_hours=1)
    otrs_ui.lock_screen(world.engine, world.schema, ticket, agent)
    handlers = dispatcher(world.engine, world.schema, {"pool": PoolHandler(world.pool)})
    lock = TicketChanged("tx-1/0", ticket, datetime.now(), changes={"lock_id": (1, 2)}, changed_by=agent)
    owner = TicketChanged("tx-2/0", ticket, datetime.now(), changes={"owner_id": (1, agent)}, changed_by=agent)
    for _ in range(3):  # a crash before the checkpoint hands them over again
        handlers.dispatch([lock, owner])
    assert world.ledger() == [(agent, ticket, "credit", "10.50")]


def test_outages_raise_for_the_tailer_to_retry(world) -> None:
    users = world.group_id("users")
    agent = world.agent(groups=(users,))
    world.pool.service.enter(agent, "tab")  # someone waits: a new ticket makes the handler dispatch
    ticket = world.ticket("Raw")
    created = TicketCreated("ticket-created:x", ticket, datetime.now(), ticket=world.ticket_row(ticket))
    no_redis = redis.Redis(port=_dead_port(), socket_timeout=1)
    pool = assemble(world.engine, world.schema, no_redis, world.tickets, world.permissions, world.config)
    with pytest.raises(ServiceDown, match="could not reach a service"):
        dispatcher(world.engine, world.schema, {"pool": PoolHandler(pool)}).dispatch([created])
    dead = create_engine(f"mysql+pymysql://otrs:otrs@127.0.0.1:{_dead_port()}/otrs",
                         connect_args={"connect_timeout": 2})
    lock = TicketChanged("tx-9/0", ticket, datetime.now(), changes={"lock_id": (1, 2)}, changed_by=agent)
    with pytest.raises(ServiceDown):
        dispatcher(dead, world.schema, {"pool": PoolHandler(world.pool)}).dispatch([lock])
