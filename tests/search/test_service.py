"""The search service against a real searchd and MariaDB: permissions, domains, morphology, facets, paging."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from search_support import HOSTILE_SQL, World, index_all, truncate
from sqlalchemy import text

from otrs_ext.errors import ValidationError
from otrs_ext.search.query import parse
from otrs_ext.search.service import SearchFilter
from otrs_ext.seed import run_seed


def ids(world: World, q: str, **kwargs) -> set[str]:
    """Names of the tickets a search finds (article-level hits folded to their ticket)."""
    result = world.service.search(q, **kwargs)
    names = {v: k for k, v in world.tickets.items()}
    return {names[h.ticket_id] for h in result.hits}


def test_agent_sees_queues_with_ro_and_his_own_tickets(world: World) -> None:
    assert ids(world, "printer", user_id=world.agent) == {"evil", "owned"}
    assert ids(world, "printer", user_id=world.plain) == {"evil"}  # no rights on Secret
    assert ids(world, "printer", user_id=world.nobody) == {"owned"}  # no groups, but he owns it
    assert ids(world, "reg.ru", user_id=world.plain) == {"dns", "mail"}
    assert world.service.search("reg.ru", user_id=world.plain).total == 2
    assert ids(world, "reg.ru", user_id=world.agent) == {"dns", "mail", "secret"}


def test_agents_owning_many_tickets_elsewhere_see_the_same(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tickets an agent sees only as owner are listed by id up to a limit; past it the grants are evaluated
    per match instead. Both give the same answers."""
    monkeypatch.setattr("otrs_ext.search.service.MAX_LISTED_TICKETS", 0)
    assert ids(world, "printer", user_id=world.agent) == {"evil", "owned"}
    assert ids(world, "printer", user_id=world.plain) == {"evil"}
    assert ids(world, "printer", user_id=world.nobody) == {"owned"}
    assert world.service.search("printer", user_id=world.nobody).total == 1


def test_responsible_counts_when_ticket_responsible_is_on(world: World) -> None:
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE ticket SET responsible_user_id = :u WHERE id = :t"),
                     {"u": world.plain, "t": world.tickets["secret"]})
    world.reindex()
    assert "secret" not in ids(world, "audit", user_id=world.plain)
    world.service.permissions.responsible_enabled = True
    try:
        assert ids(world, "audit", user_id=world.plain) == {"secret"}
    finally:
        world.service.permissions.responsible_enabled = False


def test_customers_see_own_and_company_tickets_and_only_visible_articles(world: World) -> None:
    # jane: own (dns, secret), ACME colleague bob's (mail), her extra company ROGA (roga); never EVIL
    assert ids(world, "reg.ru", customer_login="jane") == {"dns", "mail", "secret"}
    assert ids(world, "серверы", customer_login="jane") == {"dns", "roga"}
    assert ids(world, "printer", customer_login="jane") == set()
    assert ids(world, "reg.ru", customer_login="bob") == {"dns", "mail", "secret"}
    assert ids(world, "серверы", customer_login="bob") == {"dns"}  # no ROGA membership
    assert ids(world, "printer", customer_login="eve") == {"evil"}
    assert ids(world, "reg.ru", customer_login="eve") == set()
    assert ids(world, "reg.ru", customer_login="stranger") == set()
    # the internal note exists only for agents, and its words do not even count for customers
    assert ids(world, "registrar", user_id=world.agent) == {"dns"}
    jane = world.service.search("registrar", customer_login="jane")
    assert (jane.total, jane.hits, jane.facets["queue"]) == (0, [], [])
    dns = world.service.search("reg.ru", customer_login="jane", group="article")
    assert world.articles["dns-internal"] not in {h.article_id for h in dns.hits}


def test_company_access_can_be_switched_off(world: World) -> None:
    world.service.permissions.customer_company_access = False
    try:
        assert ids(world, "reg.ru", customer_login="jane") == {"dns", "secret"}
        assert ids(world, "reg.ru", customer_login="bob") == {"mail"}
    finally:
        world.service.permissions.customer_company_access = True


def test_an_index_behind_the_database_never_leaks(world: World) -> None:
    """The ticket moved to Secret but the index still says Raw: totals may lag, the hit itself is dropped."""
    with world.engine.begin() as conn:
        secret = conn.execute(text("SELECT id FROM queue WHERE name = 'Secret'")).scalar_one()
        conn.execute(text("UPDATE ticket SET queue_id = :q WHERE id = :t"), {"q": secret, "t": world.tickets["mail"]})
    assert ids(world, "billing@reg.ru", user_id=world.plain) == set()


def test_ticket_results_are_grouped_with_the_best_article_first(world: World) -> None:
    by_ticket = world.service.search("reg.ru", user_id=world.agent)
    dns = next(h for h in by_ticket.hits if h.ticket_id == world.tickets["dns"])
    assert dns.matched_articles == 2 and dns.article_id == world.articles["dns"]  # subject+body beat the note
    by_article = world.service.search("reg.ru", user_id=world.agent, group="article")
    assert by_article.total == 4 and by_ticket.total == 3
    assert len({h.ticket_id for h in by_ticket.hits}) == len(by_ticket.hits)


