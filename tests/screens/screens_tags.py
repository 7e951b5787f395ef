"""Tags for the screens' world: made and linked with the TagStore, then written to the index."""

from __future__ import annotations

from otrs_ext.search.indexer import Indexer
from otrs_ext.tags.store import Tag, TagStore

VIP_COLOUR = "#d73a49"


def tag_world(screens) -> dict[str, Tag]:
    """``manual:vip`` (red, labelled VIP) on the dns ticket, ``source:email`` on both tickets; in the index."""
    store = TagStore()
    with screens.engine.begin() as conn:
        vip = store.ensure(conn, "manual", "vip", created_by="1", colour=VIP_COLOUR, labels={"en": "VIP"})
        email = store.ensure(conn, "source", "email", created_by="rule:source", labels={"en": "E-mail"})
        store.link(conn, screens.tickets["dns"], vip, agent_id=1, audit=True)
        for ticket_id in screens.tickets.values():
            store.link(conn, ticket_id, email, rule="rule:source")
    Indexer(screens.engine, screens.runtime.schema, screens.runtime.search).sync_tickets(screens.tickets.values())
    return {"manual:vip": vip, "source:email": email}
