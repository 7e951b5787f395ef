"""Test helpers for search: an OTRS world with agents, customers and tickets, indexed by the project's
``Indexer`` (the same documents the live handler and the reindex write)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select
from support.agents import add_agent, add_group, audit, grant, group_id

from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.runtime import Runtime
from otrs_ext.search import indexdef
from otrs_ext.search.indexer import Indexer
from otrs_ext.search.service import SearchService
from otrs_ext.tickets.compose import TicketCore
from otrs_ext.tickets.inputs import NewArticle, NewTicket
from schema_maps import OtrsSchema


def add_queue(conn: Connection, schema: OtrsSchema, name: str, group_id: int) -> int:
    q = schema.tables.queue
    first = conn.execute(select(q).where(q.c.id == 1)).mappings().one()
    row = {c: first[c] for c in ("system_address_id", "salutation_id", "signature_id", "follow_up_id",
                                 "follow_up_lock", "unlock_timeout", "calendar_name") if c in q.c}
    return conn.execute(q.insert().values(name=name, group_id=group_id, valid_id=1, comments="", **row,
                                          **audit(conn))).inserted_primary_key[0]


def add_customer(conn: Connection, schema: OtrsSchema, login: str, customer_id: str,
                 extra: Sequence[str] = ()) -> None:
    conn.execute(schema.tables.customer_user.insert().values(
        login=login, email=f"{login}@example.com", customer_id=customer_id, pw="", first_name="C", last_name=login,
        valid_id=1, **audit(conn)))
    for company in extra:
        conn.execute(schema.tables.customer_user_customer.insert().values(user_id=login, customer_id=company,
                                                                          **audit(conn)))


def index_all(engine: Engine, schema: OtrsSchema, sphinx: SphinxQL, *,
              tags: Mapping[int, Sequence[int]] | None = None) -> int:
    """(Re)write every article of the database into the index with the project's indexer; returns the count."""
    indexer = Indexer(engine, schema, sphinx)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(schema.tables.article.c.id).order_by(schema.tables.article.c.id))]
    written = sum(indexer.index_articles(ids[i:i + 500]) for i in range(0, len(ids), 500))
    for ticket_id, tag_ids in (tags or {}).items():
        indexer.update_tags(ticket_id, tag_ids)
    return written


def truncate(sphinx: SphinxQL) -> None:
    sphinx.query(f"TRUNCATE RTINDEX {indexdef.INDEX_NAME}")


@dataclass
class World:
    """Agents: ``agent`` (ro on users + Secret), ``plain`` (ro on users only), ``nobody`` (no groups, owns
    one Secret ticket). Customers: ``jane`` (ACME, also ROGA), ``bob`` (ACME), ``eve`` (EVIL)."""

    runtime: Runtime
    core: TicketCore
    service: SearchService
    agent: int
    plain: int
    nobody: int
    tickets: dict[str, int]
    articles: dict[str, int]

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def schema(self) -> OtrsSchema:
        return self.runtime.schema

    def reindex(self, tags: Mapping[int, Sequence[int]] | None = None) -> int:
        truncate(self.runtime.search)
        return index_all(self.engine, self.schema, self.runtime.search, tags=tags)


def build_world(runtime: Runtime, core: TicketCore, service: SearchService) -> World:
    schema = runtime.schema
    with runtime.engine.begin() as conn:
        users_group = group_id(conn, schema, "users")
        secret_group = add_group(conn, schema, "secret-" + uuid.uuid4().hex[:6])
        add_queue(conn, schema, "Secret", secret_group)
        agent, plain, nobody = (add_agent(conn, schema, login, first_name="T", last_name=login)
                                for login in ("searcher", "plain", "nobody"))
        for user, group in ((agent, users_group), (agent, secret_group), (plain, users_group)):
            grant(conn, schema, user, group, "rw")
        add_customer(conn, schema, "jane", "ACME", extra=("ROGA",))
        add_customer(conn, schema, "bob", "ACME")
        add_customer(conn, schema, "eve", "EVIL")
    tickets: dict[str, int] = {}
    articles: dict[str, int] = {}

    def ticket(key: str, title: str, queue: str, body: str, *, customer: tuple[str, str] | None = None,
               owner: int = 1, visible: bool = True, from_: str = "", to: str = "", subject: str = "") -> None:
        created = core.service.create_ticket(
            1, NewTicket(title=title, queue=queue, customer_id=customer[1] if customer else None,
                         customer_user=customer[0] if customer else None, owner_id=owner, responsible_id=owner),
            NewArticle(body=body, subject=subject or title, channel="Email", sender_type="customer",
                       visible_for_customer=visible, from_=from_, to=to, history_type="EmailCustomer",
                       history_comment="%%"), as_system=True)
        tickets[key], articles[key] = created.ticket_id, created.article_id

    ticket("dns", "Домен reg.ru не открывается", "Raw", "После смены серверов сайт example.reg.ru недоступен.",
           customer=("jane", "ACME"), from_="Jane <jane@acme.test>", to="support@reg.ru")
    ticket("mail", "Mailbox full", "Raw", "Please write to billing@reg.ru about the quota of ivan.petrov@mail.ru",
           customer=("bob", "ACME"), from_="bob@acme.test", to="support@helpdesk.example.ru")
    ticket("roga", "Счёт за хостинг", "Misc", "Счета за серверы и домены myreg.ru, оплата картой",
           customer=("roga-user", "ROGA"), from_="buh@roga.test")
    ticket("evil", "Evil printer", "Raw", "printer on fire at 192.168.1.10, not 192.168.1.100",
           customer=("eve", "EVIL"), from_="eve@evil.test")
    ticket("secret", "Secret server reg.ru audit", "Secret", "internal audit of reg.ru servers",
           customer=("jane", "ACME"))
    ticket("owned", "Owned secret printer", "Secret", "printer for the nobody agent", owner=nobody)
    created = tickets["dns"]
    articles["dns-internal"] = core.service.add_article(
        agent, created, NewArticle(body="internal note: customer jane is angry about reg.ru, call the registrar",
                                   subject="Internal reg.ru note", visible_for_customer=False))
    return World(runtime=runtime, core=core, service=service, agent=agent, plain=plain, nobody=nobody,
                 tickets=tickets, articles=articles)


#: query strings aimed at SphinxQL or MATCH() syntax rather than at finding anything
HOSTILE_SQL = [
    "it's \\ \" ')", "')) OR 1=1 --", "'); DELETE FROM articles; --", "\\' OR MATCH('*') #", "a) | (@* b",
    "@body printer", "x ) ) ) (((", '"unterminated printer', "||| printer |||", "printer\\", "\\\\\\'",
    "~/^$<!= printer", "printer NEAR/3 fire", "\"printer fire\"~5", "printer @@ fire", "\x00 printer \x1a",
    "😀 ёлка 🎄", "SELECT * FROM articles; SHOW TABLES", "printer' AND queue_id=5 OR '1'='1", "-printer",
]
