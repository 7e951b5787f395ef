"""Tags in search: documents carry their ticket's tag ids (every writer), the tag filters, the tag facet and each
hit's tags, all within what the viewer may see. Tags and links are made with the TagStore directly."""

from __future__ import annotations

import uuid

import pytest
from search_support import World
from sqlalchemy import Engine, text
from support.waiting import wait_for

import schema_maps
from otrs_ext.db import migrate
from otrs_ext.errors import ValidationError
from otrs_ext.search.documents import as_dict
from otrs_ext.search.indexdef import INDEX_NAME
from otrs_ext.search.indexer import Indexer
from otrs_ext.search.reindex import reindex
from otrs_ext.search.service import SearchFilter
from otrs_ext.seed import run_seed
from otrs_ext.tags.filters import resolve
from otrs_ext.tags.store import Tag, TagStore
from otrs_ext.tickets.inputs import NewArticle, NewTicket
from otrs_ext.tickets.numbers import TicketNumbers
from otrs_ext.tickets.otrs_cache import Invalidator, NullOtrsCache
from otrs_ext.tickets.permissions import Permissions
from otrs_ext.tickets.service import TicketService
from otrs_ext.tickets.storage import DatabaseStore


def _tags(world: World, links: dict[str, list[str]], *, own_schema: str | None = None) -> dict[str, Tag]:
    """Tags by ref, made on first use, linked to the world's tickets by key (``{"dns": ["manual:vip"]}``)."""
    store = TagStore(own_schema)
    made: dict[str, Tag] = {}
    with world.engine.begin() as conn:
        for key, refs in links.items():
            for ref in refs:
                kind, name = ref.split(":", 1)
                if ref not in made:
                    made[ref] = store.ensure(conn, kind, name, created_by="test", labels={"en": name.upper()},
                                             colour="#1f6feb" if kind == "manual" else None)
                store.link(conn, world.tickets[key], made[ref], agent_id=world.agent if kind == "manual" else None,
                           rule=None if kind == "manual" else f"rule:{kind}")
    return made


def _found(world: World, q: str, flt: SearchFilter, **viewer) -> set[str]:
    names = {v: k for k, v in world.tickets.items()}
    return {names[h.ticket_id] for h in world.service.search(q, flt, **viewer).hits}


def _filter(world: World, refs=(), kinds=()) -> SearchFilter:
    with world.engine.connect() as conn:
        found = resolve(conn, TagStore(), list(refs), list(kinds))
    return SearchFilter(tag_ids=found.all_of, tag_any=found.any_of)


def _index_tags(search, article_id: int) -> list[int]:
    rows = search.query(f"SELECT tag_ids FROM {INDEX_NAME} WHERE id = %s", (article_id,))
    return sorted(int(v) for v in str(rows[0][0]).split(",") if v) if rows else []


def test_every_writer_puts_the_tickets_tags_in_its_documents(world: World) -> None:
    tags = _tags(world, {"dns": ["manual:vip", "source:email"], "mail": ["source:email"]})
    vip, email = tags["manual:vip"].id, tags["source:email"].id
    indexer = Indexer(world.engine, world.schema, world.runtime.search)
    with world.engine.connect() as conn:
        docs = {d[0]: as_dict(d) for d in indexer.source.by_tickets(conn, [world.tickets["dns"]])}
    assert {a: d["tag_ids"] for a, d in docs.items()} == {world.articles["dns"]: (vip, email),
                                                         world.articles["dns-internal"]: (vip, email)}
    search = world.runtime.search
    world.reindex()  # index_articles: REPLACE
    assert _index_tags(search, world.articles["dns"]) == sorted((vip, email))
    assert _index_tags(search, world.articles["mail"]) == [email]
    assert _index_tags(search, world.articles["evil"]) == []
    # a tag added without telling the index: the next UPDATE of the ticket's attributes repairs it
    with world.engine.begin() as conn:
        TagStore().link(conn, world.tickets["evil"], tags["manual:vip"], agent_id=world.agent)
    indexer.refresh_ticket(world.tickets["evil"])
    assert _index_tags(search, world.articles["evil"]) == [vip]
    with world.engine.begin() as conn:
        TagStore().unlink(conn, world.tickets["evil"], tags["manual:vip"])
    indexer.sync_tickets([world.tickets["evil"]])  # REPLACE of a ticket's documents
    assert _index_tags(search, world.articles["evil"]) == []
    # the reindex (index_range, in chunks) keeps them
    search.query(f"TRUNCATE RTINDEX {INDEX_NAME}")
    report = reindex(world.engine, world.schema, search, workers=2, chunk=2)
    assert report.articles == len(world.articles) + 1  # and the welcome ticket OTRS installs
    assert _index_tags(search, world.articles["dns-internal"]) == sorted((vip, email))
    assert _index_tags(search, world.articles["mail"]) == [email]