def test_hits_link_to_otrs_and_to_the_api_and_highlight_safely(world: World) -> None:
    note = world.core.service.add_article(world.agent, world.tickets["evil"],
                                          _note("<script>alert(1)</script> printer & co"))
    world.reindex()
    hit = next(h for h in world.service.search("printer", user_id=world.agent, group="article").hits
               if h.article_id == note)
    assert hit.snippet == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>printer</mark> &amp; co"
    assert hit.links == {
        "otrs": f"https://otrs.example/otrs/index.pl?Action=AgentTicketZoom;TicketID={hit.ticket_id};"
                f"ArticleID={hit.article_id}",
        "api": f"/api/v1/tickets/{hit.ticket_id}"}
    customer = world.service.search("printer", customer_login="eve").hits[0]
    assert customer.links["otrs"] == ("https://otrs.example/otrs/customer.pl?Action=CustomerTicketZoom;"
                                      f"TicketNumber={customer.tn}")
    assert world.service.search("reg.ru", user_id=world.agent).hits[0].subject_snippet.count("<mark>reg.ru</mark>")


def test_russian_morphology_exact_forms_and_yo(world: World) -> None:
    assert ids(world, "серверы", user_id=world.agent) == {"dns", "roga"}  # серверов, серверы
    assert ids(world, "сервер", user_id=world.agent) == {"dns", "roga"}
    assert ids(world, "=серверов", user_id=world.agent) == {"dns"}
    assert ids(world, "счет", user_id=world.agent) == {"roga"}  # title "Счёт": ё folds to е
    assert ids(world, "servers", user_id=world.agent) == {"secret"}
    assert ids(world, "серв*", user_id=world.agent) == {"dns", "roga"}


def test_ticket_numbers_and_ips_are_exact(world: World) -> None:
    with world.engine.connect() as conn:
        tn = conn.execute(text("SELECT tn FROM ticket WHERE id = :t"), {"t": world.tickets["roga"]}).scalar_one()
    assert ids(world, tn, user_id=world.agent) == {"roga"}
    assert ids(world, tn[:-1], user_id=world.agent) == set()
    assert ids(world, "192.168.1.10", user_id=world.agent) == {"evil"}
    assert ids(world, "192.168.1.1", user_id=world.agent) == set()
    assert ids(world, "number:" + tn, user_id=world.agent) == {"roga"}


def test_field_scopes_or_and_exclusion(world: World) -> None:
    assert ids(world, "from:jane", user_id=world.agent) == {"dns"}
    assert ids(world, "to:support@reg.ru", user_id=world.agent) == {"dns"}
    assert ids(world, "to:reg.ru", user_id=world.agent) == {"dns"}
    assert ids(world, "title:printer", user_id=world.agent) == {"evil", "owned"}
    assert ids(world, "printer OR mailbox", user_id=world.agent) == {"evil", "owned", "mail"}
    assert ids(world, "printer -nobody", user_id=world.agent) == {"evil"}
    assert ids(world, '"printer on fire"', user_id=world.agent) == {"evil"}
    assert ids(world, '"fire on printer"', user_id=world.agent) == set()


def test_filters(world: World) -> None:
    agent = world.agent
    assert ids(world, "reg.ru", user_id=agent, flt=SearchFilter(queues=("Raw",))) == {"dns", "mail"}
    assert ids(world, "reg.ru", user_id=agent, flt=SearchFilter(states=("open",))) == set()
    assert ids(world, "reg.ru", user_id=agent, flt=SearchFilter(state_types=("new",))) == {"dns", "mail", "secret"}
    assert ids(world, "reg.ru", user_id=agent, flt=SearchFilter(customer_user="bob")) == {"mail"}
    assert ids(world, "reg.ru", user_id=agent, flt=SearchFilter(customer_id="acme")) == {"dns", "mail", "secret"}
    assert ids(world, "printer", user_id=agent, flt=SearchFilter(owner_id=world.nobody)) == {"owned"}
    now = datetime.now()
    assert ids(world, "reg.ru", user_id=agent, flt=SearchFilter(created_from=now + timedelta(days=2))) == set()
    assert len(ids(world, "reg.ru", user_id=agent, flt=SearchFilter(created_from=now - timedelta(days=2),
                                                                     created_to=now + timedelta(days=2)))) == 3
    world.reindex(tags={world.tickets["dns"]: (7, 9), world.tickets["mail"]: (7,)})
    assert ids(world, "reg.ru", user_id=agent, flt=SearchFilter(tag_ids=(7,))) == {"dns", "mail"}
    assert ids(world, "reg.ru", user_id=agent, flt=SearchFilter(tag_ids=(7, 9))) == {"dns"}
    with pytest.raises(ValidationError) as caught:
        world.service.search("reg.ru", SearchFilter(queues=("Nope",)), user_id=agent)
    assert caught.value.problems == [("queue[0]", "unknown queue 'Nope'")]


