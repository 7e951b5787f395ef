"""Refused writes: every bad input, missing permission or failure half-way through a write is reported with
the field path or permission it concerns, and leaves the OTRS database (every table, the ticket number
counter included) and the article directory exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from factories import add_group, add_queue, grant
from sqlalchemy import text

from otrs_ext.errors import ConfigurationError, PermissionDenied, ValidationError
from otrs_ext.tickets.inputs import Attachment, NewArticle, NewTicket
from otrs_ext.tickets.storage import FileSystemStore

Core = Any  # tests/tickets/conftest.py's Core
START = datetime(2025, 11, 25, 20, 0, 0)  # the fixture's frozen clock
Snapshot = tuple[dict[str, tuple[int, int]], frozenset[Path]]


def snapshot(core: Core) -> Snapshot:
    """(row count, checksum) of every table of the database, and every file under the article directory."""
    with core.engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text("SHOW TABLES"))]
        counts = conn.execute(text(" UNION ALL ".join(
            f"SELECT '{t}', COUNT(*) FROM `{t}`" for t in tables))).all()
        sums = {r[0].rsplit(".", 1)[1]: r[1] for r in conn.execute(
            text("CHECKSUM TABLE " + ", ".join(f"`{t}`" for t in tables)))}
    articles = core.otrs_home / "var" / "article"
    files = frozenset(p for p in articles.rglob("*") if p.is_file()) if articles.exists() else frozenset()
    return {name: (count, sums[name]) for name, count in counts}, files


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(t for t in before[0].keys() | after[0].keys() if before[0].get(t) != after[0].get(t))


@pytest.fixture
def unchanged() -> Iterator[Callable[[Core], None]]:
    """``unchanged(core)`` records the state; at the end of the test it must be the same."""
    recorded: list[tuple[Core, Snapshot]] = []
    yield lambda core: recorded.append((core, snapshot(core)))
    for core, before in recorded:
        after = snapshot(core)
        assert changed_tables(before, after) == []
        assert after[1] == before[1], "files were left in the article directory"


def paths(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [path for path, _ in error.value.problems]


def note(body: str | bytes = "a note", **fields: Any) -> NewArticle:
    return NewArticle(body=body, subject="Note", **fields)


def first_ticket(core: Core) -> int:
    return core.service.create_ticket(core.agent, NewTicket(title="Existing", queue="Raw"), note()).ticket_id


def queue_in_group(core: Core, *keys: str) -> str:
    """A new queue in a new group on which the agent holds exactly ``keys`` (and the admin, user 1, rw)."""
    with core.engine.begin() as conn:
        group = add_group(conn, core.schema)
        grant(conn, core.schema, 1, group, "rw")
        if keys:
            grant(conn, core.schema, core.agent, group, *keys)
        queue_id = add_queue(conn, core.schema, group_id=group)
        name = conn.execute(text("SELECT name FROM queue WHERE id = :id"), {"id": queue_id}).scalar_one()
    core.service.lookups(refresh=True)
    return name


# --- unknown names ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "value", "path"), [
    ("queue", "Nowhere", "ticket.queue"),
    ("state", "half-open", "ticket.state"),
    ("priority", "6 apocalyptic", "ticket.priority"),
    ("type", "Hotfix", "ticket.type"),
])
def test_unknown_ticket_name_is_refused_by_its_field(ticket_core, unchanged, field: str, value: str,
                                                     path: str) -> None:
    core = ticket_core()
    unchanged(core)
    ticket = NewTicket(**{"title": "Bad", "queue": "Raw", field: value})
    with pytest.raises(ValidationError) as error:
        core.service.create_ticket(core.agent, ticket, note())
    assert paths(error) == [path]
    assert repr(value) in error.value.problems[0][1]


def test_unknown_sender_type_is_refused(ticket_core, unchanged) -> None:
    core = ticket_core()
    ticket_id = first_ticket(core)
    unchanged(core)
    with pytest.raises(ValidationError) as error:
        core.service.add_article(core.agent, ticket_id, note(sender_type="robot"))
    assert set(paths(error)) == {"article.sender_type"}


def test_all_problems_are_reported_at_once(ticket_core, unchanged) -> None:
    core = ticket_core()
    unchanged(core)
    with pytest.raises(ValidationError) as error:
        core.service.create_ticket(core.agent, NewTicket(title=" ", queue="Nowhere", state="gone"),
                                   note(b"\xff", channel="Pigeon"))
    assert {"ticket.title", "ticket.queue", "ticket.state", "article.body", "article.channel"} <= set(paths(error))


@pytest.mark.parametrize(("operation", "path"), [
    (lambda s, u, t: s.set_state(u, t, "half-open"), "state"),
    (lambda s, u, t: s.set_priority(u, t, "6 apocalyptic"), "priority"),
    (lambda s, u, t: s.set_type(u, t, "Hotfix"), "type"),
    (lambda s, u, t: s.move(u, t, "Nowhere"), "queue"),
    (lambda s, u, t: s.add_article(u, t, note(), move_to="Nowhere"), "move_to"),
])
def test_unknown_name_in_a_change_is_refused(ticket_core, unchanged, operation, path: str) -> None:
    core = ticket_core()
    ticket_id = first_ticket(core)
    unchanged(core)
    with pytest.raises(ValidationError) as error:
        operation(core.service, core.agent, ticket_id)
    assert paths(error) == [path]


# --- permissions --------------------------------------------------------------------------------------
def test_create_in_a_queue_without_create_permission(ticket_core, unchanged) -> None:
    core = ticket_core()
    queue = queue_in_group(core, "ro", "note")
    unchanged(core)
    with pytest.raises(PermissionDenied) as error:
        core.service.create_ticket(core.agent, NewTicket(title="Sneaky", queue=queue), note())
    assert "'create'" in error.value.message and queue in error.value.message


def test_note_on_a_ticket_the_agent_cannot_see(ticket_core, unchanged) -> None:
    core = ticket_core()
    queue = queue_in_group(core)
    hidden = core.service.create_ticket(1, NewTicket(title="Hidden", queue=queue), note()).ticket_id
    unchanged(core)
    with pytest.raises(PermissionDenied) as error:
        core.service.add_article(core.agent, hidden, note(attachments=[Attachment("a.txt", b"x")]))
    assert "'note'" in error.value.message


def test_move_into_a_queue_without_move_into(ticket_core, unchanged) -> None:
    core = ticket_core()
    ticket_id = first_ticket(core)
    target = queue_in_group(core, "ro", "create", "note")
    unchanged(core)
    with pytest.raises(PermissionDenied) as error:
        core.service.move(core.agent, ticket_id, target)
    assert "'move_into'" in error.value.message and target in error.value.message
    with pytest.raises(PermissionDenied):
        core.service.add_article(core.agent, ticket_id, note(), move_to=target)


def test_move_out_of_a_queue_needs_move_into_there(ticket_core, unchanged) -> None:
    core = ticket_core()
    source = queue_in_group(core, "ro")
    ticket_id = core.service.create_ticket(1, NewTicket(title="Read only", queue=source), note()).ticket_id
    unchanged(core)
    with pytest.raises(PermissionDenied) as error:
        core.service.move(core.agent, ticket_id, "Misc")
    assert "'move_into'" in error.value.message


# --- characters, sizes, encodings ---------------------------------------------------------------------
def narrow(core: Core, table: str) -> None:
    """Give ``table`` the 3-byte ``utf8`` charset the OTRS 5/6 installers created databases with."""
    with core.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"))


def test_emoji_title_on_a_utf8_ticket_table(ticket_core, unchanged) -> None:
    core = ticket_core()
    narrow(core, "ticket")
    ticket_id = first_ticket(core)
    unchanged(core)
    with pytest.raises(ValidationError) as error:
        core.service.create_ticket(core.agent, NewTicket(title="Party \U0001F389", queue="Raw"), note())
    assert paths(error) == ["ticket.title"]
    assert "U+1F389" in error.value.problems[0][1]
    with pytest.raises(ValidationError) as error:
        core.service.set_title(core.agent, ticket_id, "Party \U0001F389")
    assert paths(error) == ["title"]


def test_emoji_in_history_only_table_is_refused_before_writing(ticket_core, unchanged) -> None:
    core = ticket_core()
    narrow(core, "ticket_history")  # the title reaches the TitleUpdate history row
    ticket_id = first_ticket(core)
    unchanged(core)
    with pytest.raises(ValidationError) as error:
        core.service.set_title(core.agent, ticket_id, "\U0001F600")
    assert paths(error) == ["title"]


@pytest.mark.parametrize("generation", ["znuny71", "otrs5"])
def test_emoji_body_and_filename_on_a_utf8_article_table(ticket_core, unchanged, generation: str) -> None:
    core = ticket_core(generation)
    narrow(core, "article" if generation == "otrs5" else "article_data_mime")
    ticket_id = first_ticket(core)
    unchanged(core)
    article = note("thumbs \U0001F44D up", attachments=[Attachment("\U0001F4CE.txt", b"clip")])
    with pytest.raises(ValidationError) as error:
        core.service.add_article(core.agent, ticket_id, article)
    assert paths(error) == ["article.body", "article.attachments[0].filename"]


def test_emoji_is_stored_on_utf8mb4_tables(ticket_core) -> None:
    core = ticket_core()
    created = core.service.create_ticket(core.agent, NewTicket(title="Party \U0001F389", queue="Raw"),
                                         note("\U0001F44D"))
    view = core.reader.get(ticket_id=created.ticket_id)
    assert (view.title, view.articles[0].body) == ("Party \U0001F389", "\U0001F44D")


def test_attachment_over_the_limit(ticket_core, unchanged) -> None:
    core = ticket_core()
    core.service.max_attachment_bytes = 1000
    ticket_id = first_ticket(core)
    unchanged(core)
    article = note(attachments=[Attachment("small.bin", b"x" * 1000), Attachment("big.bin", b"x" * 1001)])
    with pytest.raises(ValidationError) as error:
        core.service.add_article(core.agent, ticket_id, article)
    assert paths(error) == ["article.attachments[1].content"]
    assert "1001 bytes" in error.value.problems[0][1] and "1000 bytes" in error.value.problems[0][1]


def test_invalid_utf8_body(ticket_core, unchanged) -> None:
    core = ticket_core()
    unchanged(core)
    with pytest.raises(ValidationError) as error:
        core.service.create_ticket(core.agent, NewTicket(title="Latin-1", queue="Raw"), note(b"Gr\xfc\xdfe"))
    assert paths(error) == ["article.body"]
    assert "UTF-8" in error.value.problems[0][1]


# --- failures half-way through a write ----------------------------------------------------------------
class BrokenStore:
    """Writes as ``inner`` does, then fails, as a full disk or a lost NFS mount would."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def write(self, *args: Any, **kwargs: Any) -> None:
        self.inner.write(*args, **kwargs)
        raise OSError(28, "No space left on device")

    def discard(self, article_id: int, content_path: str) -> None:
        self.inner.discard(article_id, content_path)

    def read(self, *args: Any) -> Any:
        return self.inner.read(*args)


