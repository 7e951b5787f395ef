"""ArticleStorageFS: attachments go to ``<ArticleDataDir>/YYYY/MM/DD/<article id>/`` with OTRS's sidecar
files, the article row records the content path, the database attachment table stays empty, and
``TicketReader`` reads it all back (OTRS_INTERNALS §4.3, "Storage backend").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket

GENERATIONS = ["otrs5", "znuny71"]
HTML = "<p>Hello <b>world</b></p>"
PNG = b"\x89PNG\r\n\x1a\n fake image"
PDF = b"%PDF-1.4 fake report"


def html_article(**fields: Any) -> NewArticle:
    return NewArticle(
        body=HTML, mime_type="text/html", subject="With files", channel="Email", visible_for_customer=True,
        attachments=[
            Attachment("my report.pdf", PDF, "application/pdf"),
            Attachment("logo.png", PNG, "image/png", disposition="inline", content_id="logo@example.com"),
        ], **fields)


def article_row(core: Any, article_id: int) -> dict[str, Any]:
    a = core.schema.tables.article
    with core.engine.connect() as conn:
        return dict(conn.execute(core.schema.articles.select().where(a.c.id == article_id)).mappings().one())


def files_in(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture(params=GENERATIONS)
def fs_core(request: pytest.FixtureRequest, ticket_core) -> Any:
    return ticket_core(request.param, storage="fs")


def test_files_and_sidecars_in_the_otrs_layout(fs_core) -> None:
    created = fs_core.service.create_ticket(fs_core.agent, NewTicket(title="FS", queue="Raw"), html_article())
    directory = fs_core.otrs_home / "var" / "article" / "2025" / "11" / "25" / str(created.article_id)

    assert files_in(directory) == {
        "file-2": HTML.encode(),
        "file-2.content_type": b'text/html; charset="utf-8"',
        "logo.png": PNG,
        "logo.png.content_id": b"<logo@example.com>",
        "logo.png.content_type": b"image/png",
        "logo.png.disposition": b"inline",
        "my_report.pdf": PDF,
        "my_report.pdf.content_type": b"application/pdf",
        "my_report.pdf.disposition": b"attachment",
    }
    assert {oct(p.stat().st_mode & 0o777) for p in directory.iterdir()} == {"0o660"}
    assert article_row(fs_core, created.article_id)["content_path"] == "2025/11/25"
    attachments = fs_core.schema.articles.attachments
    with fs_core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(attachments)).scalar_one() == 0


def test_reader_lists_and_returns_the_files(fs_core) -> None:
    created = fs_core.service.create_ticket(fs_core.agent, NewTicket(title="FS", queue="Raw"), html_article())
    article = fs_core.reader.get(ticket_id=created.ticket_id, user_id=fs_core.agent).articles[0]

    assert article.body_html == HTML
    assert article.body == "\nHello world\n\n"
    assert [(m.file_id, m.filename, m.content_type, m.disposition, m.content_id, m.size)
            for m in article.attachments] == [
        (2, "logo.png", "image/png", "inline", "<logo@example.com>", len(PNG)),
        (3, "my_report.pdf", "application/pdf", "attachment", None, len(PDF)),
    ]
    meta, content = fs_core.reader.attachment(created.article_id, 3, user_id=fs_core.agent)
    assert (meta.filename, content) == ("my_report.pdf", PDF)
    meta, content = fs_core.reader.attachment(created.article_id, 1, user_id=fs_core.agent)
    assert (meta.filename, meta.disposition, content) == ("file-2", "inline", HTML.encode())


def test_names_cleaned_as_otrs_does_stay_unique(fs_core) -> None:
    ticket_id = fs_core.service.create_ticket(fs_core.agent, NewTicket(title="FS", queue="Raw")).ticket_id
    article = NewArticle(body="names", attachments=[
        Attachment("a b.txt", b"1"), Attachment("a_b.txt", b"2"), Attachment("../../etc/passwd", b"3"),
        Attachment("Отчёт №1.txt", b"4"),
    ])
    article_id = fs_core.service.add_article(fs_core.agent, ticket_id, article)
    directory = fs_core.otrs_home / "var" / "article" / "2025" / "11" / "25" / str(article_id)

    sidecars = (".content_type", ".disposition")
    names = {name: content for name, content in files_in(directory).items() if not name.endswith(sidecars)}
    assert names == {"a_b.txt": b"1", "a_b-1.txt": b"2", "_.._etc_passwd": b"3", "Отчёт__1.txt": b"4"}
    assert not (fs_core.otrs_home / "etc").exists()


def test_plain_article_writes_no_directory(fs_core) -> None:
    created = fs_core.service.create_ticket(fs_core.agent, NewTicket(title="FS", queue="Raw"),
                                            NewArticle(body="just text"))
    assert not (fs_core.otrs_home / "var" / "article" / "2025" / "11" / "25" / str(created.article_id)).exists()
    view = fs_core.reader.get(ticket_id=created.ticket_id)
    assert (view.articles[0].body, view.articles[0].attachments) == ("just text", [])


def test_reads_a_directory_written_by_otrs(fs_core) -> None:
    """OTRS writes no disposition file for the HTML body; an attachment without one reads as 'attachment'."""
    created = fs_core.service.create_ticket(fs_core.agent, NewTicket(title="FS", queue="Raw"),
                                            NewArticle(body="see files"))
    directory = fs_core.otrs_home / "var" / "article" / "2025" / "11" / "25" / str(created.article_id)
    directory.mkdir(parents=True)
    (directory / "file-2").write_bytes(b"<p>from OTRS</p>")
    (directory / "file-2.content_type").write_bytes(b'text/html; charset="utf-8"')
    (directory / "data.csv").write_bytes(b"a;b")
    (directory / "data.csv.content_type").write_bytes(b"text/csv")
    (directory / "plain.txt").write_bytes(b"From: someone\r\n\r\nraw mail")

    article = fs_core.reader.get(ticket_id=created.ticket_id).articles[0]
    assert article.body_html == "<p>from OTRS</p>"
    assert [(m.file_id, m.filename, m.disposition) for m in article.attachments] == [(1, "data.csv", "attachment")]
