"""OTRS's DB full-text index (``article_search_index``) for otrs-ext's articles, against Znuny 7.0's own.

Three views of the same promise: the rows otrs-ext writes equal the rows Znuny's own ``ArticleSearchIndexBuild``
makes of the very same stored articles (every kind of text, HTML bodies and attachments included); the same
articles created through Znuny and through otrs-ext give identical rows; and OTRS's own ``TicketSearch`` finds
otrs-ext's tickets by full text at once, without waiting for OTRS's rebuild cron.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import pytest

from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket

INDEX = "article_search_index"
LONG_BODY = " ".join(f"w{i % 700:04d}" for i in range(1500))  # 1500 words, 700 distinct: WordCountMax cuts
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n not really").decode()

# Each article: NewArticle fields (from_, to, cc, bcc, subject, body, mime_type) plus attachments as
# (filename, content type, text, disposition, content id).
ARTICLES: list[dict[str, Any]] = [
    {"from_": '"Иван Петров" <ivan@example.ru>', "to": "Support <support@acme.test>",
     "cc": 'a@b.c, "X, Y" <xy@z.org>', "subject": "Re: [Ticket#123] Проблема с ПРИНТЕРОМ!!!",
     "body": "Здравствуйте,\n\nпринтер не печатает. The printer is BROKEN; please help... (urgent) \"quoted\" "
             "word's can't don't a ab abc\n\tTabbed\u00a0nbsp"},
    {"from_": "root@localhost", "subject": "the and or", "body": "the and or is"},
    {"from_": "x@y.z", "to": "q@w.e", "subject": "Σίσυφος ΣΟΦΟΣ straße İstanbul Ǆemal ÀÀÀ ªºµ",
     "body": "supercalifragilisticexpialidocious1234567 abcdefghijklmnopqrstuvwxyz1234 "
             "abcdefghijklmnopqrstuvwxyz12345 ... --- *** a.b.c. :colon: 'quoted' 12 123 1.5 e-mail "
             "foo@bar.com http://x.y/z?q=1&r=2 ©®™ ²³½ ²x³ x\u203fy\u203f ⓐⓑⓒ e\u0301e\u0301e\u0301 "
             "\u0301\u0301\u0301 a\u200db\u200dc x\u2029y\u2029z"},  # C0 controls are refused as input
    {"from_": "  Spaced   <sp@x.y>  ", "to": "A\tB <ab@c.d>", "cc": "\tc@d.e\t", "bcc": "hidden@bcc.test",
     "subject": "  lead\ttab  ", "body": " . "},  # no word left: the row is written empty
    {"from_": "dup@x.y", "to": "q@w.e", "subject": "dup dup DUP Dup", "body": LONG_BODY},
    {"from_": "Mixed <mixed@example.com>", "to": "support@acme.test",
     "subject": "Заказ №4711 / order #4711 — срочно!",
     "body": "Добрый день! Order 4711 (заказ) was shipped to Москва, but the tracking-number "
             "RU-123-456 doesn't work. С уважением, Mixed.\n-- \nmixed@example.com +7 (495) 123-45-67"},
    {"from_": "attach@example.com", "to": "q@w.e", "subject": "Files", "body": "see files",
     "attachments": [("Отчёт (final).PDF", "application/pdf", "x", "attachment", None),
                     ("b.txt", "text/plain", "y", "attachment", None),
                     ("img.png", "image/png", "z", "inline", "<img1@x>"),
                     ("b.txt", "text/plain", "dup", "attachment", None)]
                    + [(f"part{i:02d}.txt", "text/plain", "p", "attachment", None) for i in range(9)]},
]
HTML_ARTICLES: list[dict[str, Any]] = [
    {"from_": "h@t.ml", "to": "q@w.e", "subject": "HTML", "mime_type": "text/html",
     "body": "<p>Hello <b>World</b></p><p>Second <a href=\"http://example.com\">link</a></p>"
             "<blockquote>quoted text</blockquote>"},
    {"from_": "Outlook <o@x.y>", "to": "q@w.e", "subject": "Inline image", "mime_type": "text/html",
     "body": "<html><body><p class=MsoNormal>Logo:<img width=10 src=\"cid:logo@x\"></p>"
             "<table><tr><td>Ячейка</td><td>cell</td></tr></table></body></html>",
     "attachments": [("logo.png", "image/png", "png", "inline", "<logo@x>"),
                     ("other.png", "image/png", "png", "inline", "<other@x>"),
                     ("report.pdf", "application/pdf", "pdf", "attachment", None)]},
]


def _attachments(spec: dict[str, Any]) -> list[Attachment]:
    return [Attachment(name, text.encode(), ctype, disposition=disp, content_id=cid)
            for name, ctype, text, disp, cid in spec.get("attachments", ())]


def _new_article(spec: dict[str, Any]) -> NewArticle:
    fields = {k: v for k, v in spec.items() if k != "attachments"}
    return NewArticle(channel="Email", sender_type="customer", visible_for_customer=True,
                      history_type="EmailCustomer", history_comment="%%", attachments=_attachments(spec), **fields)


def _znuny_article(spec: dict[str, Any], ticket: str = "$t") -> dict[str, Any]:
    op = {"op": "ArticleCreate", "ChannelName": "Email", "TicketID": ticket, "SenderType": "customer",
          "IsVisibleForCustomer": 1, "From": spec.get("from_", ""), "To": spec.get("to", ""),
          "Cc": spec.get("cc", ""), "Bcc": spec.get("bcc", ""), "Subject": spec.get("subject", ""),
          "Body": spec["body"], "MimeType": spec.get("mime_type", "text/plain"), "Charset": "utf-8",
          "HistoryType": "EmailCustomer", "HistoryComment": "%%", "UserID": 1}
    if spec.get("attachments"):
        op["Attachment"] = [{"Filename": name, "ContentType": ctype, "Content": text, "Disposition": disp,
                             **({"ContentID": cid} if cid else {})}
                            for name, ctype, text, disp, cid in spec["attachments"]]
    return op


TICKET = {"op": "TicketCreate", "ref": "t", "Title": "Search index", "Queue": "Raw", "Lock": "unlock",
          "Priority": "3 normal", "State": "new", "CustomerID": "ACME", "CustomerUser": "jane@acme.test",
          "OwnerID": 1, "UserID": 1}


def _ext_ticket(c: Any, articles: Sequence[dict[str, Any]], title: str = "Search index") -> tuple[int, list[int]]:
    created = c.service.create_ticket(1, NewTicket(title=title, queue="Raw", customer_id="ACME",
                                                   customer_user="jane@acme.test"))
    return created.ticket_id, [c.service.add_article(1, created.ticket_id, _new_article(a), as_system=True)
                               for a in articles]


def _index_rows(oracle: Any) -> dict[str, list[dict[str, Any]]]:
    return {INDEX: oracle.rows(only=[INDEX])[INDEX]}


def test_rows_equal_znunys_own_index_of_the_same_articles(oracle) -> None:
    """Znuny re-indexes otrs-ext's stored articles (ArticleSearchIndexBuild) and must arrive at the same rows."""
    oracle.fresh()
    ext = oracle.ext()
    ticket_id, article_ids = _ext_ticket(ext, ARTICLES + HTML_ARTICLES)
    ours = _index_rows(oracle)
    keys = {r["article_key"] for r in ours[INDEX]}
    assert keys == {"MIMEBase_From", "MIMEBase_To", "MIMEBase_Cc", "MIMEBase_Bcc", "MIMEBase_Subject",
                    "MIMEBase_Body", "MIMEBase_AttachmentName"}
    ext.znuny([{"op": "ArticleSearchIndexBuild", "TicketID": ticket_id, "ArticleID": a, "UserID": 1}
               for a in article_ids])
    theirs = _index_rows(oracle)
    assert len(theirs[INDEX]) == len(ours[INDEX])
    assert oracle.diff(theirs, ours) == []


