"""Shared ground for ``test_operations.py`` and ``test_articles.py``: one ticket core per generation for the
whole session (a database costs up to two seconds to create, a ticket a few milliseconds), and readers that
return the rows as stored, with history type names and the rendered history sentences.

Every test makes its own tickets, so tests sharing a database never see each other's rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from factories import add_agent, audit, grant
from sqlalchemy import Engine, select
from support.agents import group_id
from support.databases import new_database, otrs_home

from otrs_ext.localservices import MariaDBServer
from otrs_ext.tickets.clock import FixedClock
from otrs_ext.tickets.history import render
from otrs_ext.tickets.numbers import TicketNumbers
from otrs_ext.tickets.otrs_cache import FileStorableCache, Invalidator
from otrs_ext.tickets.permissions import Permissions
from otrs_ext.tickets.reads import TicketReader
from otrs_ext.tickets.service import TicketService
from otrs_ext.tickets.storage import DatabaseStore
from schema_maps import OtrsSchema

START = datetime(2025, 11, 25, 20, 0, 0)
START_EPOCH = 1764100800  # START in UTC, OTRSTimeZone of the cores
OWN = ("otrs5", "otrs6", "znuny71", "otobo11")
GENUINE = ("otrs5", "otrs6", "znuny71", "otobo11")
# (generation, genuine) for pytest params, with readable ids
OWN_CORES = [pytest.param((g, False), id=g) for g in OWN]
CORES = OWN_CORES + [pytest.param((g, True), id=f"{g}-genuine") for g in GENUINE]
# for tests whose rows do not depend on the schema files: the project's own definitions only
own_schemas_only = pytest.mark.parametrize("core", OWN_CORES, indirect=True)
DYNAMIC_FIELDS = {"Topic": "Text", "Due": "Date", "Tags": "Multiselect", "Urgent": "Checkbox"}


@dataclass
class Core:
    engine: Engine
    schema: OtrsSchema
    service: TicketService
    reader: TicketReader
    clock: FixedClock
    agent: int
    agent2: int
    otrs_home: Path
    label: str
    ids: dict[str, dict[str, int]] = field(default_factory=dict)

    def id(self, table: str, name: str) -> int:
        return self.service.lookups().id(table, name)

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        t = self.schema.tables.ticket
        with self.engine.connect() as conn:
            return dict(conn.execute(select(t).where(t.c.id == ticket_id)).mappings().one())

    def history(self, ticket_id: int) -> list[dict[str, Any]]:
        """The ticket's history rows in id order, each with its ``type`` name and rendered ``text``."""
        h, ht = self.schema.tables.ticket_history, self.schema.tables.ticket_history_type
        with self.engine.connect() as conn:
            rows = conn.execute(select(h, ht.c.name.label("type")).join(ht, ht.c.id == h.c.history_type_id)
                                .where(h.c.ticket_id == ticket_id).order_by(h.c.id)).mappings().all()
        return [{**r, "text": render(r["type"], r["name"])} for r in rows]

    def entries(self, ticket_id: int) -> list[tuple[str, str]]:
        """(history type, stored name) pairs, the shortest readable form of a ticket's history."""
        return [(r["type"], r["name"]) for r in self.history(ticket_id)]

    def articles(self, ticket_id: int) -> list[dict[str, Any]]:
        a = self.schema.tables.article
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                self.schema.articles.select().where(a.c.ticket_id == ticket_id).order_by(a.c.id)).mappings()]

    def article_meta(self, article_id: int) -> dict[str, Any]:
        """The raw ``article`` row (OTRS 6+: the meta row; OTRS 5: the one article row)."""
        a = self.schema.tables.article
        with self.engine.connect() as conn:
            return dict(conn.execute(select(a).where(a.c.id == article_id)).mappings().one())

    def attachments(self, article_id: int) -> list[dict[str, Any]]:
        t = self.schema.articles.attachments
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                select(t).where(t.c.article_id == article_id).order_by(t.c.id)).mappings()]

    def rows(self, table: str, **where: Any) -> list[dict[str, Any]]:
        t = self.schema.tables[table]
        query = select(t).where(*(t.c[k] == v for k, v in where.items()))
        order = [t.c[c] for c in ("id", "create_by", "create_time") if c in t.c]
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(*order)).mappings()]

    def cache_file(self, cache_type: str, key: str) -> Path:
        """Create the FileStorable entry OTRS would hold for (type, key) and return its path."""
        path = FileStorableCache(self.otrs_home).path_for(cache_type, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"pst0 storable blob")
        return path


def _build(server: MariaDBServer, tmp: Path, generation: str, genuine: bool) -> tuple[Core, str]:
    name = f"ops_{generation}_{uuid.uuid4().hex[:8]}"
    engine, schema = new_database(server, name, generation, genuine=genuine)
    home = otrs_home(tmp / name)
    with engine.begin() as conn:
        users_group = group_id(conn, schema, "users")
        agent = add_agent(conn, schema, "agent1", first_name="Bench", last_name="Agent")
        agent2 = add_agent(conn, schema, "agent2", first_name="Second", last_name="Agent")
        for user in (agent, agent2):
            grant(conn, schema, user, users_group, "rw")
        conn.execute(schema.tables.ticket_type.insert().values(name="Incident", valid_id=1, **audit(conn)))
        for order, (field_name, field_type) in enumerate(DYNAMIC_FIELDS.items(), start=1):
            conn.execute(schema.tables.dynamic_field.insert().values(
                internal_field=0, name=field_name, label=field_name, field_order=order, field_type=field_type,
                object_type="Ticket", config=b"---\n", valid_id=1, **audit(conn)))
    clock = FixedClock(START)
    permissions = Permissions(schema)
    store = DatabaseStore(schema)
    service = TicketService(
        engine, schema,
        numbers=TicketNumbers(engine, schema, generator="DateChecksum", system_id="10", otrs_home=home,
                              clock=lambda: clock.current, sleep=lambda s: None),
        permissions=permissions,
        invalidator=Invalidator(FileStorableCache(home), spool_dir=tmp / f"spool-{name}"),
        store=store, clock=clock,
    )
    label = f"{generation}{'-genuine' if genuine else ''}"
    return Core(engine=engine, schema=schema, service=service, reader=TicketReader(engine, schema, permissions, store),
                clock=clock, agent=agent, agent2=agent2, otrs_home=home, label=label), name


_BUILT: dict[tuple[str, bool], Core] = {}


def shared_core(request: pytest.FixtureRequest, server: MariaDBServer,
                tmp_path_factory: pytest.TempPathFactory) -> Core:
    """The core of ``request.param`` = (generation, genuine), built once per test session and shared by the
    test modules using it; the databases live as long as the session's private MariaDB server."""
    key = request.param
    if key not in _BUILT:
        core, _ = _build(server, tmp_path_factory.mktemp("ops"), *key)
        request.config.add_cleanup(core.engine.dispose)
        _BUILT[key] = core
    return _BUILT[key]