def test_facets_count_tickets_per_queue_and_state(world: World) -> None:
    result = world.service.search("reg.ru OR printer", user_id=world.agent)
    assert {f.name: f.count for f in result.facets["queue"]} == {"Raw": 3, "Secret": 2}
    assert {f.name: f.count for f in result.facets["state"]} == {"new": 5}
    articles = world.service.search("reg.ru OR printer", user_id=world.agent, group="article")
    assert {f.name: f.count for f in articles.facets["queue"]} == {"Raw": 4, "Secret": 2}


def test_paging_with_cursors_visits_every_hit_once(world: World) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = world.service.search("reg.ru OR printer OR серверы", user_id=world.agent, limit=2, cursor=cursor,
                                    sort="recent")
        seen += [h.ticket_id for h in page.hits]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert page.total == 6 and sorted(seen) == sorted(set(seen)) and len(seen) == 6 and pages == 3
    with pytest.raises(ValidationError):
        world.service.search("x", user_id=world.agent, cursor="bm9wZQ")


def test_recent_sort_is_newest_ticket_change_first(world: World) -> None:
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE ticket SET change_time = change_time + INTERVAL 1 DAY WHERE id = :t"),
                     {"t": world.tickets["mail"]})
    world.reindex()
    hits = world.service.search("reg.ru", user_id=world.agent, sort="recent").hits
    assert hits[0].ticket_id == world.tickets["mail"]


def test_hostile_queries_never_reach_sphinxql_unescaped(world: World) -> None:
    """Each one either runs as an ordinary search or is refused as invalid input: never a SphinxQL error."""
    outcomes = {}
    for hostile in HOSTILE_SQL:
        try:
            outcomes[hostile] = world.service.search(hostile, user_id=world.agent).total
        except ValidationError as refused:
            assert refused.problems[0][0] == "q"
            outcomes[hostile] = "invalid"
    assert world.runtime.search.query("SELECT COUNT(*) FROM articles")[0][0] == 8  # nothing was deleted
    assert outcomes["~/^$<!= printer"] == 2 and outcomes["-printer"] == "invalid"
    assert outcomes["@body printer"] == 0  # "@" is no field operator here: the word "body" is required
    assert outcomes["printer' AND queue_id=5 OR '1'='1"] == 0  # just words, none of them in a printer ticket


def test_domain_and_email_counts_equal_like_at_token_boundaries(world: World) -> None:
    """On the seed's realistic mail (hosting, reg.ru, e-mails, subdomains), the search finds exactly the
    articles a token-bounded LIKE finds in the indexed columns."""
    run_seed(world.engine, world.schema, tickets=60, articles_per_ticket=3, seed=11, progress=False)
    truncate(world.runtime.search)
    assert index_all(world.engine, world.schema, world.runtime.search) > 100
    with world.engine.connect() as conn:
        sample = conn.execute(text("SELECT a_from FROM article_data_mime WHERE a_from LIKE '%@%' LIMIT 1")).scalar()
    email = re.search(r"[\w.+-]+@[\w.-]+\w", sample).group(0)
    terms = ["reg.ru", "hosting.reg.ru", "example.reg.ru", "mail.ru", "example.com", "helpdesk.example.ru", email]
    timings = []
    for term in terms:
        started = time.perf_counter()
        found = _index_count(world, term)
        timings.append(time.perf_counter() - started)
        expected = _like_count(world, term)
        assert found == expected, (term, found, expected)
        assert expected > 0 or term == "example.com", term
    assert max(timings) < 1.0
    # a domain prefix: the same left boundary, anything after it
    for prefix in ("reg.r", "hosting.reg", email[:email.index("@") + 2]):
        assert _index_count(world, prefix + "*") == _like_count(world, prefix, prefix=True) > 0, prefix


WORD_CHAR = "0-9A-Za-z_\u0401\u0410-\u044f\u0451"


def _like_count(world: World, term: str, *, prefix: bool = False) -> int:
    """Articles whose indexed text holds ``term`` with no word character right before it and (unless
    ``prefix``) none right after it."""
    pattern = f"(?<![{WORD_CHAR}]){re.escape(term)}" + ("" if prefix else f"(?![{WORD_CHAR}])")
    columns = ["a.a_subject", "a.a_body", "a.a_from", "a.a_to", "a.a_cc", "t.title"]
    where = " OR ".join(f"({c} LIKE :like AND {c} REGEXP :re)" for c in columns)
    with world.engine.connect() as conn:
        return conn.execute(text(
            f"SELECT COUNT(*) FROM article_data_mime a JOIN article x ON x.id = a.article_id "
            f"JOIN ticket t ON t.id = x.ticket_id WHERE {where}"), {"like": f"%{term}%", "re": pattern}).scalar_one()


def _index_count(world: World, term: str) -> int:
    with world.runtime.search.connection() as sx, sx.cursor() as cur:
        cur.execute("SELECT id FROM articles WHERE MATCH(%s) LIMIT 0", (parse(term).match,))
        cur.execute("SHOW META")
        return int(dict(cur.fetchall())["total_found"])


def _note(body: str):
    from otrs_ext.tickets.inputs import NewArticle
    return NewArticle(body=body, subject="note", visible_for_customer=True)
