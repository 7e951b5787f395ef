"""Tags as the API and the screens show them: the catalogue's entries and a ticket's tags with who set them.

Plain dataclasses for ``jsonable``. A label is the tag's label in ``language``, else its English one, else
its name; ``labels`` has every language the tag was given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from schema_maps import OtrsSchema

from .store import Link, Tag


@dataclass(frozen=True)
class TagView:
    id: int
    ref: str  # kind:name, what filters and POST /tickets/{id}/tags take
    kind: str
    name: str
    label: str
    labels: Mapping[str, str]
    colour: str | None
    valid: bool


@dataclass(frozen=True)
class TicketTagView:
    id: int
    ref: str
    kind: str
    name: str
    label: str
    labels: Mapping[str, str]
    colour: str | None
    agent: str | None  # login of the agent who set it (manual tags); None for a rule's, and for customers
    rule: str | None  # the rule that set it (rule:source, ...); None for an agent's, and for customers
    article_id: int | None  # the article that made a rule set it
    set_at: datetime | None


def tag_view(tag: Tag, language: str = "en") -> TagView:
    return TagView(id=tag.id, ref=tag.ref, kind=tag.kind, name=tag.name, label=tag.label(language),
                   labels=dict(tag.labels), colour=tag.colour, valid=tag.valid)


def ticket_tag_views(conn: Connection, schema: OtrsSchema, links: Sequence[Link], *, who: bool = True,
                     language: str = "en") -> list[TicketTagView]:
    """``links`` as shown; ``who``: with the setter (agent login or rule), which customers are not shown."""
    logins = agent_logins(conn, schema, {link.agent_id for link in links if link.agent_id}) if who else {}
    return [TicketTagView(
        id=link.tag.id, ref=link.tag.ref, kind=link.tag.kind, name=link.tag.name, label=link.tag.label(language),
        labels=dict(link.tag.labels), colour=link.tag.colour,
        agent=logins.get(link.agent_id, str(link.agent_id)) if who and link.agent_id else None,
        rule=link.rule if who else None, article_id=link.article_id if who else None, set_at=link.created_at)
        for link in links]


def agent_logins(conn: Connection, schema: OtrsSchema, agent_ids: set[int]) -> dict[int, str]:
    if not agent_ids:
        return {}
    users = schema.tables.users
    return dict(conn.execute(select(users.c.id, users.c.login).where(users.c.id.in_(sorted(agent_ids)))).all())
