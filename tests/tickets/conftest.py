"""A ticket core (service + reader) on a fresh OTRS database of a chosen generation.

``ticket_core("otrs6")`` installs that generation's schema and initial data through the project's own
definitions; ``ticket_core("znuny7", genuine=True)`` loads the genuine schema files of ``../shared`` instead.
The acting agent is ``core.agent`` (login ``agent1``), with ``rw`` on the ``users`` group that owns the
standard queues (Postmaster, Raw, Junk, Misc), like the golden scenario's agent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from factories import add_agent, grant
from sqlalchemy import Engine
from support.agents import group_id
from support.databases import new_database, otrs_home

from otrs_ext.tickets.clock import FixedClock
from otrs_ext.tickets.numbers import TicketNumbers
from otrs_ext.tickets.otrs_cache import FileStorableCache, Invalidator
from otrs_ext.tickets.permissions import Permissions
from otrs_ext.tickets.reads import TicketReader
from otrs_ext.tickets.service import TicketService
from otrs_ext.tickets.storage import AttachmentStore, DatabaseStore, FileSystemStore
from schema_maps import OtrsSchema

START = datetime(2025, 11, 25, 20, 0, 0)
@dataclass
class Core:
    engine: Engine
    schema: OtrsSchema
    service: TicketService
    reader: TicketReader
    clock: FixedClock
    agent: int
    otrs_home: Path

    def group_id(self, name: str = "users") -> int:
        with self.engine.connect() as conn:
            return group_id(conn, self.schema, name)


@pytest.fixture
def ticket_core(mariadb_server, tmp_path: Path) -> Iterator[Callable[..., Core]]:
    made: list[tuple[str, Engine]] = []

    def make(generation: str = "znuny71", *, genuine: bool = False, storage: str = "db",
             numbers: str = "DateChecksum") -> Core:
        name = f"core_{generation}_{uuid.uuid4().hex[:8]}"
        engine, schema = new_database(mariadb_server, name, generation, genuine=genuine)
        made.append((name, engine))
        home = otrs_home(tmp_path / f"otrs-{name}")
        with engine.begin() as conn:
            agent = add_agent(conn, schema, "agent1")
            grant(conn, schema, agent, group_id(conn, schema, "users"), "rw")
        clock = FixedClock(START)
        permissions = Permissions(schema)
        store: AttachmentStore = (FileSystemStore(home / "var" / "article") if storage == "fs"
                                  else DatabaseStore(schema))
        service = TicketService(
            engine, schema,
            numbers=TicketNumbers(engine, schema, generator=numbers, system_id="10", otrs_home=home,
                                  clock=lambda: clock.current, sleep=lambda s: None),
            permissions=permissions,
            invalidator=Invalidator(FileStorableCache(home), spool_dir=tmp_path / f"spool-{name}"),
            store=store, clock=clock,
        )
        return Core(engine=engine, schema=schema, service=service,
                    reader=TicketReader(engine, schema, permissions, store), clock=clock, agent=agent,
                    otrs_home=home)

    yield make
    for name, engine in made:
        engine.dispose()
        mariadb_server.drop_database(name)
