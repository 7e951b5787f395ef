"""The same scenarios with ArticleStorageFS on both sides: rows and the files under ``var/article`` (paths,
modes, contents; pseudo-table ``fs_article``) must be equal."""

from __future__ import annotations

from oracle_harness import ExtCore
from pending import pending
from scenarios import AGENT, article_op, new_article, new_ticket, ticket_op

from otrs_ext.tickets.inputs import Attachment

FILES = (Attachment("report.pdf", b"%PDF-1.4 report", "application/pdf"),
         Attachment("report.pdf", b"%PDF-1.4 second", "application/pdf"),
         Attachment("logo.png", bytes.fromhex("89504e470d0a1a0a") + b"x" * 50, "image/png", "inline", "logo@acme.test"))
HTML = '<p>See the <b>report</b> and our logo <img src="cid:logo@acme.test"></p>'


@pending("search_index", "fs_modes", "html")
def test_create_with_html_and_attachments_in_fs_storage(oracle) -> None:
    fields = {"body": HTML, "mime_type": "text/html", "attachments": FILES, "visible": True}
    assert oracle.scenario([ticket_op(), article_op(**fields)],
                           lambda core: core.service.create_ticket(AGENT, new_ticket(), new_article(**fields)),
                           storage="fs", daemon=True) == []


@pending("search_index", "fs_modes")
def test_note_on_a_ticket_znuny_stored_in_fs_storage(oracle) -> None:
    """Znuny made the day's directory: otrs-ext adds its article beside Znuny's."""
    setup = [ticket_op(), article_op(body="first, by Znuny", attachments=FILES[:1])]
    fields = {"body": "second", "attachments": FILES[1:2]}

    def ext(core: ExtCore) -> None:
        core.advance(60)
        core.service.add_article(AGENT, core.ref("t"), new_article(**fields))
    assert oracle.scenario([{"op": "AddSeconds", "Seconds": 60}, article_op(**fields)], ext, setup=setup,
                           storage="fs", daemon=True) == []
