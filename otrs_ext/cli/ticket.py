"""``otrs-ext ticket ...``: read and change tickets from a shell, through the same services as the API.

Every command acts as an agent (``--as LOGIN``, default OTRS's system user ``root@localhost``, id 1), is
permission-checked like the API and prints JSON. TICKET is a ticket number (or, failing that, a ticket id).
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..jsonable import jsonable
from ..runtime import build_runtime
from ..tickets import names
from ..tickets.compose import TicketCore, build_ticket_core
from ..tickets.inputs import CHANNELS, SENDER_TYPES, Attachment, NewArticle, NewTicket, history_for

SYSTEM_USER_ID = 1


@click.group("ticket")
def command() -> None:
    """Read and change tickets as an agent; prints JSON."""


class _Session:
    """What one command needs: the ticket core and the acting agent's id."""

    def __init__(self, core: TicketCore, runtime: Any, user_id: int) -> None:
        self.core, self.runtime, self.user_id = core, runtime, user_id

    def ticket_id(self, ref: str) -> int:
        return names.ticket_id(self.runtime.engine, self.runtime.schema, ref)

    def agent_id(self, login: str) -> int:
        return names.agent_id(self.runtime.engine, self.runtime.schema, login)

    def show(self, ticket_id: int, **extra: Any) -> None:
        view = self.core.reader.get(ticket_id=ticket_id, user_id=self.user_id, articles=False)
        _echo({**extra, "ticket": jsonable(view)})


@contextmanager
def _session(load_settings: Callable[[], Any], login: str | None) -> Iterator[_Session]:
    runtime = build_runtime(load_settings())
    try:
        core = build_ticket_core(runtime)
        user_id = names.agent_id(runtime.engine, runtime.schema, login) if login else SYSTEM_USER_ID
        yield _Session(core, runtime, user_id)
    finally:
        runtime.close()


