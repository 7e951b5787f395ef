"""``article_search_index`` rows written with each article, as the installation's SysConfig asks.

Znuny's own rows for the same articles are compared in ``tests/oracle/test_search_index.py``; these tests cover
what the oracle's default configuration cannot: other settings, other modules, OTRS 5, FS names, failures.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text
from support.sysconfig_rows import modify, seed

from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket
from otrs_ext.tickets.search_index import ArticleSearchIndex

BODY = "The printer is BROKEN; please help... (urgent) принтер не печатает, принтер!"


def _core(ticket_core, generation: str = "znuny71", *, storage: str = "db", settings: bool = True,
          **changes: Any) -> Any:
    core = ticket_core(generation, storage=storage)
    if settings:
        with core.engine.begin() as conn:
            seed(conn)
            for name, value in changes.items():
                modify(conn, name.replace("__", "::").replace("_hash_", "###"), value)
    return core


def _rows(core: Any, article_id: int) -> dict[str, str]:
    with core.engine.connect() as conn:
        return dict(conn.execute(text("SELECT article_key, article_value FROM article_search_index "
                                      "WHERE article_id = :a ORDER BY id"), {"a": article_id}).all())


def _create(core: Any, **article: Any) -> int:
    fields = {"body": BODY, "subject": "Printer: BROKEN again!", "from_": "Jane Doe <Jane@ACME.test>",
              "to": "Support\t<support@acme.test>", **article}
    created = core.service.create_ticket(core.agent, NewTicket(title="Printer", queue="Raw"), NewArticle(**fields))
    assert created.article_id is not None
    return created.article_id


def test_rows_as_znunys_default_configuration_makes_them(ticket_core) -> None:
    core = _core(ticket_core)
    article_id = _create(core, attachments=[Attachment("Log File.TXT", b"x", "text/plain")])
    assert _rows(core, article_id) == {
        "MIMEBase_AttachmentName": "log file.txt",
        "MIMEBase_Body": "printer broken please help.. urgent принтер печатает",
        "MIMEBase_From": "jane doe <jane@acme.test>",
        "MIMEBase_Subject": "printer broken",  # "again" is an English stop word
        "MIMEBase_To": "support <support@acme.test>",
    }
    with core.engine.connect() as conn:
        assert conn.execute(text("SELECT search_index_needs_rebuild FROM article WHERE id = :a"),
                            {"a": article_id}).scalar_one() == 1


def test_no_rows_without_the_db_index_module(ticket_core) -> None:
    core = _core(ticket_core, Ticket__SearchIndexModule="Kernel::System::Ticket::ArticleSearchIndex::Custom")
    assert _rows(core, _create(core)) == {}


def test_no_rows_where_the_sysconfig_says_nothing_or_otrs5_keeps_it_in_files(ticket_core) -> None:
    for core in (_core(ticket_core, settings=False), _core(ticket_core, "otrs5", settings=False)):
        article_id = _create(core)  # the article itself is written all the same
        with core.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM article WHERE id = :a"), {"a": article_id}).scalar() == 1
        if "article_search_index" in core.schema.tables:
            assert _rows(core, article_id) == {}


def test_the_installations_own_stop_words_lengths_and_count(ticket_core) -> None:
    core = _core(ticket_core, Ticket__SearchIndex__Attribute={"WordCountMax": "4", "WordLengthMin": "2",
                                                              "WordLengthMax": "7"},
                 Ticket__SearchIndex__StopWords_hash_Custom=["Printer"])
    article_id = _create(core, body="ab printer PRINTER abc abcdefg abcdefgh qq ab xy zz")
    # 'printer' is a stop word now; 8 letters are too long; the first four words left are ab abc abcdefg qq
    assert _rows(core, article_id)["MIMEBase_Body"] == "ab abc abcdefg qq"


def test_force_unfiltered_storage_and_no_attachment_names(ticket_core) -> None:
    core = _core(ticket_core, Ticket__SearchIndex__ForceUnfilteredStorage="1",
                 Ticket__Article__Backend__MIMEBase__IndexAttachmentNames="0")
    rows = _rows(core, _create(core, body="  Line one,\r\n\tline TWO!  ",
                               attachments=[Attachment("a.txt", b"x", "text/plain")]))
    assert rows["MIMEBase_Body"] == "line one,  line two!"
    assert "MIMEBase_AttachmentName" not in rows


def test_a_filter_otrs_ext_cannot_run_as_perl_would_leaves_the_index_to_otrs(ticket_core, caplog) -> None:
    core = _core(ticket_core, Ticket__SearchIndex__Filters=["[[:punct:]]"])
    with caplog.at_level(logging.WARNING, logger="otrs_ext.tickets.search_index"):
        article_id = _create(core)
    assert _rows(core, article_id) == {}
    assert "POSIX classes" in caplog.text


def test_settings_are_cached_and_read_again_later(ticket_core) -> None:
    core = _core(ticket_core)
    first = _create(core)
    with core.engine.begin() as conn:
        modify(conn, "Ticket::SearchIndex::StopWords###Custom", ["printer"])
    assert "printer" in _rows(core, _create(core)).get("MIMEBase_Body", "")  # within the minute: as before
    core.service.search_index = ArticleSearchIndex(core.schema, ttl=0)
    assert "printer" not in _rows(core, _create(core))["MIMEBase_Body"]
    assert "printer" in _rows(core, first)["MIMEBase_Body"]


@pytest.mark.parametrize("storage", ["db", "fs"])
def test_attachment_names_as_stored_without_the_html_body_and_its_inline_images(ticket_core, storage: str) -> None:
    core = _core(ticket_core, storage=storage)
    article_id = _create(core, mime_type="text/html", body='<p>Logo <img src="cid:logo@x"></p>',
                         attachments=[Attachment("logo.png", b"p", "image/png", "inline", "logo@x"),
                                      Attachment("Unused Image.png", b"p", "image/png", "inline", "other@x"),
                                      Attachment("Отчёт (1).pdf", b"%PDF", "application/pdf")])
    # FS stores the names as OTRS's FilenameCleanUp leaves them, the database as given
    expected = ("unused_image.png отчёт__1_.pdf" if storage == "fs" else "unused image.png отчёт (1).pdf")
    assert _rows(core, article_id)["MIMEBase_AttachmentName"] == expected


def test_no_rows_survive_a_failed_write(ticket_core, mariadb_server) -> None:
    core = _core(ticket_core)
    ticket_id = core.service.create_ticket(core.agent, NewTicket(title="t", queue="Raw")).ticket_id
    mariadb_server.execute(
        "DELIMITER //\nCREATE TRIGGER refuse_article_history BEFORE INSERT ON ticket_history FOR EACH ROW "
        "IF NEW.article_id IS NOT NULL THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'history refused'; "
        "END IF//\n", database=core.engine.url.database)
    with pytest.raises(Exception, match="history refused"):
        core.service.add_article(core.agent, ticket_id, NewArticle(body=BODY, subject="x"))
    with core.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM article_search_index")).scalar_one() == 0