def test_tag_filters_find_only_tagged_tickets_the_agent_may_see(world: World) -> None:
    _tags(world, {"dns": ["manual:vip", "source:email"], "mail": ["source:phone"],
                  "secret": ["manual:vip", "source:email"], "owned": ["manual:vip"], "evil": ["source:email"]})
    world.reindex()
    vip = _filter(world, ["vip"])  # a bare name is a manual tag
    assert _found(world, "reg.ru OR printer", vip, user_id=world.agent) == {"dns", "secret", "owned"}
    assert _found(world, "reg.ru OR printer", vip, user_id=world.plain) == {"dns"}  # no rights on Secret
    assert _found(world, "reg.ru OR printer", vip, user_id=world.nobody) == {"owned"}  # his own ticket only
    both = _filter(world, ["manual:VIP", "source:email"])  # every tag must be on the ticket; names fold case
    assert _found(world, "reg.ru OR printer", both, user_id=world.agent) == {"dns", "secret"}
    assert _found(world, "reg.ru OR printer", both, user_id=world.plain) == {"dns"}
    assert world.service.search("reg.ru OR printer", both, user_id=world.plain).total == 1
    assert world.service.counts("reg.ru OR printer", both, user_id=world.plain).total == 1
    sources = _filter(world, kinds=["source"])  # any tag of the kind
    assert _found(world, "reg.ru OR printer", sources, user_id=world.plain) == {"dns", "mail", "evil"}
    assert _found(world, "reg.ru OR printer", _filter(world, kinds=["participant"]), user_id=world.agent) == set()
    with pytest.raises(ValidationError) as caught:
        _filter(world, ["vip", "nope", "source:nope"], ["colour"])
    assert [path for path, _ in caught.value.problems] == ["tag[1]", "tag[2]", "tag_kind[0]"]


def test_the_tag_facet_counts_tickets_within_the_viewers_rights(world: World) -> None:
    tags = _tags(world, {"dns": ["manual:vip", "source:email"], "mail": ["source:email"],
                         "secret": ["manual:vip"], "owned": ["manual:vip"], "evil": ["source:email"]})
    world.reindex()
    q = "reg.ru OR printer"

    def facet(**viewer) -> dict[str, int]:
        return {f.name: f.count for f in world.service.search(q, **viewer).facets["tag"]}

    assert facet(user_id=world.agent) == {"manual:vip": 3, "source:email": 3}
    assert facet(user_id=world.plain) == {"manual:vip": 1, "source:email": 3}
    assert facet(user_id=world.nobody) == {"manual:vip": 1}
    counts = world.service.counts(q, user_id=world.plain).facets["tag"]
    assert {f.name: f.count for f in counts} == {"manual:vip": 1, "source:email": 3}
    first = next(f for f in counts if f.name == "manual:vip")
    assert (first.id, first.label, first.colour) == (tags["manual:vip"].id, "VIP", "#1f6feb")
    # the dns ticket has two matching articles: counted once per tag (per article with group=article)
    assert {f.name: f.count for f in world.service.search(q, user_id=world.plain, group="article")
            .facets["tag"]} == {"manual:vip": 2, "source:email": 4}
    # filtered, the facet counts within the filter
    assert facet(user_id=world.agent, flt=_filter(world, ["source:email"])) == {"manual:vip": 1, "source:email": 3}
    # customers: no tag facet at all (tags are the agents' classification); a tag filter (refused by the API
    # for customers) would still stay within jane's tickets: dns, mail and secret (her company's), never evil
    assert facet(customer_login="jane") == {} and facet(customer_login="eve") == {}
    assert _found(world, q, _filter(world, ["source:email"]), customer_login="jane") == {"dns", "mail"}
    assert world.service.search(q, user_id=10_000).facets == {"queue": [], "state": [], "tag": []}