def _echo(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _acting(f: Callable) -> Callable:
    return click.option("--as", "login", metavar="LOGIN",
                        help="act as this agent (default: the OTRS system user root@localhost)")(f)


def _article_options(f: Callable) -> Callable:
    options = [
        click.option("--body", help="article text (or use --body-file)"),
        click.option("--body-file", type=click.File("rb"), help="read the article text from a file, - for stdin"),
        click.option("--html", is_flag=True, help="the body is HTML (stored the OTRS way, with a text rendering)"),
        click.option("--subject", default="", help="article subject"),
        click.option("--channel", type=click.Choice(CHANNELS), default="Internal", show_default=True),
        click.option("--sender-type", type=click.Choice(SENDER_TYPES), default="agent", show_default=True),
        click.option("--visible/--internal", "visible", default=False, show_default=True,
                     help="visible to the customer in the customer interface"),
        click.option("--from", "from_", default="", help="From: address"),
        click.option("--to", default="", help="To: address"),
        click.option("--cc", default="", help="Cc: address"),
        click.option("--attach", "attach", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="attach this file (repeatable)"),
        click.option("--time-units", type=float, help="time accounted for this article"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _article(body: str | None, body_file: Any, html: bool, subject: str, channel: str, sender_type: str,
             visible: bool, from_: str, to: str, cc: str, attach: tuple[Path, ...],
             time_units: float | None) -> NewArticle | None:
    if body is not None and body_file is not None:
        raise click.UsageError("give --body or --body-file, not both")
    if body is None and body_file is None:
        return None
    content: str | bytes = body if body is not None else body_file.read()
    history_type, comment = history_for(channel, sender_type)
    return NewArticle(
        body=content, subject=subject, channel=channel, sender_type=sender_type, visible_for_customer=visible,
        mime_type="text/html" if html else "text/plain", from_=from_, to=to, cc=cc,
        history_type=history_type, history_comment=comment,
        time_units=time_units,
        attachments=[Attachment(filename=p.name, content=p.read_bytes(),
                                content_type=mimetypes.guess_type(p.name)[0] or "application/octet-stream")
                     for p in attach],
    )


@command.command("get")
@click.argument("ticket")
@click.option("--articles/--no-articles", default=True, show_default=True)
@click.option("--history", is_flag=True, help="include the ticket history with the sentences OTRS shows")
@_acting
@click.pass_obj
def get(load_settings, ticket: str, articles: bool, history: bool, login: str | None) -> None:  # noqa: ANN001
    """Print TICKET with its articles (and history)."""
    with _session(load_settings, login) as s:
        view = s.core.reader.get(ticket_id=s.ticket_id(ticket), user_id=s.user_id, articles=articles,
                                 history=history)
        _echo(jsonable(view))


@command.command("create")
@click.option("--title", required=True)
@click.option("--queue", required=True, help="queue name, sub-queues with :: (e.g. 'Support::Hosting')")
@click.option("--state", default="new", show_default=True)
@click.option("--priority", default="3 normal", show_default=True)
@click.option("--lock", "lock", default="unlock", show_default=True)
@click.option("--type", "type_", help="ticket type (default: OTRS's default type)")
@click.option("--customer-id", help="customer company id")
@click.option("--customer-user", help="customer user login")
@click.option("--owner", metavar="LOGIN", help="owner (default: the acting agent)")
@_article_options
@_acting
@click.pass_obj
def create(load_settings, title: str, queue: str, state: str, priority: str, lock: str,  # noqa: ANN001
           type_: str | None, customer_id: str | None, customer_user: str | None, owner: str | None,
           login: str | None, **article: Any) -> None:
    """Create a ticket, with a first article when --body or --body-file is given."""
    with _session(load_settings, login) as s:
        owner_id = s.agent_id(owner) if owner else s.user_id
        created = s.core.service.create_ticket(s.user_id, NewTicket(
            title=title, queue=queue, state=state, priority=priority, lock=lock, type=type_,
            customer_id=customer_id, customer_user=customer_user, owner_id=owner_id, responsible_id=owner_id,
        ), _article(**article))
        s.show(created.ticket_id, article_id=created.article_id)


@command.command("article")
@click.argument("ticket")
@_article_options
@click.option("--move-to", metavar="QUEUE", help="also move the ticket into this queue")
@_acting
@click.pass_obj
def article(load_settings, ticket: str, move_to: str | None, login: str | None,  # noqa: ANN001
            **options: Any) -> None:
    """Add an article (note, phone call, e-mail record) to TICKET."""
    new = _article(**options)
    if new is None:
        raise click.UsageError("an article needs --body or --body-file")
    with _session(load_settings, login) as s:
        ticket_id = s.ticket_id(ticket)
        article_id = s.core.service.add_article(s.user_id, ticket_id, new, move_to=move_to)
        s.show(ticket_id, article_id=article_id)


def _setter(name: str, help_text: str, apply: Callable[..., None], value: str | None = None) -> None:
    """A command ``ticket NAME TICKET [VALUE]`` that calls ``apply`` and prints the ticket as it is now."""

    @_acting
    @click.pass_obj
    def run(load_settings, ticket: str, login: str | None, **kwargs: Any) -> None:  # noqa: ANN001
        with _session(load_settings, login) as s:
            ticket_id = s.ticket_id(ticket)
            apply(s, ticket_id, *kwargs.values())
            s.show(ticket_id)

    run.__doc__ = help_text
    if value is not None:
        run = click.argument("value", metavar=value)(run)
    run = click.argument("ticket")(run)
    command.command(name)(run)


_setter("lock", "Lock TICKET for the acting agent.",
        lambda s, t: s.core.service.lock(s.user_id, t))
_setter("unlock", "Unlock TICKET.", lambda s, t: s.core.service.unlock(s.user_id, t))
_setter("owner", "Make the agent LOGIN the owner of TICKET.",
        lambda s, t, login: s.core.service.set_owner(s.user_id, t, s.agent_id(login)), "LOGIN")
_setter("move", "Move TICKET into QUEUE (OTRS unlocks it).",
        lambda s, t, queue: s.core.service.move(s.user_id, t, queue), "QUEUE")
_setter("priority", "Set the priority of TICKET, such as '4 high'.",
        lambda s, t, priority: s.core.service.set_priority(s.user_id, t, priority), "PRIORITY")
_setter("title", "Set the title of TICKET.", lambda s, t, title: s.core.service.set_title(s.user_id, t, title),
        "TITLE")


@command.command("state")
@click.argument("ticket")
@click.argument("state")
@click.option("--pending-until", type=click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
              help="pending time, in OTRS's time zone (for pending states)")
@_acting
@click.pass_obj
def state(load_settings, ticket: str, state: str, pending_until: datetime | None,  # noqa: ANN001
          login: str | None) -> None:
    """Set the state of TICKET, such as 'closed successful' or 'pending reminder'."""
    with _session(load_settings, login) as s:
        ticket_id = s.ticket_id(ticket)
        s.core.service.set_state(s.user_id, ticket_id, state, pending_until=pending_until)
        s.show(ticket_id)


_setter("type", "Set the type of TICKET, such as 'Incident'.",
        lambda s, t, type_name: s.core.service.set_type(s.user_id, t, type_name), "TYPE")


def _set_responsible(s: _Session, ticket_id: int, login: str) -> None:
    s.core.permissions.require_responsible_feature()
    s.core.service.set_responsible(s.user_id, ticket_id, s.agent_id(login))


_setter("responsible", "Make the agent LOGIN responsible for TICKET (needs OTRS's Ticket::Responsible on).",
        _set_responsible, "LOGIN")


@command.command("customer")
@click.argument("ticket")
@click.option("--customer-user", metavar="LOGIN", help="customer user login (or a free-text customer)")
@click.option("--customer-id", metavar="COMPANY",
              help="customer company id (default with --customer-user: that customer user's company)")
@_acting
@click.pass_obj
def customer(load_settings, ticket: str, customer_user: str | None, customer_id: str | None,  # noqa: ANN001
             login: str | None) -> None:
    """Set the customer user and/or company of TICKET."""
    if customer_user is None and customer_id is None:
        raise click.UsageError("give --customer-user, --customer-id or both")
    if customer_user == "":
        raise click.BadParameter("must not be empty", param_hint="'--customer-user'")
    with _session(load_settings, login) as s:
        ticket_id = s.ticket_id(ticket)
        if customer_id is None and customer_user is not None:
            customer_id = s.core.directory.company_of(customer_user)  # as OTRS's customer screen fills it in
        s.core.service.set_customer(s.user_id, ticket_id, customer_id, customer_user)
        s.show(ticket_id)


@command.command("pending")
@click.argument("ticket")
@click.argument("until", metavar="DATETIME", required=False,
                type=click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]))
@click.option("--clear", is_flag=True, help="reset the pending time")
@_acting
@click.pass_obj
def pending(load_settings, ticket: str, until: datetime | None, clear: bool,  # noqa: ANN001
            login: str | None) -> None:
    """Set the pending time of TICKET (in a pending state) to DATETIME in OTRS's time zone, or --clear it."""
    if (until is None) == (not clear):
        raise click.UsageError("give DATETIME or --clear")
    with _session(load_settings, login) as s:
        ticket_id = s.ticket_id(ticket)
        s.core.service.set_pending_time(s.user_id, ticket_id, until, pending_state_only=True)
        s.show(ticket_id)


@command.command("field")
@click.argument("ticket")
@click.argument("name")
@click.argument("values", metavar="[VALUE]...", nargs=-1)
@click.option("--clear", is_flag=True, help="remove the field's value")
@_acting
@click.pass_obj
def field(load_settings, ticket: str, name: str, values: tuple[str, ...], clear: bool,  # noqa: ANN001
          login: str | None) -> None:
    """Set the dynamic field NAME of TICKET: one VALUE, several for a multiselect, --clear to empty it.

    Dates as YYYY-MM-DD, date-times as 'YYYY-MM-DD HH:MM:SS', checkboxes as 1 or 0; a dropdown or multiselect
    takes the keys of its possible values."""
    if bool(values) == clear:
        raise click.UsageError("give VALUE(s) or --clear")
    value: Any = None if clear else (values[0] if len(values) == 1 else list(values))
    with _session(load_settings, login) as s:
        ticket_id = s.ticket_id(ticket)
        s.core.service.set_dynamic_field(s.user_id, ticket_id, name, value, path="VALUE", name_path="NAME")
        s.show(ticket_id)


@command.command("merge")
@click.argument("ticket")
@click.option("--into", "main", required=True, metavar="MAIN",
              help="the ticket (number or id) that keeps the articles")
@_acting
@click.pass_obj
def merge(load_settings, ticket: str, main: str, login: str | None) -> None:  # noqa: ANN001
    """Merge TICKET into MAIN, as OTRS's merge screen does (rw on both): the articles move to MAIN, TICKET gets
    a note and the state 'merged'."""
    with _session(load_settings, login) as s:
        ticket_id, main_id = s.ticket_id(ticket), s.ticket_id(main)
        if ticket_id == main_id:
            raise click.BadParameter("a ticket cannot be merged into itself", param_hint="'--into'")
        s.core.service.merge(s.user_id, ticket_id, main_id)
        main_view = s.core.reader.get(ticket_id=main_id, user_id=s.user_id, articles=False)
        s.show(ticket_id, main_ticket=jsonable(main_view))
