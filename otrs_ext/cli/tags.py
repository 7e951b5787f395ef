"""``otrs-ext tags``: the tag catalogue, manual tags on tickets, and the backfill and reconcile of rule tags.

``add``/``remove`` act as an agent (``--agent LOGIN``) through the same service as the API: his rights on the
ticket's queue apply (``rw`` to change, a ticket he cannot read does not exist). ``backfill`` and ``reconcile``
load the rules file first (``OTRS_EXT_TAG_RULES``), so a wrong one stops them before anything is read, with
its line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from tqdm import tqdm

from ..db import migrate
from ..errors import ConfigurationError
from ..runtime import Runtime, build_runtime
from ..search.indexer import Indexer
from ..tags.backfill import DEFAULT_CHUNK, Backfill, TagsPosition
from ..tags.compose import build_tag_service
from ..tags.reconcile import DEFAULT_RANGE, Reconcile
from ..tags.rules import TagRules, load_rules
from ..tags.store import KINDS, Link, Tag
from ..tickets import names


@click.group("tags")
def command() -> None:
    """Tags: source, participant and notification tags set by rules, manual tags set by agents."""


@contextmanager
def _runtime(load_settings: Callable[[], Any]) -> Iterator[Runtime]:
    runtime = build_runtime(load_settings())
    try:
        if migrate.current(runtime.engine, runtime.settings.own_schema) != migrate.head():
            raise ConfigurationError("otrs-ext's own tables are missing or old; run `otrs-ext db upgrade` first")
        yield runtime
    finally:
        runtime.close()


def _rules(load_settings: Callable[[], Any]) -> TagRules:
    return load_rules(load_settings().tag_rules)


def _bar(progress: bool, unit: str) -> tuple[Any, Callable[[int, int], None]]:
    """A progress bar on stderr, as ``otrs-ext search reindex`` shows one, and the callback that moves it."""
    bar = tqdm(total=0, unit=unit, unit_scale=True, disable=not progress, file=sys.stderr, dynamic_ncols=True)

    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, advance


def _indexer(runtime: Runtime, index: bool) -> Indexer | None:
    return Indexer(runtime.engine, runtime.schema, runtime.search, own_schema=runtime.settings.own_schema) \
        if index else None


def _tag_line(tag: Tag) -> str:
    labels = ", ".join(f"{lang}: {text}" for lang, text in sorted(tag.labels.items()))
    extras = [part for part in (labels, tag.colour, None if tag.valid else "invalid") if part]
    return f"{tag.id:>6}  {tag.ref}" + (f"  ({'; '.join(extras)})" if extras else "")


def _link_line(link: Link) -> str:
    by = f"agent {link.agent_id}" if link.agent_id is not None else f"rule {link.rule}" if link.rule else "?"
    article = f", article {link.article_id}" if link.article_id else ""
    return f"{link.tag.ref}  (by {by}{article}, {link.created_at})"


@command.command("list")
@click.option("--kind", type=click.Choice(KINDS), help="only tags of this kind")
@click.option("--all", "show_all", is_flag=True, help="also tags marked invalid")
@click.option("--ticket", "ticket_ref", metavar="TICKET", help="the tags of this ticket (number or id) instead")
@click.option("--agent", "login", metavar="LOGIN", help="with --ticket: read as this agent (default: root@localhost)")
@click.pass_obj
def list_command(load_settings, kind: str | None, show_all: bool, ticket_ref: str | None,  # noqa: ANN001
                 login: str | None) -> None:
    """The tag catalogue, or one ticket's tags."""
    with _runtime(load_settings) as runtime:
        service = build_tag_service(runtime)
        if ticket_ref is None:
            for tag in service.catalogue(kind=kind, valid_only=not show_all):
                click.echo(_tag_line(tag))
            return
        ticket_id = names.ticket_id(runtime.engine, runtime.schema, ticket_ref)
        agent_id = names.agent_id(runtime.engine, runtime.schema, login) if login else 1
        for link in service.ticket_tags(ticket_id, user_id=agent_id):
            if kind is None or link.tag.kind == kind:
                click.echo(_link_line(link))


@command.command("create")
@click.argument("name")
@click.option("--label", "labels", multiple=True, metavar="LANG=TEXT", help="a label, e.g. ru=ВИП (repeatable)")
@click.option("--colour", help="#rrggbb")
@click.option("--agent", "login", metavar="LOGIN", help="who made it (default: the CLI)")
@click.pass_obj
def create_command(load_settings, name: str, labels: tuple[str, ...], colour: str | None,  # noqa: ANN001
                   login: str | None) -> None:
    """Add manual tag NAME to the catalogue (the existing one when it is there)."""
    parsed: dict[str, str] = {}
    for item in labels:
        lang, sep, text = item.partition("=")
        if not sep or not lang.strip() or not text.strip():
            raise click.BadParameter(f"{item!r}: use LANG=TEXT, e.g. en=VIP", param_hint="--label")
        parsed[lang.strip()] = text.strip()
    with _runtime(load_settings) as runtime:
        created_by = str(names.agent_id(runtime.engine, runtime.schema, login)) if login else "cli"
        tag = build_tag_service(runtime).create(name, created_by=created_by, labels=parsed or None, colour=colour)
        click.echo(_tag_line(tag))