def test_hits_carry_their_tickets_tags(world: World) -> None:
    tags = _tags(world, {"dns": ["source:email", "manual:vip"]})
    world.reindex()
    hits = {h.ticket_id: h for h in world.service.search("reg.ru", user_id=world.agent).hits}
    assert [t.ref for t in hits[world.tickets["dns"]].tags] == ["manual:vip", "source:email"]
    vip = hits[world.tickets["dns"]].tags[0]
    assert (vip.id, vip.kind, vip.name, vip.label, vip.colour) == (tags["manual:vip"].id, "manual", "vip", "VIP",
                                                                   "#1f6feb")
    assert hits[world.tickets["mail"]].tags == ()


def test_tags_in_a_separate_own_database(otrs_database, search) -> None:
    """With OTRS_EXT_OWN_SCHEMA the link table lives in another database on the same server: the documents read
    it by its qualified name."""
    engine: Engine = otrs_database("znuny71")
    own = f"own_{uuid.uuid4().hex[:8]}"
    migrate.upgrade(engine, own_schema=own)
    try:
        schema = schema_maps.load("znuny71")
        run_seed(engine, schema, tickets=3, articles_per_ticket=2, seed=5)
        store = TagStore(own)
        with engine.begin() as conn:
            ticket_id, article_id = conn.execute(text("SELECT ticket_id, id FROM article ORDER BY id LIMIT 1")).one()
            tag = store.ensure(conn, "source", "email", created_by="test")
            store.link(conn, ticket_id, tag, rule="rule:source")
        indexer = Indexer(engine, schema, search, own_schema=own)
        with engine.connect() as conn:
            assert conn.execute(text("SHOW TABLES LIKE 'otrs_ext_ticket_tag'")).first() is None  # only in `own`
            articles = [r[0] for r in conn.execute(text("SELECT id FROM article"))]
        indexer.index_articles(articles)
        assert _index_tags(search, article_id) == [tag.id]
        report = reindex(engine, schema, search, own_schema=own)
        assert report.articles == len(articles) and _index_tags(search, article_id) == [tag.id]
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{own}`"))


def test_the_search_handler_brings_tags_along_with_any_later_event(search_tailing, search) -> None:
    """Tags set while the index missed them (a searchd outage, a tag set by raw SQL) reach the index with the
    ticket's next change: the handler's UPDATE of the ticket attributes carries the tag ids too."""
    tail = search_tailing()
    service = TicketService(tail.engine, tail.schema, numbers=TicketNumbers(tail.engine, tail.schema),
                            permissions=Permissions(tail.schema), invalidator=Invalidator(NullOtrsCache()),
                            store=DatabaseStore(tail.schema))
    created = service.create_ticket(1, NewTicket(title="Quota", queue="Raw"),
                                    NewArticle(body="mailbox quota exceeded", subject="quota"))
    wait_for(lambda: bool(search.query(f"SELECT id FROM {INDEX_NAME} WHERE id = %s", (created.article_id,))),
             15, "the article in the index")
    assert _index_tags(search, created.article_id) == []
    store = TagStore()
    with tail.engine.begin() as conn:
        tag = store.ensure(conn, "notification", "quota-exceeded", created_by="rule:notification")
        store.link(conn, created.ticket_id, tag, rule="rule:notification", article_id=created.article_id)
    service.set_priority(1, created.ticket_id, "4 high")  # TicketChanged priority: an UPDATE, not a REPLACE
    wait_for(lambda: _index_tags(search, created.article_id) == [tag.id], 15, "the tag in the index")
