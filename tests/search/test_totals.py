"""Search totals past the grouping depth, and the cache of counts: what an agent reads as "N tickets"."""

from __future__ import annotations

import pytest
from search_support import World
from sqlalchemy import text

from otrs_ext.search import cache as search_cache
from otrs_ext.search.cache import MemorySearchCache
from otrs_ext.search.indexer import Indexer
from otrs_ext.search.service import SearchService
from otrs_ext.tickets.inputs import NewArticle, NewTicket

WORD = "zebrafish"


class CountingCache(MemorySearchCache):
    hits = 0

    def get(self, key: str) -> bytes | None:
        found = super().get(key)
        self.hits += found is not None
        return found


def _service(world: World, *, group_depth: int, cache: MemorySearchCache | None = None) -> SearchService:
    base = world.service
    return SearchService(world.engine, world.schema, world.runtime.search, base.permissions,
                         otrs_base_url="https://otrs.example/otrs/", cache=cache, group_depth=group_depth)


def _tickets_in_rounds(world: World, tickets: int, rounds: int) -> list[int]:
    """``tickets`` tickets whose articles mentioning WORD were written in ``rounds`` rounds, so every ticket's
    articles lie apart in id order (and, flushed between rounds, in different RT chunks): Sphinx's GROUP BY
    meets each ticket again after it may have dropped it."""
    service = world.core.service
    ids = []
    for n in range(tickets):
        created = service.create_ticket(1, NewTicket(title=f"Aquarium {n}", queue="Raw" if n % 3 else "Secret"),
                                        NewArticle(body=f"the {WORD} tank number {n}", subject="tank",
                                                   channel="Email", sender_type="customer",
                                                   visible_for_customer=True),
                                        as_system=True)
        ids.append(created.ticket_id)
    world.reindex()
    for round_ in range(1, rounds):
        world.runtime.search.query("FLUSH RAMCHUNK articles")  # the next round goes to a new chunk
        new = [service.add_article(1, ticket_id, NewArticle(body=f"{WORD} again, round {round_}", subject="more"),
                                   as_system=True) for ticket_id in ids]
        Indexer(world.engine, world.schema, world.runtime.search).index_articles(new)
    return ids


def _database_counts(world: World) -> tuple[int, int]:
    """(tickets, articles) whose body holds WORD, counted by MariaDB."""
    with world.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT COUNT(DISTINCT a.ticket_id), COUNT(*) FROM article a JOIN article_data_mime m "
            "ON m.article_id = a.id WHERE m.a_body LIKE :like"), {"like": f"%{WORD}%"}).one()
    return int(row[0]), int(row[1])


