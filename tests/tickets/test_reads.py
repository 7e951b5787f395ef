"""``TicketReader``: a ticket as the OTRS UI shows it (names, articles with plain and HTML body, attachments,
dynamic fields, Seen flags, history sentences), for agents and customers, on several generations.

A ticket the caller may not see reads as not found, with the same message as a ticket that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from factories import add_agent, add_customer_company, add_customer_user, audit
from sqlalchemy import Engine

from otrs_ext.errors import NotFound
from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket

GENERATIONS = [("znuny71", False), ("otrs5", False), ("otobo11", False), ("znuny7", True)]
HTML = "<p>Internal <i>analysis</i></p>"


@dataclass
class Scene:
    core: Any
    ticket_id: int
    tn: str
    public_id: int  # article visible for the customer
    internal_id: int  # internal HTML note with an attachment


def add_text_field(engine: Engine, schema: Any, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(schema.tables.dynamic_field.insert().values(
            internal_field=0, name=name, label=name, field_order=1, field_type="Text", object_type="Ticket",
            config=b"---\n", valid_id=1, **audit(conn)))


@pytest.fixture(params=GENERATIONS, ids=[g + ("-genuine" if genuine else "") for g, genuine in GENERATIONS])
def scene(request: pytest.FixtureRequest, ticket_core) -> Scene:
    generation, genuine = request.param
    core = ticket_core(generation, genuine=genuine)
    with core.engine.begin() as conn:
        add_customer_company(conn, core.schema, "acme")
        add_customer_company(conn, core.schema, "globex")
        add_customer_user(conn, core.schema, "alice", "acme")
        add_customer_user(conn, core.schema, "bob", "acme")
        add_customer_user(conn, core.schema, "eve", "globex")
    add_text_field(core.engine, core.schema, "Region")
    service = core.service
    created = service.create_ticket(
        core.agent, NewTicket(title="Printer on fire", queue="Raw", customer_id="acme", customer_user="alice",
                              dynamic_fields={"Region": "North"}),
        NewArticle(body="It smokes.\r\nPlease help.", subject="Fire", channel="Phone", sender_type="customer",
                   visible_for_customer=True, from_="alice@example.com", history_type="PhoneCallCustomer",
                   history_comment="%%"))
    internal = service.add_article(core.agent, created.ticket_id, NewArticle(
        body=HTML, mime_type="text/html", subject="Analysis",
        attachments=[Attachment("log.txt", b"smoke detected", "text/plain")]))
    return Scene(core, created.ticket_id, created.tn, created.article_id or 0, internal)


def test_agent_reads_ticket_articles_and_attachments(scene: Scene) -> None:
    reader, agent = scene.core.reader, scene.core.agent
    view = reader.get(ticket_id=scene.ticket_id, user_id=agent)
    assert reader.get(tn=scene.tn, user_id=agent) == view
    assert (view.tn, view.title, view.queue, view.state, view.priority, view.lock, view.type) == (
        scene.tn, "Printer on fire", "Raw", "new", "3 normal", "unlock", "Unclassified")
    assert (view.customer_id, view.customer_user) == ("acme", "alice")
    assert view.dynamic_fields == {"Region": "North"}
    assert view.seen_by == [agent]  # he wrote the last article, so he has seen them all

    public, internal = view.articles
    assert (public.article_id, public.sender_type, public.channel, public.visible_for_customer) == (
        scene.public_id, "customer", "Phone", True)
    assert (public.subject, public.body, public.body_html, public.from_) == (
        "Fire", "It smokes.\nPlease help.", None, "alice@example.com")
    assert (internal.article_id, internal.sender_type, internal.channel, internal.visible_for_customer) == (
        scene.internal_id, "agent", "Internal", False)
    assert (internal.body_html, internal.body) == (HTML, "\nInternal analysis\n\n")
    assert [(m.file_id, m.filename, m.content_type, m.size) for m in internal.attachments] == [
        (2, "log.txt", "text/plain", 14)]
    meta, content = reader.attachment(scene.internal_id, 2, user_id=agent)
    assert (meta.filename, content) == ("log.txt", b"smoke detected")
    with pytest.raises(NotFound):
        reader.attachment(scene.internal_id, 3, user_id=agent)


def test_history_with_rendered_sentences(scene: Scene) -> None:
    view = scene.core.reader.get(ticket_id=scene.ticket_id, user_id=scene.core.agent, history=True)
    sentences = [(h.history_type, h.text) for h in view.history]
    assert sentences[0] == (
        "NewTicket", f'Created ticket [{scene.tn}] in "Raw" with priority "3 normal" and state "new".')
    assert ("CustomerUpdate", 'Changed customer to "CustomerID=acme;CustomerUser=alice;".') in sentences
    assert ("TicketDynamicFieldUpdate", 'Changed dynamic field Region from "" to "North".') in sentences
    assert ("AddNote", "Added note (Note).") in sentences
    assert [h.article_id for h in view.history if h.history_type in ("PhoneCallCustomer", "AddNote")] == [
        scene.public_id, scene.internal_id]
    assert scene.core.reader.get(ticket_id=scene.ticket_id, user_id=scene.core.agent).history == []


def test_customer_sees_own_and_company_tickets_with_visible_articles_only(scene: Scene) -> None:
    for login in ("alice", "BOB"):  # the ticket's customer user; a colleague of the company, in other case
        view = scene.core.reader.get(tn=scene.tn, customer_login=login, history=True)
        assert [a.article_id for a in view.articles] == [scene.public_id]
        assert view.history == []
        with pytest.raises(NotFound):
            scene.core.reader.attachment(scene.internal_id, 2, customer_login=login)


def test_callers_without_permission_get_not_found_as_for_a_missing_ticket(scene: Scene) -> None:
    core, reader = scene.core, scene.core.reader
    with pytest.raises(NotFound) as hidden:
        reader.get(ticket_id=scene.ticket_id, customer_login="eve")
    with pytest.raises(NotFound) as missing:
        reader.get(ticket_id=scene.ticket_id + 1000, customer_login="eve")
    assert hidden.value.message == missing.value.message.replace(str(scene.ticket_id + 1000), str(scene.ticket_id))
    with core.engine.begin() as conn:
        outsider = add_agent(conn, core.schema)
    for caller in ({"customer_login": "eve"}, {"customer_login": "nobody"}, {"user_id": outsider}):
        with pytest.raises(NotFound):
            reader.get(tn=scene.tn, **caller)
        with pytest.raises(NotFound):
            reader.attachment(scene.internal_id, 2, **caller)