def _change(load_settings: Callable[[], Any], ticket_ref: str, tag_ref: str, login: str, *, add: bool) -> None:
    with _runtime(load_settings) as runtime:
        service = build_tag_service(runtime)
        ticket_id = names.ticket_id(runtime.engine, runtime.schema, ticket_ref)
        agent_id = names.agent_id(runtime.engine, runtime.schema, login)
        change = (service.add if add else service.remove)(ticket_id, tag_ref, agent_id=agent_id)
        verb = ("added" if add else "removed") if change.changed else ("already there" if add else "was not there")
        click.echo(f"ticket {ticket_id}: {change.tag.ref} {verb}")
        for link in change.links:
            click.echo(f"  {_link_line(link)}")


@command.command("add")
@click.argument("ticket_ref", metavar="TICKET")
@click.argument("tag_ref", metavar="TAG")
@click.option("--agent", "login", required=True, metavar="LOGIN", help="the agent who adds it (needs rw)")
@click.pass_obj
def add_command(load_settings, ticket_ref: str, tag_ref: str, login: str) -> None:  # noqa: ANN001
    """Put manual tag TAG (vip or manual:vip) on TICKET (a number or an id)."""
    _change(load_settings, ticket_ref, tag_ref, login, add=True)


@command.command("remove")
@click.argument("ticket_ref", metavar="TICKET")
@click.argument("tag_ref", metavar="TAG")
@click.option("--agent", "login", required=True, metavar="LOGIN", help="the agent who removes it (needs rw)")
@click.pass_obj
def remove_command(load_settings, ticket_ref: str, tag_ref: str, login: str) -> None:  # noqa: ANN001
    """Take manual tag TAG off TICKET; the audit keeps who did."""
    _change(load_settings, ticket_ref, tag_ref, login, add=False)


@command.command("backfill")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
              help="only tickets created at or after this date")
@click.option("--rules-only", is_flag=True, help="only notification tags (after a change of the notification rules)")
@click.option("--restart", is_flag=True, help="start over instead of resuming an unfinished run")
@click.option("--chunk", type=click.IntRange(10, 10_000), default=DEFAULT_CHUNK, show_default=True,
              help="tickets per chunk (one short read, one write transaction)")
@click.option("--index/--no-index", default=True, show_default=True,
              help="also set the search index's tag_ids of the tickets that got tags")
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.pass_obj
def backfill_command(load_settings, since: datetime | None, rules_only: bool, restart: bool,  # noqa: ANN001
                     chunk: int, index: bool, progress: bool) -> None:
    """Tag existing tickets from their history; resumes an unfinished run, a second run adds nothing.

    A complete run over every ticket records the position it is consistent with: the tailer's tags handler goes
    on from there instead of taking every ticket again through its first start's snapshot."""
    rules = _rules(load_settings)
    with _runtime(load_settings) as runtime:
        bar, advance = _bar(progress, "ticket")
        settings = runtime.settings
        position = TagsPosition(runtime.engine, runtime.schema, settings.own_schema, settings.tail_source)
        report = Backfill(runtime.engine, runtime.schema, rules, own_schema=settings.own_schema,
                          indexer=_indexer(runtime, index), chunk=chunk).run(
            since=since, rules_only=rules_only, restart=restart, progress=advance, position=position)
        bar.close()
        click.echo(report.summary())


@command.command("reconcile")
@click.option("--ticket", "ticket_ref", metavar="TICKET", help="only this ticket (number or id)")
@click.option("--range-size", type=click.IntRange(10, 100_000), default=DEFAULT_RANGE, show_default=True,
              help="ticket ids per range (one short read, one write transaction)")
@click.option("--index/--no-index", default=True, show_default=True,
              help="also compare the search index's tag_ids and set them where they differ")
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.pass_obj
def reconcile_command(load_settings, ticket_ref: str | None, range_size: int, index: bool,  # noqa: ANN001
                      progress: bool) -> None:
    """Recompute rule tags (all tickets or --ticket): add missing, remove those no rule gives; print the changes."""
    rules = _rules(load_settings)
    with _runtime(load_settings) as runtime:
        ticket_id = names.ticket_id(runtime.engine, runtime.schema, ticket_ref) if ticket_ref else None
        bar, advance = _bar(progress and ticket_id is None, "id")
        report = Reconcile(runtime.engine, runtime.schema, rules, own_schema=runtime.settings.own_schema,
                           indexer=_indexer(runtime, index), range_size=range_size).run(
            ticket_id=ticket_id, progress=advance)
        bar.close()
        click.echo(report.summary())