def test_ticket_totals_past_the_grouping_depth_are_exact_in_both_orders(world: World,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _tickets_in_rounds(world, tickets=14, rounds=3)
    tickets, articles = _database_counts(world)
    assert (tickets, articles) == (14, 42)
    shallow = _service(world, group_depth=3)  # a GROUP BY keeping 3 tickets: its own total would be an estimate
    with world.engine.connect() as conn:
        matched = dict(conn.execute(text(
            "SELECT a.ticket_id, COUNT(*) FROM article a JOIN article_data_mime m ON m.article_id = a.id "
            "WHERE m.a_body LIKE :like GROUP BY a.ticket_id"), {"like": f"%{WORD}%"}).all())
    pages = {}
    for folded in (250, 0):  # pages folded from article rows, then every page through the GROUP BY
        monkeypatch.setattr("otrs_ext.search.service.MAX_FOLDED_TICKETS", folded)
        for sort in ("relevance", "recent"):
            seen, cursor = [], None
            while True:
                page = shallow.search(WORD, user_id=world.agent, sort=sort, limit=2, cursor=cursor)
                assert page.total == tickets, (folded, sort)
                assert all(h.matched_articles == matched[h.ticket_id] for h in page.hits), (folded, sort)
                seen += [h.ticket_id for h in page.hits]
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert sorted(seen) == sorted(ids), (folded, sort)  # every ticket once
            pages[folded, sort] = seen
    # both ways give the same order: best article first (newest of equals), or most recently changed first
    assert pages[250, "relevance"] == pages[0, "relevance"] and pages[250, "recent"] == pages[0, "recent"]
    # per article the total is searchd's, exact too
    assert shallow.search(WORD, user_id=world.agent, group="article", limit=2).total == articles
    # the counts request: the exact total, and facets that add up to it
    counted = shallow.counts(WORD, user_id=world.agent)
    assert counted.total == tickets and sum(f.count for f in counted.facets["queue"]) == tickets
    assert {f.name: f.count for f in counted.facets["queue"]} == {"Raw": 9, "Secret": 5}
    assert shallow.counts(WORD, user_id=world.agent, group="article").total == articles


def test_a_ticket_with_many_matching_articles_still_fills_the_page(world: World) -> None:
    """Folding article rows reads a few per ticket wanted; a ticket with more matching articles than that
    pushes the others out of reach, and the page then comes from the GROUP BY."""
    ids = _tickets_in_rounds(world, tickets=3, rounds=1)
    flood = [world.core.service.add_article(1, ids[0], NewArticle(body=f"{WORD} {WORD} {WORD} again {n}",
                                                                  subject=WORD), as_system=True) for n in range(40)]
    Indexer(world.engine, world.schema, world.runtime.search).index_articles(flood)
    page = _service(world, group_depth=1000).search(WORD, user_id=world.agent, limit=2)
    assert page.total == 3 and len(page.hits) == 2 and page.next_cursor
    assert page.hits[0].ticket_id == ids[0] and page.hits[0].matched_articles == 41


def test_counts_are_cached_until_the_index_changes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_cache, "CACHE_MIN_MS", 0.0)  # keep even these small counts
    ids = _tickets_in_rounds(world, tickets=4, rounds=2)
    cache = CountingCache()
    service = _service(world, group_depth=2, cache=cache)
    first = service.counts(WORD, user_id=world.agent)
    # the exact total, the queue/state facets and the tag facet
    assert first.total == 4 and len(cache._items) == 3 and cache.hits == 0
    again = service.counts(WORD, user_id=world.agent)
    assert (again.total, again.facets) == (first.total, first.facets) and cache.hits == 3  # all from the cache
    # the page too, and it is still checked against MariaDB: a ticket moved away since is not shown
    page = service.search(WORD, user_id=world.plain, sort="recent", facets=False)
    assert [h.ticket_id for h in service.search(WORD, user_id=world.plain, sort="recent", facets=False).hits] \
        == [h.ticket_id for h in page.hits] and cache.hits == 5  # its rows and its total
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE ticket SET queue_id = (SELECT id FROM queue WHERE name = 'Secret') WHERE id = :t"),
                     {"t": page.hits[0].ticket_id})
    assert page.hits[0].ticket_id not in {h.ticket_id for h in service.search(
        WORD, user_id=world.plain, sort="recent", facets=False).hits}
    # permissions are part of the key: an agent without the Secret queue's group gets his own counts
    plain = service.counts(WORD, user_id=world.plain)
    assert {f.name for f in plain.facets["queue"]} == {"Raw"} and plain.total == 2
    indexer = Indexer(world.engine, world.schema, world.runtime.search)
    # a new matching ticket (REPLACE)
    created = world.core.service.create_ticket(1, NewTicket(title="Fifth tank", queue="Raw"),
                                               NewArticle(body=f"a {WORD}", subject="tank", channel="Email",
                                                          sender_type="customer", visible_for_customer=True),
                                               as_system=True)
    indexer.index_articles([created.article_id])
    assert service.counts(WORD, user_id=world.agent).total == 5
    assert service.search(WORD, user_id=world.agent, sort="recent", facets=False).hits[0].ticket_id \
        == created.ticket_id
    # a queue move (UPDATE of attributes only, no text written)
    with world.engine.begin() as conn:
        secret = conn.execute(text("SELECT id FROM queue WHERE name = 'Secret'")).scalar_one()
        conn.execute(text("UPDATE ticket SET queue_id = :q WHERE id = :t"), {"q": secret, "t": created.ticket_id})
    indexer.refresh_ticket(created.ticket_id)
    moved = service.counts(WORD, user_id=world.agent)
    assert {f.name: f.count for f in moved.facets["queue"]} == {"Raw": 2, "Secret": 3}
    # a deleted ticket (DELETE)
    indexer.delete_ticket(ids[0])
    assert service.counts(WORD, user_id=world.agent).total == 4
