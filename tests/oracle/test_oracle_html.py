"""HTML articles as real mail clients write them: ``a_body`` is OTRS's HTMLUtils::ToAscii of the HTML, which
OTRS shows in its plain view, quotes in replies and indexes; the HTML itself is kept as ``file-2``."""

from __future__ import annotations

import mail_bodies
import pytest
from oracle_harness import ExtCore
from pending import pending
from scenarios import AGENT, FROM_CUSTOMER, article_op, new_article, new_ticket, ticket_op

from otrs_ext.tickets.inputs import Attachment

LATER = {"op": "AddSeconds", "Seconds": 60}
LOGO = bytes.fromhex("89504e470d0a1a0a") + b"logo" * 40

BODIES = {
    "outlook": (mail_bodies.OUTLOOK, (Attachment("image001.png", LOGO, "image/png", "inline",
                                                 "image001.png@01DA1F2E.5C3B1A20"),)),
    "thunderbird": (mail_bodies.THUNDERBIRD, ()),
    "gmail": (mail_bodies.GMAIL, (Attachment("signature.png", LOGO, "image/png", "inline", "ii_m3x9k2a10"),
                                  Attachment("invoice.pdf", b"%PDF-1.4 invoice", "application/pdf"))),
    "apple-mail": (mail_bodies.APPLE_MAIL, ()),
    "cyrillic": (mail_bodies.CYRILLIC, ()),
    "entities": (mail_bodies.ENTITIES, ()),
    "long": (mail_bodies.long_html(), ()),
}


@pytest.mark.parametrize("client", list(BODIES))
@pending("search_index", "html")
def test_customer_email_from_a_mail_client(oracle, client: str) -> None:
    body, files = BODIES[client]
    fields = {"channel": "Email", "sender": "customer", "visible": True, "from_": FROM_CUSTOMER,
              "to": "support@acme.test", "subject": f"Printer ({client})", "body": body, "mime_type": "text/html",
              "history_type": "EmailCustomer", "history_comment": "%%", "attachments": files}

    def ext(core: ExtCore) -> None:
        core.advance(60)
        core.service.add_article(AGENT, core.ref("t"), new_article(**fields))
    assert oracle.scenario([LATER, article_op(**fields)], ext, setup=[ticket_op()], daemon=True) == []


@pytest.mark.parametrize("client", ["outlook", "gmail"])
@pending("search_index", "html")
def test_agent_creates_a_ticket_with_an_html_note(oracle, client: str) -> None:
    body, files = BODIES[client]
    fields = {"body": body, "mime_type": "text/html", "attachments": files, "visible": True}
    assert oracle.scenario(
        [ticket_op(), article_op(**fields)],
        lambda core: core.service.create_ticket(AGENT, new_ticket(), new_article(**fields)),
        daemon=True) == []