@pytest.mark.parametrize("storage", ["db", "fs"])
def test_articles_created_through_znuny_and_otrs_ext_give_identical_rows(oracle, storage: str) -> None:
    z = oracle.run_znuny([TICKET, *(_znuny_article(a) for a in ARTICLES)], storage=storage)
    e = oracle.run_ext(lambda c: _ext_ticket(c, ARTICLES), storage=storage)
    znuny_rows, ext_rows = {INDEX: z.rows[INDEX]}, {INDEX: e.rows[INDEX]}
    # one row per non-empty field, and one for the attachment names
    assert len(znuny_rows[INDEX]) == sum(sum(1 for f in ("from_", "to", "cc", "bcc", "subject", "body") if a.get(f))
                                         + bool(a.get("attachments")) for a in ARTICLES)
    assert oracle.diff(znuny_rows, ext_rows) == []


def _tickets(result: Any) -> set[int]:
    values = result if isinstance(result, list) else [] if result in (None, "") else [result]
    return {int(v) for v in values}


def test_otrs_ticket_search_finds_otrs_ext_articles_at_once(oracle) -> None:
    oracle.fresh()
    ext = oracle.ext()
    printer, _ = _ext_ticket(ext, ARTICLES[:1], title="Printer")
    files, _ = _ext_ticket(ext, [ARTICLES[6], HTML_ARTICLES[1]], title="Files")
    # the control: the same text without index rows stays invisible to OTRS's full-text search
    ext.service.search_index = None
    unindexed, _ = _ext_ticket(ext, ARTICLES[:1], title="Unindexed")

    def search(**params: Any) -> dict[str, Any]:
        return {"op": "TicketSearch", "Result": "ARRAY", "UserID": 1, "AllowFalse": 1, **params}

    fulltext = {"ContentSearchPrefix": "*", "ContentSearchSuffix": "*"}
    out = ext.znuny([
        search(Fulltext="принтер", **fulltext),
        search(Fulltext="BROKEN", **fulltext),
        search(MIMEBase_Body="*printer*"),
        search(MIMEBase_From="*ivan@example.ru*"),
        search(MIMEBase_Subject="*проблема*"),
        search(MIMEBase_AttachmentName="*отчёт*"),
        search(Fulltext="ячейка", **fulltext),
        search(MIMEBase_AttachmentName="*logo.png*"),
    ])
    found = [_tickets(r["Result"]) for r in out["results"]]
    assert found == [{printer}, {printer}, {printer}, {printer}, {printer}, {files}, {files}, set()]
    assert unindexed not in set().union(*found)
