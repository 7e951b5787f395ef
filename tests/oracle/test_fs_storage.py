"""FS article storage (``ArticleStorageFS``): what otrs-ext writes into ``var/article`` must never lock Znuny out.

Znuny's ``ArticleStorageFS`` refuses to start when it cannot write the day's directory, and then every article
read and write in OTRS fails until the day is over. otrs-ext typically runs as root or as a member of OTRS's
group with the usual umask 022, so the directories it creates must get OTRS's modes and owner whatever the umask.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket

# ASCII only: the driver's JSON output does not carry binary content through unchanged
PDF = b"%PDF-1.4\n% otrs-ext fs test\n" + bytes(range(32, 127)) * 3


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _created_below(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*"))


def _hash(result: list) -> dict:
    """A Perl hash the driver returned as a key/value list."""
    return dict(zip(result[::2], result[1::2], strict=True))


def _names(result: list) -> list[str]:
    """Filenames of an ``ArticleAttachmentIndex`` result (the driver returns a hash as a key/value list),
    in FileID order; the driver hands non-ASCII names over as UTF-8 bytes read as Latin-1."""
    pairs = _hash(result)
    names = [pairs[k]["Filename"] for k in sorted(pairs, key=int)]
    return [n.encode("latin-1").decode("utf-8") if all(ord(c) < 256 for c in n) else n for n in names]


def test_znuny_reads_and_extends_an_fs_ticket_written_by_otrs_ext_the_same_day(oracle, umask_022) -> None:
    oracle.fresh(storage="fs")
    ext = oracle.ext(storage="fs")
    article_root = oracle.home / "var" / "article"
    assert not any(article_root.iterdir()), "the day's directory must not exist yet: otrs-ext creates it"

    created = ext.service.create_ticket(ext.agent, NewTicket(
        title="FS written by otrs-ext", queue="Raw", customer_id="ACME", customer_user="jane@acme.test"),
        NewArticle(body="<p>See the <b>report</b></p>", mime_type="text/html", subject="Report",
                   attachments=[Attachment("report.pdf", PDF, "application/pdf")]))
    made = _created_below(article_root)
    assert made, "otrs-ext wrote no files"

    ticket_id, article_id = created.ticket_id, created.article_id
    out = ext.znuny([
        {"op": "ArticleAttachmentIndex", "ref": "index", "TicketID": ticket_id, "ArticleID": article_id},
        {"op": "ArticleGet", "ref": "get", "TicketID": ticket_id, "ArticleID": article_id, "UserID": 1},
        {"op": "Call", "ref": "file", "Object": "Kernel::System::Ticket::Article::Backend::MIMEBase::ArticleStorageFS",
         "Method": "ArticleAttachment", "ArticleID": article_id, "FileID": 2},
        {"op": "ArticleCreate", "ref": "reply", "ChannelName": "Internal", "TicketID": ticket_id,
         "SenderType": "agent", "IsVisibleForCustomer": 1, "From": "agent1", "Subject": "Re: Report",
         "Body": "Thanks, read it.", "MimeType": "text/plain", "Charset": "utf-8", "HistoryType": "AddNote",
         "HistoryComment": "%%Note", "UserID": 2,
         "Attachment": [{"Filename": "answer.txt", "ContentType": "text/plain", "Content": "the answer"}]},
        {"op": "ArticleAttachmentIndex", "ref": "reply_index", "TicketID": ticket_id, "ArticleID": "$reply"},
    ])
    results = {r["ref"]: r for r in out["results"] if "ref" in r}
    assert _names(results["index"]["Result"]) == ["file-2", "report.pdf"]
    assert _hash(results["get"]["Result"])["Subject"] == "Report"
    attachment = _hash(results["file"]["Result"])
    assert (attachment["Filename"], attachment["ContentType"]) == ("report.pdf", "application/pdf")
    assert attachment["Content"].encode() == PDF
    assert _names(results["reply_index"]["Result"]) == ["answer.txt"]
    # Znuny wrote its own article into the same day's directory otrs-ext had created.
    reply_dir = next(article_root.rglob(str(results["reply"]["ArticleID"])))
    assert reply_dir.parent == next(article_root.rglob(str(article_id))).parent
    assert (reply_dir / "answer.txt").read_bytes() == b"the answer"
    log = oracle.home / "var" / "log" / "znuny.log"
    assert "Can't write" not in (log.read_text(errors="replace") if log.exists() else "")

    # Everything otrs-ext made below var/article belongs to OTRS's user and group, with OTRS's modes.
    owner = article_root.stat()
    for path in made:
        info = path.stat()
        assert (info.st_uid, info.st_gid) == (owner.st_uid, owner.st_gid), path
        expected = (0o770 | (owner.st_mode & stat.S_ISGID)) if path.is_dir() else 0o660
        assert stat.S_IMODE(info.st_mode) == expected, f"{path}: {oct(stat.S_IMODE(info.st_mode))}"


def test_reads_back_what_it_wrote_in_fs_storage_after_znuny_made_the_directory(oracle, umask_022) -> None:
    """The other order: Znuny made the day's directory (as its user, with its own umask), otrs-ext adds to it."""
    oracle.fresh(storage="fs")
    ext = oracle.ext(storage="fs")
    out = ext.znuny([
        {"op": "TicketCreate", "ref": "t", "Title": "Made by Znuny", "Queue": "Raw", "Lock": "unlock",
         "Priority": "3 normal", "State": "new", "CustomerID": "ACME", "CustomerUser": "jane@acme.test",
         "OwnerID": 1, "UserID": 1},
        {"op": "ArticleCreate", "ref": "a", "ChannelName": "Internal", "TicketID": "$t", "SenderType": "agent",
         "IsVisibleForCustomer": 1, "Subject": "first", "Body": "first", "MimeType": "text/plain",
         "Charset": "utf-8", "HistoryType": "AddNote", "HistoryComment": "%%Note", "UserID": 1,
         "Attachment": [{"Filename": "z.txt", "ContentType": "text/plain", "Content": "z"}]},
    ])
    ticket_id = out["results"][0]["TicketID"]
    article_id = ext.service.add_article(ext.agent, ticket_id, NewArticle(
        body="second", subject="second", attachments=[Attachment("Отчёт.txt", b"data", "text/plain")]))
    # otrs-ext reads the ticket's files back: Znuny's first one and its own
    files = {m.filename for m, _ in ext.reader.attachments(out["results"][1]["ArticleID"], user_id=ext.agent)}
    assert files == {"z.txt"}
    again = ext.znuny([{"op": "ArticleAttachmentIndex", "ref": "i", "TicketID": ticket_id, "ArticleID": article_id}])
    assert _names(again["results"][0]["Result"]) == ["Отчёт.txt"]
