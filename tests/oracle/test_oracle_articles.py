"""Articles on an existing ticket (notes, phone calls, e-mails, customer follow-ups, attachments, inline images,
long and non-Latin texts) against Znuny's ArticleCreate, once OTRS's daemon has run."""

from __future__ import annotations

from typing import Any

import pytest
from oracle_harness import ExtCore
from pending import pending
from scenarios import AGENT, FROM_CUSTOMER, article_op, new_article, ticket_op

from otrs_ext.tickets.inputs import Attachment

LATER = {"op": "AddSeconds", "Seconds": 60}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(range(64))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + bytes(range(256)) * 8
CYRILLIC = ("Здравствуйте!\n\nПринтер в комнате 4 снова не печатает: на экране «Ошибка 0x45», бумага замята.\n"
            "Пробовали перезагрузить — не помогло. Ёлка, щука, объём, съёмка.\n\nС уважением,\nИван Петров\n")
LONG = "".join(f"Line {i}: the quick brown fox jumps over the lazy dog; ünïcödé – {i * 7919 % 1000}\n"
               for i in range(4000))


def _scenario(oracle, fields: dict[str, Any], *, setup: list[dict[str, Any]] | None = None,
              extra_ops: list[dict[str, Any]] = (), ext_extra=None, user: int = AGENT, as_system: bool = False,
              move_to: str | None = None) -> list[str]:
    def ext(core: ExtCore) -> None:
        core.advance(60)
        core.service.add_article(user, core.ref("t"), new_article(**fields), move_to=move_to, as_system=as_system)
        if ext_extra is not None:
            ext_extra(core)
    return oracle.scenario([LATER, article_op(user=user, **fields), *extra_ops], ext,
                           setup=setup or [ticket_op()], daemon=True)


@pending("search_index")
def test_agent_note(oracle) -> None:
    assert _scenario(oracle, {}) == []


@pending("search_index")
def test_note_visible_for_customer_with_cc(oracle) -> None:
    assert _scenario(oracle, {"visible": True, "cc": "boss@acme.test, Team <team@acme.test>"}) == []


@pending("search_index")
def test_phone_call_customer(oracle) -> None:
    assert _scenario(oracle, {"channel": "Phone", "sender": "customer", "visible": True, "from_": FROM_CUSTOMER,
                              "to": "Raw", "history_type": "PhoneCallCustomer", "history_comment": "%%"}) == []


@pending("search_index")
def test_email_with_threading_headers(oracle) -> None:
    fields = {"channel": "Email", "sender": "customer", "visible": True, "from_": FROM_CUSTOMER,
              "to": "support@acme.test", "history_type": "EmailCustomer", "history_comment": "%%",
              "message_id": "<CAF=1234abcd@mail.acme.test>", "in_reply_to": "<ticket-2@support.acme.test>",
              "references": "<ticket-1@support.acme.test> <ticket-2@support.acme.test>"}
    ops_fields = {k: v for k, v in fields.items() if k not in ("message_id", "in_reply_to", "references")}
    z_extra = {"MessageID": fields["message_id"], "InReplyTo": fields["in_reply_to"],
               "References": fields["references"]}

    def ext(core: ExtCore) -> None:
        core.advance(60)
        core.service.add_article(AGENT, core.ref("t"), new_article(**fields))
    assert oracle.scenario([LATER, article_op(**ops_fields, **z_extra)], ext, setup=[ticket_op()], daemon=True) == []


@pending("search_index")
def test_customer_follow_up_as_the_customer_panel_user(oracle) -> None:
    """CustomerTicketZoom: Internal backend, sender customer, visible, UserID = CustomerPanelUserID (1)."""
    fields = {"sender": "customer", "visible": True, "from_": '"Jane Doe" <jane@acme.test>', "to": "",
              "history_type": "FollowUp", "history_comment": "%%", "subject": "Re: Flames",
              "body": "It is still burning.\nPlease hurry!\n"}
    assert _scenario(oracle, fields, user=1, as_system=True) == []