@pytest.mark.parametrize("storage", ["db", "fs"])
def test_store_failing_after_the_article_row(ticket_core, unchanged, storage: str) -> None:
    core = ticket_core(storage=storage)
    ticket_id = first_ticket(core)
    core.service.store = BrokenStore(core.service.store)
    unchanged(core)
    with pytest.raises(OSError, match="No space left"):
        core.service.add_article(core.agent, ticket_id, note(attachments=[Attachment("a.txt", b"a")]))


def test_unwritable_article_directory(ticket_core, unchanged) -> None:
    core = ticket_core(storage="fs")
    ticket_id = first_ticket(core)
    # a file where the day's directory must go: mkdir fails even for root, unlike a chmod
    day = core.otrs_home / "var" / "article" / START.strftime("%Y/%m")
    day.mkdir(parents=True, exist_ok=True)
    (day / START.strftime("%d")).write_text("not a directory")
    unchanged(core)
    with pytest.raises(ConfigurationError) as error:
        core.service.add_article(core.agent, ticket_id, note(attachments=[Attachment("a.txt", b"a")]))
    assert "ArticleDataDir" in error.value.message and str(day) in error.value.message


def test_database_failing_after_the_files_were_written(ticket_core, mariadb_server, unchanged) -> None:
    core = ticket_core(storage="fs")
    ticket_id = first_ticket(core)
    mariadb_server.execute(  # the article's history row is written after its files
        "DELIMITER //\nCREATE TRIGGER refuse_article_history BEFORE INSERT ON ticket_history FOR EACH ROW "
        "IF NEW.article_id IS NOT NULL THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'history refused'; "
        "END IF//\n", database=core.engine.url.database)
    unchanged(core)
    with pytest.raises(Exception, match="history refused"):
        core.service.add_article(core.agent, ticket_id, note(attachments=[Attachment("a.txt", b"a")]))


