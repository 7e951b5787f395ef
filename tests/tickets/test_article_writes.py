"""ArticleCreate writes the rows OTRS writes (OTRS_INTERNALS §4.3, §13): the article and MIME rows, the HTML
body as ``file-2``, attachments, the history row, the Seen flags, the unlock-timeout reset, time accounting and
the move that can follow a note.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from ops_support import CORES, Core, own_schemas_only, shared_core

from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket

RESET = ("Misc", "Reset of unlock time.")


@pytest.fixture(scope="module", params=CORES)
def core(request: pytest.FixtureRequest, mariadb_server, tmp_path_factory: pytest.TempPathFactory) -> Core:
    return shared_core(request, mariadb_server, tmp_path_factory)


def epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def new_ticket(core: Core) -> int:
    core.clock.advance(1)
    return core.service.create_ticket(core.agent, NewTicket(title="Printer on fire", queue="Raw")).ticket_id


def article(**fields: Any) -> NewArticle:
    return NewArticle(**{"body": "Checked the toner.", "subject": "Toner", "from_": "Bench Agent <agent1@example.com>",
                         **fields})


def mime(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k.startswith("a_") or k in ("incoming_time", "content_path")}


# --- the article rows -------------------------------------------------------------------------------------
def test_internal_note_rows(core: Core) -> None:
    ticket_id = new_ticket(core)
    core.clock.advance(1)
    article_id = core.service.add_article(core.agent, ticket_id, article(
        body="line 1\r\nline 2\rline 3\n", to="Jane <jane@acme.test>,\n John <john@acme.test>", cc="boss@acme.test"))
    now = core.clock.current
    (row,) = core.articles(ticket_id)
    assert (row["id"], row["article_sender_type_id"], row["channel"], row["is_visible_for_customer"]) == (
        article_id, core.id("article_sender_type", "agent"), "Internal", 0)
    assert mime(row) == {
        "a_from": "Bench Agent <agent1@example.com>", "a_reply_to": "",
        "a_to": "Jane <jane@acme.test>, John <john@acme.test>", "a_cc": "boss@acme.test",
        "a_bcc": None if core.schema.generation == "otrs5" else "", "a_subject": "Toner",
        "a_message_id": "", "a_message_id_md5": None, "a_in_reply_to": "", "a_references": "",
        "a_content_type": "text/plain; charset=utf-8", "a_body": "line 1\nline 2\rline 3\n",
        "incoming_time": epoch(now), "content_path": "2025/11/25",
    }
    assert (row["create_time"], row["create_by"], row["change_time"], row["change_by"]) == (
        now, core.agent, now, core.agent)
    meta = core.article_meta(article_id)
    if "search_index_needs_rebuild" in meta:  # OTRS 6+: the daemon indexes it (§9)
        assert meta["search_index_needs_rebuild"] == 1
        assert meta["insert_fingerprint"].split("-")[0].isdigit()
    else:  # OTRS 5 keeps channel and visibility in the article type
        assert meta["article_type_id"] == core.id("article_type", "note-internal")
    assert core.attachments(article_id) == []
    history = core.history(ticket_id)[1:]
    assert [(r["type"], r["name"], r["article_id"], r["create_by"]) for r in history] == [
        ("AddNote", "%%Note", article_id, core.agent), (*RESET, None, core.agent)]
    assert history[0]["text"] == "Added note (Note)."


@own_schemas_only
@pytest.mark.parametrize(("channel", "sender", "visible", "history_type", "comment", "sentence"), [
    ("Email", "customer", True, "EmailCustomer", "%%", "Added email. "),
    ("Email", "agent", True, "SendAnswer", "%%jane@acme.test", 'Sent email to "jane@acme.test".'),
    ("Email", "agent", False, "Forward", "%%boss@acme.test", 'Forwarded to "boss@acme.test".'),
    ("Phone", "customer", True, "PhoneCallCustomer", "%%", "Added phone call from customer."),
    ("Phone", "agent", True, "PhoneCallAgent", "%%", "Added phone call to customer."),
    ("Internal", "customer", True, "WebRequestCustomer", "%%", "Added web request from customer."),
    ("Internal", "system", False, "SystemRequest", "%%Reminder", "Added system request (Reminder)."),
    ("Internal", "customer", True, "FollowUp", "%%", "Added follow-up to ticket []. "),
])
def test_channel_sender_and_visibility(core: Core, channel: str, sender: str, visible: bool, history_type: str,
                                       comment: str, sentence: str) -> None:
    ticket_id = new_ticket(core)
    article_id = core.service.add_article(core.agent, ticket_id, article(
        channel=channel, sender_type=sender, visible_for_customer=visible, history_type=history_type,
        history_comment=comment))
    (row,) = core.articles(ticket_id)
    assert (row["channel"], row["article_sender_type_id"], row["is_visible_for_customer"]) == (
        channel, core.id("article_sender_type", sender), int(visible))
    entry = core.history(ticket_id)[1]
    assert (entry["type"], entry["name"], entry["article_id"], entry["text"]) == (
        history_type, comment, article_id, sentence)


@own_schemas_only
def test_message_id_and_its_md5(core: Core) -> None:
    ticket_id = new_ticket(core)
    message_id = "<1764100800.4711@otrs.example.com>"
    core.service.add_article(core.agent, ticket_id, article(
        channel="Email", message_id=message_id, in_reply_to="<a@b>", references="<x@y>\n <a@b>"))
    (row,) = core.articles(ticket_id)
    assert (row["a_message_id"], row["a_message_id_md5"], row["a_in_reply_to"], row["a_references"]) == (
        message_id, hashlib.md5(message_id.encode()).hexdigest(), "<a@b>", "<x@y> <a@b>")


# --- HTML and attachments ---------------------------------------------------------------------------------
def test_html_body_is_kept_as_file_2_and_rendered_as_text(core: Core) -> None:
    ticket_id = new_ticket(core)
    html = "<p>Hello <b>Jane</b>,</p><p>see the attached file. Ümlaut €</p>"
    article_id = core.service.add_article(core.agent, ticket_id, article(
        body=html, mime_type="text/html", visible_for_customer=True,
        attachments=[Attachment(filename="report.txt", content=b"line 1\n", content_type="text/plain")]))
    (row,) = core.articles(ticket_id)
    assert (row["a_content_type"], row["a_body"]) == (
        "text/plain; charset=utf-8", "\nHello Jane,\n\nsee the attached file. Ümlaut €\n\n")
    files = core.attachments(article_id)
    assert [(f["filename"], f["content_type"], f["disposition"], f["content_id"], f["content_alternative"],
             f["content_size"]) for f in files] == [
        ("file-2", 'text/html; charset="utf-8"', "", None, None, str(len(html.encode()))),
        ("report.txt", "text/plain", "attachment", None, None, "7"),
    ]
    assert files[0]["content"] == html.encode()
    assert {(f["create_by"], f["change_by"]) for f in files} == {(core.agent, core.agent)}
    view = core.reader.get(ticket_id=ticket_id).articles[0]
    assert (view.body_html, [a.filename for a in view.attachments]) == (html, ["report.txt"])


def test_attachments_keep_content_id_disposition_and_get_unique_names(core: Core) -> None:
    ticket_id = new_ticket(core)
    article_id = core.service.add_article(core.agent, ticket_id, article(attachments=[
        Attachment(filename="logo.png", content=b"\x89PNG", content_type="image/png", disposition="inline",
                   content_id="logo@acme"),
        Attachment(filename="notes.txt", content=b"a", content_type="text/plain"),
        Attachment(filename="notes.txt", content=b"bb", content_type="text/plain"),
        Attachment(filename="README", content=b"c"),
        Attachment(filename="README", content=b"d", content_id="<kept@acme>"),
    ]))
    files = core.attachments(article_id)
    assert [(f["filename"], f["disposition"], f["content_id"], f["content_size"], f["content"]) for f in files] == [
        ("logo.png", "inline", "<logo@acme>", "4", b"\x89PNG"),
        ("notes.txt", "attachment", None, "1", b"a"),
        ("notes-1.txt", "attachment", None, "2", b"bb"),
        ("README", "attachment", None, "1", b"c"),
        ("README-1", "attachment", "<kept@acme>", "1", b"d"),
    ]
    # the UI's FileID is the position in (filename, id) order, in the database's case-insensitive collation
    shown = core.reader.get(ticket_id=ticket_id).articles[0].attachments
    assert [(a.file_id, a.filename) for a in shown] == [
        (1, "logo.png"), (2, "notes-1.txt"), (3, "notes.txt"), (4, "README"), (5, "README-1")]


# --- Seen flags -------------------------------------------------------------------------------------------
def seen(core: Core, ticket_id: int) -> tuple[list[int], dict[int, list[int]]]:
    """(users who have seen the ticket, article id -> users who have seen it)."""
    tickets = [r["create_by"] for r in core.rows("ticket_flag", ticket_id=ticket_id, ticket_key="Seen")]
    articles = {a["id"]: [r["create_by"] for r in core.rows("article_flag", article_id=a["id"], article_key="Seen")]
                for a in core.articles(ticket_id)}
    return sorted(tickets), articles


def test_a_new_article_is_unread_for_everyone_but_its_author(core: Core) -> None:
    ticket_id = new_ticket(core)
    first = core.service.add_article(core.agent2, ticket_id, article())
    assert seen(core, ticket_id) == ([core.agent2], {first: [core.agent2]})
    flag = core.rows("ticket_flag", ticket_id=ticket_id)[0]
    assert (flag["ticket_value"], flag["create_time"]) == ("1", core.clock.current)

    core.clock.advance(1)
    second = core.service.add_article(core.agent, ticket_id, article())
    # agent1 has not read the first article, so the ticket stays unread for him too
    assert seen(core, ticket_id) == ([], {first: [core.agent2], second: [core.agent]})
    agent_flag = core.rows("article_flag", article_id=second)[0]
    assert (agent_flag["article_value"], agent_flag["create_time"]) == ("1", core.clock.current)


@own_schemas_only
def test_the_author_who_has_read_everything_sees_the_ticket(core: Core) -> None:
    ticket_id = new_ticket(core)
    first = core.service.add_article(core.agent, ticket_id, article())
    second = core.service.add_article(core.agent, ticket_id, article())
    assert seen(core, ticket_id) == ([core.agent], {first: [core.agent], second: [core.agent]})


# --- unlock timeout ---------------------------------------------------------------------------------------
@own_schemas_only
@pytest.mark.parametrize(("senders", "resets"), [
    (["agent"], [True]),
    (["customer"], [False]),
    (["system"], [False]),
    (["agent", "customer"], [True, True]),  # a customer answering an agent
    (["customer", "customer"], [False, False]),
    (["agent", "system", "customer"], [True, False, True]),  # system articles are skipped when looking back
    (["customer", "agent", "system"], [False, True, False]),
])
def test_unlock_timeout_reset_rules(core: Core, senders: list[str], resets: list[bool]) -> None:
    ticket_id = new_ticket(core)
    for sender, reset in zip(senders, resets, strict=True):
        core.clock.advance(1)
        timeout_before = core.ticket(ticket_id)["timeout"]
        count = len(core.history(ticket_id))
        core.service.add_article(core.agent, ticket_id, article(sender_type=sender))
        rows = core.entries(ticket_id)[count:]
        assert rows[1:] == ([RESET] if reset else [])
        assert core.ticket(ticket_id)["timeout"] == (epoch(core.clock.current) if reset else timeout_before)


# --- time units and move_to -------------------------------------------------------------------------------
def test_time_units_are_accounted_after_the_article(core: Core) -> None:
    ticket_id = new_ticket(core)
    first = core.service.add_article(core.agent, ticket_id, article(time_units=1.5))
    core.clock.advance(1)
    second = core.service.add_article(core.agent, ticket_id, article(time_units=2))
    accounted = core.rows("time_accounting", ticket_id=ticket_id)
    assert [(float(r["time_unit"]), r["article_id"], r["create_by"]) for r in accounted] == [
        (1.5, first, core.agent), (2.0, second, core.agent)]
    history = core.history(ticket_id)
    assert [(r["type"], r["name"], r["article_id"]) for r in history[1:4]] == [
        ("AddNote", "%%Note", first), (*RESET, None), ("TimeAccounting", "%%1.5%%1.5", first)]
    assert history[-1]["name"] == "%%2%%3.5"
    assert history[-1]["text"] == "Added 2 time unit(s), for a total of 3.5 time unit(s)."


def test_move_to_moves_before_the_article(core: Core) -> None:
    """As AgentTicketMove: TicketQueueSet (and ForceUnlock), then the note (tests/oracle: test_note_and_move)."""
    ticket_id = new_ticket(core)
    core.service.lock(core.agent, ticket_id)
    core.clock.advance(1)
    article_id = core.service.add_article(core.agent, ticket_id, article(history_comment="%%Move"), move_to="Misc")
    raw, misc = core.id("queue", "Raw"), core.id("queue", "Misc")
    assert core.entries(ticket_id)[3:] == [
        ("Move", f"%%Misc%%{misc}%%Raw%%{raw}"), ("Unlock", "%%unlock"), ("AddNote", "%%Move"), RESET]
    assert core.history(ticket_id)[5]["article_id"] == article_id
    assert core.ticket(ticket_id)["queue_id"] == misc