@pending("search_index", "events")
def test_customer_follow_up_on_a_ticket_an_agent_answered(oracle) -> None:
    """The customer answers an agent's article: the unlock timeout restarts (and the owner is notified)."""
    setup = [ticket_op(owner=AGENT, lock="lock"),
             article_op(visible=True, subject="Question", body="Which printer model is it?")]
    fields = {"sender": "customer", "visible": True, "from_": '"Jane Doe" <jane@acme.test>', "to": "",
              "history_type": "FollowUp", "history_comment": "%%", "subject": "Re: Question",
              "body": "A LaserJet 4000.\n"}
    assert _scenario(oracle, fields, setup=setup, user=1, as_system=True) == []


@pending("search_index")
def test_time_units(oracle) -> None:
    def ext(core: ExtCore) -> None:
        core.advance(60)
        core.service.add_article(AGENT, core.ref("t"), new_article(channel="Phone", time_units=15))
    ops = [LATER, article_op(channel="Phone", ref="a"),
           {"op": "TicketAccountTime", "TicketID": "$t", "ArticleID": "$a", "TimeUnit": 15, "UserID": AGENT}]
    assert oracle.scenario(ops, ext, setup=[ticket_op()], daemon=True) == []


@pending("search_index")
def test_attachments_with_duplicate_names(oracle) -> None:
    files = (Attachment("report.pdf", PDF, "application/pdf"),
             Attachment("report.pdf", PDF[:300], "application/pdf"),
             Attachment("Отчёт за ноябрь.txt", "строка 1\nстрока 2\n".encode(), "text/plain; charset=utf-8"),
             Attachment("report.pdf", b"third", "application/pdf"))
    assert _scenario(oracle, {"attachments": files, "visible": True}) == []


@pending("search_index")
def test_html_with_inline_image_and_attachment(oracle) -> None:
    body = ('<p>Hello <b>Jane</b>,</p><p>the error looks like this:</p>'
            '<p><img src="cid:screenshot.1234@acme.test" alt="screenshot" width="1" height="1"></p>'
            '<p>Log attached. Ümlaut €</p>')
    files = (Attachment("screenshot.png", PNG, "image/png", disposition="inline",
                        content_id="screenshot.1234@acme.test"),
             Attachment("error.log", b"E: paper jam\nE: toner low\n", "text/plain"))
    assert _scenario(oracle, {"body": body, "mime_type": "text/html", "attachments": files, "visible": True}) == []


@pending("search_index")
def test_cyrillic_note(oracle) -> None:
    assert _scenario(oracle, {"subject": "Принтер не печатает", "body": CYRILLIC, "visible": True,
                              "from_": "Иван Петров <ivan@example.ru>"}) == []


@pending("search_index")
def test_long_plain_text(oracle) -> None:
    assert _scenario(oracle, {"subject": "Full log " + "x" * 300, "body": LONG}) == []


@pending("search_index")
def test_crlf_and_trailing_spaces(oracle) -> None:
    assert _scenario(oracle, {"body": "line one  \r\nline two\r\n\r\n-- \r\nsig\r\n", "subject": "  spaced  "}) == []


@pending("search_index")
def test_note_and_move(oracle) -> None:
    """AgentTicketMove with a note: TicketQueueSet first (ForceUnlock unlocks), then the note (Internal, %%Move)."""
    def ext(core: ExtCore) -> None:
        core.advance(60)
        core.service.add_article(AGENT, core.ref("t"), new_article(history_comment="%%Move"), move_to="Misc")
    ops = [LATER, {"op": "TicketQueueSet", "TicketID": "$t", "Queue": "Misc", "UserID": AGENT},
           article_op(history_comment="%%Move")]
    assert oracle.scenario(ops, ext, setup=[ticket_op(owner=AGENT, lock="lock")], daemon=True) == []


@pytest.mark.parametrize("text", ["Smile 😀 please", "Math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"], ids=["emoji", "math"])
@pending("search_index")
def test_characters_above_the_basic_plane(oracle, text: str) -> None:
    """Znuny's MySQL driver sends SET NAMES utf8 (3 bytes) and replaces such characters by U+FFFD."""
    assert _scenario(oracle, {"subject": text, "body": text}) == []