def test_failed_create_leaves_no_ticket_and_no_files(ticket_core) -> None:
    core = ticket_core(storage="fs")
    core.service.store = BrokenStore(FileSystemStore(core.otrs_home / "var" / "article"))
    before = snapshot(core)
    with pytest.raises(OSError):
        core.service.create_ticket(core.agent, NewTicket(title="Doomed", queue="Raw"),
                                   note(attachments=[Attachment("a.txt", b"a")]))
    after = snapshot(core)
    # The number was drawn (and committed, so concurrent OTRS processes see it) before the ticket
    # transaction began; OTRS burns a number on a failed create the same way.
    assert changed_tables(before, after) == ["ticket_number_counter"]
    assert after[0]["ticket_number_counter"][0] == before[0]["ticket_number_counter"][0] + 1
    assert after[1] == before[1]


def test_pending_time_for_a_state_that_is_not_pending_is_refused(ticket_core) -> None:
    core = ticket_core("znuny71")
    created = core.service.create_ticket(core.agent, NewTicket(title="t", queue="Raw"))
    with pytest.raises(ValidationError) as refused:
        core.service.set_state(core.agent, created.ticket_id, "closed successful",
                               pending_until=datetime(2030, 1, 1, 10, 0))
    assert refused.value.problems[0][0] == "pending_until" and "'closed'" in refused.value.problems[0][1]
    assert core.reader.get(ticket_id=created.ticket_id).state == "new"


