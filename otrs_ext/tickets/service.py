"""``TicketService``: every ticket operation as one transaction, permission-checked, with OTRS's cache
invalidated after the commit.

Adapters (API views, CLI, Celery tasks) call these methods and nothing below them. A failure anywhere rolls
the whole operation back: OTRS itself writes statement by statement and can leave half a ticket behind,
otrs-ext cannot.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from schema_maps import OtrsSchema

from ..db.lookups import Lookups
from ..errors import ValidationError
from . import create, field_config, gi_create, gi_update, setters
from .clock import Clock, DatabaseClock
from .inputs import SINGLE_LINE, NewArticle, NewTicket, control_character, raise_problems, text_of, validate_article
from .otrs_cache import Invalidator
from .otrs_tasks import OtrsSideEffects
from .permissions import Permissions
from .search_index import ArticleSearchIndex
from .storage import AttachmentStore
from .write import Row, Write

T = TypeVar("T")
log = logging.getLogger(__name__)
DEADLOCK_ATTEMPTS = 5
# ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT: the transaction was rolled back whole and may simply run again
RETRYABLE_ERRORS = (1213, 1205)


def _retryable(error: OperationalError) -> bool:
    return bool(error.orig.args) and error.orig.args[0] in RETRYABLE_ERRORS
DEFAULT_MAX_ATTACHMENT = 20 * 1024 * 1024


@dataclass(frozen=True)
class Created:
    ticket_id: int
    tn: str
    article_id: int | None
    article_ids: tuple[int, ...] = ()  # every article, when a create writes several (GI TicketCreate)


class TicketService:
    def __init__(self, engine: Engine, schema: OtrsSchema, *, numbers: Any, permissions: Permissions,
                 invalidator: Invalidator, store: AttachmentStore, clock: Clock | None = None,
                 timezone: str = "UTC", max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT,
                 side_effects: OtrsSideEffects | None = None, search_index: ArticleSearchIndex | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.numbers = numbers
        self.permissions = permissions
        self.invalidator = invalidator
        self.store = store
        self.clock = clock or DatabaseClock()
        self.timezone = timezone
        self.max_attachment_bytes = max_attachment_bytes
        # OTRS's event modules' work (escalation index, notifications, ...) queued for OTRS's daemon; None = none
        self.side_effects = side_effects
        # OTRS's article_search_index rows, written when the installation's SysConfig uses the DB index
        self.search_index = search_index if search_index is not None else ArticleSearchIndex(schema)
        self._lookups: Lookups | None = None
        self._narrow_tables: frozenset[str] | None = None

    # --- operations -------------------------------------------------------------------------------------
    def create_ticket(self, user_id: int, ticket: NewTicket, article: NewArticle | None = None, *,
                      as_system: bool = False, also: Callable[[Connection, Created], None] | None = None) -> Created:
        """TicketCreate (+ the first article) in one transaction; the number is drawn first, as OTRS does.

        ``as_system`` writes as OTRS's PostMaster does for incoming mail: without an agent's queue permission
        (the caller restricts the queues). ``also(conn, created)`` adds the caller's own rows (e.g. where the
        ticket came from) to the same transaction."""
        fields, queue_id = self._prepare_create(user_id, ticket, [article] if article is not None else [])
        number = _Number(self, user_id, queue_id, check=not as_system)

        def run(w: Write) -> Created:
            tn = number.tn
            row = create.insert_ticket(w, tn, ticket, first_article=article)
            for field_name, value in fields.items():
                row = setters.set_dynamic_field(w, row, field_name, value)
            article_id = None
            if article is not None:
                row, article_id = create.insert_article(w, row, article, self.store)
            w.settle(row)
            created = Created(ticket_id=row["id"], tn=tn, article_id=article_id)
            if also is not None:
                also(w.conn, created)
            return created

        return self._write(user_id, run, before=number.draw)

    def create_ticket_gi(self, user_id: int, request: gi_create.GiTicketCreate) -> Created:
        """TicketCreate as Znuny's GenericTicketConnector writes it (``gi_create``), in one transaction."""
        ticket = request.ticket
        fields, queue_id = self._prepare_create(user_id, ticket, request.articles, lock=request.lock)
        number = _Number(self, user_id, queue_id, check=True)

        def run(w: Write) -> Created:
            row, article_ids = gi_create.write(w, number.tn, request, fields, self.store)
            return Created(ticket_id=row["id"], tn=number.tn, article_id=article_ids[0] if article_ids else None,
                           article_ids=tuple(article_ids))

        return self._write(user_id, run, before=number.draw)

    def update_ticket_gi(self, user_id: int, ticket_id: int, request: gi_update.GiTicketUpdate) -> list[int]:
        """TicketUpdate as Znuny's GenericTicketConnector writes it (``gi_update``), in one transaction: every
        permission a change needs is checked before the first change. Returns the ids of the new articles."""
        problems: list[tuple[str, str]] = []
        self._check_names(problems, *((table, value, path) for table, value, path in (
            ("queue", request.queue, "ticket.queue"), ("ticket_lock_type", request.lock, "ticket.lock"),
            ("ticket_type", request.type, "ticket.type"), ("ticket_state", request.state, "ticket.state"),
            ("ticket_priority", request.priority, "ticket.priority")) if value is not None))
        if request.title is not None:
            self._check_text(problems, "ticket", title=request.title)
        self._check_text(problems, "ticket", customer_id=request.customer_id or "",
                         customer_user=request.customer_user or "")
        for i, article in enumerate(request.articles):
            self._check_article(article, "article" if len(request.articles) == 1 else f"articles[{i}]", problems)
        fields = self._check_fields(problems, request.dynamic_fields, "ticket.dynamic_fields")
        raise_problems(problems)

        def run(w: Write) -> list[int]:
            row = w.ticket(ticket_id)
            wanted = gi_update.changes(w, row, request)
            # the setters' own permission keys (as the single-change methods above ask them), all up front
            needed = ["note"] if wanted.articles else []
            needed += ["rw"] if fields else []
            needed += ["move_into"] if wanted.queue is not None else []
            needed += ["owner"] if wanted.owner_id is not None or wanted.lock is not None else []
            needed += ["rw"] if wanted.responsible_id is not None else []
            needed += ["priority"] if wanted.priority is not None else []
            needed += ["rw"] if (wanted.state, wanted.title, wanted.type) != (None, None, None) else []
            needed += ["rw"] if wanted.customer_id is not None or wanted.customer_user is not None else []
            for permission in dict.fromkeys(needed):
                self.permissions.require_ticket(w.conn, user_id, row, permission)
            if wanted.queue is not None:
                self._require_move(w, user_id, wanted.queue)
            if wanted.owner_id is not None:
                queue_id = w.lookups.id("queue", wanted.queue) if wanted.queue is not None else row["queue_id"]
                self.permissions.require_queue(w.conn, wanted.owner_id, queue_id, "owner")
            return gi_update.write(w, row, wanted, fields, self.store)[1]

        return self._write(user_id, run)

    def _prepare_create(self, user_id: int, ticket: NewTicket, articles: Sequence[NewArticle], *,
                        lock: str | None = None) -> tuple[dict[str, Any], int]:
        """Every input of a create checked (all problems at once); returns the checked dynamic field values
        and the queue's id. The queue permission and the number follow in the write (``_Number``)."""
        problems: list[tuple[str, str]] = []
        self._check_names(problems, ("queue", ticket.queue, "ticket.queue"),
                          ("ticket_state", ticket.state, "ticket.state"),
                          ("ticket_priority", ticket.priority, "ticket.priority"),
                          ("ticket_lock_type", lock or ticket.lock, "ticket.lock"),
                          ("ticket_type", ticket.type or "Unclassified", "ticket.type"))
        self._check_text(problems, "ticket", title=ticket.title, customer_id=ticket.customer_id or "",
                         customer_user=ticket.customer_user or "")
        if not ticket.title.strip():
            problems.append(("ticket.title", "must not be empty"))
        for i, article in enumerate(articles):
            self._check_article(article, "article" if len(articles) == 1 else f"articles[{i}]", problems)
        fields = self._check_fields(problems, ticket.dynamic_fields, "ticket.dynamic_fields")
        raise_problems(problems)
        return fields, self.lookups().id("queue", ticket.queue)

    def add_article(self, user_id: int, ticket_id: int, article: NewArticle, *, move_to: str | None = None,
                    as_system: bool = False) -> int:
        """An article on an existing ticket. ``as_system`` skips the agent's note permission: for customer
        follow-ups, written as OTRS writes them (CustomerPanelUserID), whose access the caller checked."""
        problems: list[tuple[str, str]] = []
        self._check_article(article, "article", problems)
        if move_to is not None:
            self._check_names(problems, ("queue", move_to, "move_to"))
        raise_problems(problems)

        def run(w: Write) -> int:
            row = w.ticket(ticket_id)
            if not as_system:
                self.permissions.require_ticket(w.conn, user_id, row, "note")
            if move_to is not None:
                # AgentTicketMove moves first (Move, ForceUnlock's Unlock) and then writes its note
                self._require_move(w, user_id, move_to)
                row = setters.move(w, row, move_to)
            row, article_id = create.insert_article(w, row, article, self.store)
            return article_id

        return self._write(user_id, run)

    def lock(self, user_id: int, ticket_id: int, lock: str = "lock") -> None:
        self._set(user_id, ticket_id, "owner", lambda w, row: setters.set_lock(w, row, lock),
                  ("ticket_lock_type", lock, "lock"))

    def unlock(self, user_id: int, ticket_id: int) -> None:
        self.lock(user_id, ticket_id, "unlock")

    def claim(self, user_id: int, ticket_id: int, *, still: Callable[[Connection, Row], bool] | None = None,
              also: Callable[[Connection, Row], None] | None = None) -> bool:
        """Lock the ticket and make ``user_id`` its owner in one transaction, with the rows OTRS's lock screen
        writes (``Lock``, ``Misc`` "Reset of unlock time.", ``OwnerUpdate``) — only if its row, locked FOR
        UPDATE first, is still unlocked and ``still(conn, row)`` holds: otherwise nothing is written and the
        answer is False. Whoever locks the row first wins, so two claims (or a claim and any writer that checks
        the lock at write time) never both get the ticket. ``also(conn, row)`` adds the caller's rows."""
        def run(w: Write) -> bool:
            row = w.ticket(ticket_id)
            if w.name_of("ticket_lock_type", row["ticket_lock_id"]) != "unlock" or \
                    (still is not None and not still(w.conn, row)):
                return False
            self.permissions.require_ticket(w.conn, user_id, row, "owner")
            row = setters.set_lock(w, row, "lock")
            row = setters.set_owner(w, row, user_id)
            if also is not None:
                also(w.conn, row)
            return True

        return self._write(user_id, run)

    def release(self, user_id: int, ticket_id: int, *, also: Callable[[Connection], None] | None = None) -> bool:
        """Unlock the ticket if ``user_id`` still holds it (locked, he is the owner), as OTRS's unlock screen
        writes it (``Unlock``); False, and only ``also`` written, when he no longer does. ``also(conn)`` adds
        the caller's rows to the same transaction either way."""
        def run(w: Write) -> bool:
            row = w.ticket(ticket_id)
            held = row["user_id"] == user_id and w.name_of("ticket_lock_type", row["ticket_lock_id"]) == "lock"
            if held:
                setters.set_lock(w, row, "unlock")
            if also is not None:
                also(w.conn)
            return held

        return self._write(user_id, run)

    def set_owner(self, user_id: int, ticket_id: int, owner_id: int) -> None:
        def run(w: Write, row: Row) -> Row:
            self.permissions.require_queue(w.conn, owner_id, row["queue_id"], "owner")
            return setters.set_owner(w, row, owner_id)
        self._set(user_id, ticket_id, "owner", run)

    def set_responsible(self, user_id: int, ticket_id: int, responsible_id: int) -> None:
        # OTRS asks for the 'responsible' key (AgentTicketResponsible, GI TicketUpdate), which its default
        # System::Permission does not list, so only 'rw' (or being owner/responsible) grants it.
        self._set(user_id, ticket_id, "rw", lambda w, row: setters.set_responsible(w, row, responsible_id))

    def move(self, user_id: int, ticket_id: int, queue: str) -> None:
        def run(w: Write, row: Row) -> Row:
            self._require_move(w, user_id, queue)
            return setters.move(w, row, queue)
        # AgentTicketMove's permission is move_into, on the ticket's current queue as on the target.
        self._set(user_id, ticket_id, "move_into", run, ("queue", queue, "queue"))

    def set_state(self, user_id: int, ticket_id: int, state: str, *, pending_until: datetime | None = None) -> None:
        lookups = self.lookups()
        state_id = lookups.names("ticket_state").get(state)
        if pending_until is not None and state_id is not None and \
                lookups.state_types[state_id] not in setters.PENDING_TYPES:
            raise ValidationError([("pending_until", f"only pending states have a pending time; {state!r} is "
                                                     f"of type {lookups.state_types[state_id]!r}")])
        self._set(user_id, ticket_id, "rw",
                  lambda w, row: setters.set_state(w, row, state, pending_until=pending_until),
                  ("ticket_state", state, "state"))

    def set_pending_time(self, user_id: int, ticket_id: int, until: datetime | None, *,
                         pending_state_only: bool = False) -> None:
        """TicketPendingTimeSet; ``None`` resets it. ``pending_state_only`` refuses a time for a ticket that is
        not in a pending state, as OTRS's screens never set one (its TicketPendingTimeSet does)."""
        def run(w: Write, row: Row) -> Row:
            state_type = w.lookups.state_types.get(row["ticket_state_id"], "")
            if pending_state_only and until is not None and state_type not in setters.PENDING_TYPES:
                raise ValidationError([("pending_until", f"ticket {row['tn']} is in the state "
                                        f"{w.name_of('ticket_state', row['ticket_state_id'])!r} (type {state_type!r}); "
                                        "only pending states have a pending time: set a pending state with it")])
            return setters.set_pending_time(w, row, until)
        self._set(user_id, ticket_id, "rw", run)

    def set_priority(self, user_id: int, ticket_id: int, priority: str) -> None:
        self._set(user_id, ticket_id, "priority", lambda w, row: setters.set_priority(w, row, priority),
                  ("ticket_priority", priority, "priority"))

    def set_title(self, user_id: int, ticket_id: int, title: str) -> None:
        problems: list[tuple[str, str]] = []
        self._check_text(problems, "", title=title)
        if not title.strip():
            problems.append(("title", "must not be empty"))
        raise_problems(problems)
        self._set(user_id, ticket_id, "rw", lambda w, row: setters.set_title(w, row, title))

    def set_type(self, user_id: int, ticket_id: int, type_name: str) -> None:
        self._set(user_id, ticket_id, "rw", lambda w, row: setters.set_type(w, row, type_name),
                  ("ticket_type", type_name, "type"))

    def set_customer(self, user_id: int, ticket_id: int, customer_id: str | None, customer_user: str | None) -> None:
        problems: list[tuple[str, str]] = []
        self._check_text(problems, "", customer_id=customer_id or "", customer_user=customer_user or "")
        raise_problems(problems)
        self._set(user_id, ticket_id, "rw", lambda w, row: create.set_customer(w, row, customer_id, customer_user))

    def set_dynamic_field(self, user_id: int, ticket_id: int, field_name: str, value: Any, *,
                          path: str | None = None, name_path: str | None = None) -> None:
        """The value checked against the field's configuration (``field_config``), then written; refusals name
        ``path`` (the value) and ``name_path`` (an unknown or invalid field), default ``dynamic_fields.<name>``."""
        where = path or f"dynamic_fields.{field_name}"

        def run(w: Write, row: Row) -> Row:
            problems: list[tuple[str, str]] = []
            checked = field_config.check_value(w.conn, self.schema, field_name, value, now=w.now,
                                               timezone=self.timezone, path=where, name_path=name_path or where,
                                               problems=problems)
            self._check_field_text(problems, where, checked)
            raise_problems(problems)
            return setters.set_dynamic_field(w, row, field_name, checked)
        self._set(user_id, ticket_id, "rw", run)

    def merge(self, user_id: int, merged_id: int, main_id: int) -> None:
        if merged_id == main_id:
            raise ValidationError([("main_ticket_id", "a ticket cannot be merged into itself")])

        def run(w: Write) -> None:
            # Lock both rows in id order so two merges of the same pair cannot deadlock.
            first, second = sorted((merged_id, main_id))
            rows = {first: w.ticket(first), second: w.ticket(second)}
            for row in rows.values():
                self.permissions.require_ticket(w.conn, user_id, row, "rw")

            def add_note(ticket: Row, subject: str, body: str) -> Row:
                note = NewArticle(body=body, subject=subject, channel="Internal", sender_type="agent",
                                  visible_for_customer=True, charset="ascii")
                return create.insert_article(w, ticket, note, self.store)[0]

            setters.merge(w, rows[merged_id], rows[main_id], add_note)

        self._write(user_id, run)

    # --- plumbing ---------------------------------------------------------------------------------------
    def _set(self, user_id: int, ticket_id: int, permission: str, change: Callable[[Write, Row], Row],
             *names: tuple[str, str, str]) -> None:
        problems: list[tuple[str, str]] = []
        self._check_names(problems, *names)
        raise_problems(problems)

        def run(w: Write) -> None:
            row = w.ticket(ticket_id)
            self.permissions.require_ticket(w.conn, user_id, row, permission)
            change(w, row)

        self._write(user_id, run)

    def _require_move(self, w: Write, user_id: int, queue: str) -> None:
        self.permissions.require_queue(w.conn, user_id, w.lookups.id("queue", queue), "move_into")

    def _write(self, user_id: int, operation: Callable[[Write], T], *,
               before: Callable[[Connection], None] | None = None) -> T:
        """``operation`` in one transaction, run again when InnoDB chose it as a deadlock victim (concurrent
        creates meet on the flag and history tables' gap locks); undo steps run after every failed attempt.
        ``before(conn)`` runs first in each attempt's transaction, before the write's moment is read."""
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            undo: list[Callable[[], None]] = []
            try:
                with self.engine.begin() as conn:
                    if before is not None:
                        before(conn)
                    w = Write(conn=conn, schema=self.schema, lookups=self.lookups(), now=self.clock.now(conn),
                              user_id=user_id, timezone=self.timezone, on_rollback=undo,
                              recorder=self.side_effects.recorder(conn) if self.side_effects else None,
                              search_index=self.search_index)
                    result = operation(w)
                    w.flush()
                    if self.side_effects is not None:
                        self.side_effects.queue(w)  # in the same transaction as the write
            except OperationalError as error:
                for step in undo:
                    step()
                if attempt == DEADLOCK_ATTEMPTS or not _retryable(error):
                    raise
                log.info("write chosen as deadlock victim; attempt %d of %d", attempt + 1, DEADLOCK_ATTEMPTS,
                         extra={"event": "ticket_write_retry", "attempt": attempt})
                time.sleep(random.uniform(0.005, 0.05) * attempt)
                continue
            except BaseException:
                for step in undo:
                    step()
                raise
            self.invalidator.invalidate(w.stale)
            return result
        raise AssertionError("unreachable")

    def lookups(self, *, refresh: bool = False) -> Lookups:
        if self._lookups is None or refresh:
            with self.engine.connect() as conn:
                self._lookups = Lookups.load(conn, self.schema)
        return self._lookups

    def _check_names(self, problems: list[tuple[str, str]], *names: tuple[str, str, str]) -> None:
        """Unknown names are input errors; the lookups are re-read once in case an admin just added one."""
        for refresh in (False, True):
            lookups = self.lookups(refresh=refresh)
            missing = [(table, value, path) for table, value, path in names if value not in lookups.names(table)]
            if not missing:
                return
        for table, value, path in missing:
            known = ", ".join(sorted(lookups.names(table))[:20])
            problems.append((path, f"unknown {table.replace('_', ' ')} {value!r}; known: {known}"))

    def _check_article(self, article: NewArticle, path: str, problems: list[tuple[str, str]]) -> None:
        validate_article(article, path=path, max_attachment_bytes=self.max_attachment_bytes, problems=problems)
        self._check_names(problems, ("article_sender_type", article.sender_type, f"{path}.sender_type"),
                          ("ticket_history_type", article.history_type, f"{path}.history_type"))
        body = text_of(article.body, f"{path}.body", [])
        self._check_text(problems, path, body=body, subject=article.subject, from_=article.from_, to=article.to,
                         cc=article.cc)
        for i, attachment in enumerate(article.attachments):
            self._check_text(problems, f"{path}.attachments[{i}]", filename=attachment.filename,
                             content_type=attachment.content_type or "")

    def _check_fields(self, problems: list[tuple[str, str]], values: dict[str, Any], path: str) -> dict[str, Any]:
        """Each dynamic field value checked against its field (``field_config``), as it is to be written."""
        if not values:
            return values
        checked: dict[str, Any] = {}
        with self.engine.connect() as conn:
            now = self.clock.now(conn)
            for field_name, value in values.items():
                where = f"{path}.{field_name}"
                checked[field_name] = field_config.check_value(
                    conn, self.schema, field_name, value, now=now, timezone=self.timezone, path=where,
                    name_path=where, problems=problems)
                self._check_field_text(problems, where, checked[field_name])
        return checked

    def _check_field_text(self, problems: list[tuple[str, str]], path: str, value: Any) -> None:
        texts = value if isinstance(value, list | tuple) else [value]
        for i, item in enumerate(texts):
            if isinstance(item, str):
                self._check_text(problems, "", **{f"{path}[{i}]" if value is not item else path: item})

    def _check_text(self, problems: list[tuple[str, str]], path: str, **values: str) -> None:
        """Control characters are refused (NUL and the C0 range but tab, line feed and carriage return: they
        would fake highlights, break headers and downloads); on 3-byte ``utf8`` tables a character above
        U+FFFF cannot be stored. Each problem names its place."""
        for key, value in values.items():
            found = control_character(value, single_line=key in SINGLE_LINE)
            if found is not None:
                where = f"{path}.{key.rstrip('_')}" if path else key.rstrip("_")
                problems.append((where, f"contains the control character U+{ord(value[found]):04X} at position "
                                        f"{found}"))
        if not self._narrow():
            return
        for key, value in values.items():
            for i, ch in enumerate(value):
                if ord(ch) > 0xFFFF:
                    where = f"{path}.{key.rstrip('_')}" if path else key.rstrip("_")
                    problems.append((where, f"character U+{ord(ch):X} at position {i} cannot be stored: the "
                                            "OTRS tables use the 3-byte utf8 charset"))
                    break

    def _narrow(self) -> frozenset[str]:
        if self._narrow_tables is None:
            with self.engine.connect() as conn:
                # Every table a ticket operation writes text to: titles reach ticket_history, names reach
                # the attachment tables, values reach dynamic_field_value.
                rows = conn.execute(text(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
                    "AND table_name IN ('ticket', 'ticket_history', 'article', 'article_data_mime', "
                    "'article_data_mime_attachment', 'article_attachment', 'dynamic_field_value') "
                    "AND table_collation NOT LIKE 'utf8mb4%'"))
                self._narrow_tables = frozenset(r[0] for r in rows)
        return self._narrow_tables


class _Number:
    """A create's ticket number: drawn in the write's transaction after the queue permission (one connection
    for both, and a refused create leaves no counter row behind), and only once, whatever the retries; before
    the write's moment is read, so the ticket is not older than its number, as in OTRS."""

    def __init__(self, service: TicketService, user_id: int, queue_id: int, *, check: bool) -> None:
        self.service, self.user_id, self.queue_id, self.check = service, user_id, queue_id, check
        self._tn: str | None = None

    def draw(self, conn: Connection) -> None:
        if self.check:
            # a grant seen moments ago answers (``Permissions.grant_ttl``): every create asks this
            self.service.permissions.require_queue(conn, self.user_id, self.queue_id, "create", remembered=True)
        if self._tn is None:
            self._tn = self.service.numbers.allocate()

    @property
    def tn(self) -> str:
        assert self._tn is not None, "drawn in _write's before step"
        return self._tn