# --- characters and bodies a hostile or careless client sends (issue 10) ---------------------------------------
@pytest.mark.parametrize(("ticket", "article", "path"), [
    ({"title": "fake \x02highlight\x03"}, {}, "ticket.title"),
    ({"title": "line\nbreak"}, {}, "ticket.title"),
    ({}, {"body": "NUL \x00 inside"}, "article.body"),
    ({}, {"body": "escape \x1b[31m"}, "article.body"),
    ({}, {"body": " \n\t  "}, "article.body"),
    ({}, {"subject": "bell \x07"}, "article.subject"),
])
def test_control_characters_and_blank_bodies_are_refused(ticket_core, unchanged, ticket, article, path) -> None:
    core = ticket_core()
    unchanged(core)
    with pytest.raises(ValidationError) as error:
        core.service.create_ticket(core.agent, NewTicket(**{"title": "ok", "queue": "Raw", **ticket}),
                                   NewArticle(**{"body": "fine\r\n\tindented", "subject": "s", **article}))
    assert paths(error) == [path]


@pytest.mark.parametrize(("filename", "content_type"), [
    ("report.pdf\r\nX-Evil: 1", "application/pdf"), ("report.pdf", "application/pdf\r\nX-Evil: 1"),
    ("tab\there.txt", "text/plain"),
])
def test_line_breaks_in_attachment_names_and_types_are_refused(ticket_core, unchanged, filename,
                                                               content_type) -> None:
    core = ticket_core()
    unchanged(core)
    with pytest.raises(ValidationError) as error:
        core.service.create_ticket(core.agent, NewTicket(title="ok", queue="Raw"), NewArticle(
            body="see attachment", subject="s",
            attachments=(Attachment(filename=filename, content=b"%PDF-1.4", content_type=content_type),)))
    field = "filename" if "\r" in filename or "\t" in filename else "content_type"
    assert paths(error) == [f"article.attachments[0].{field}"]


@pytest.mark.parametrize("until", [datetime(9999, 12, 31, 23, 59), datetime(1, 1, 1), datetime(2038, 2, 1)])
def test_a_pending_time_otrs_cannot_store_is_a_field_error(ticket_core, unchanged, until) -> None:
    core = ticket_core()
    created = core.service.create_ticket(core.agent, NewTicket(title="pending", queue="Raw"),
                                         NewArticle(body="b", subject="s"))
    unchanged(core)
    with pytest.raises(ValidationError) as error:
        core.service.set_state(core.agent, created.ticket_id, "pending reminder", pending_until=until)
    assert paths(error) == ["pending_until"] and "2038-01-19" in error.value.problems[0][1]
