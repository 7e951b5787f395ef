"""What agents do with tags by hand: read a ticket's tags, add and remove manual ones, list the catalogue.

Automatic tags (source, participant, notification) are set by rules from the binlog events (``otrs_ext.tags``'s
handler), never by hand: a person cannot say where a ticket came from. Reading a ticket's tags needs ``ro`` on
it, changing them ``rw`` (OTRS's own rule for changing a ticket); a ticket the agent may not read does not
exist for him. After a change ``index_sync(ticket_id, tag_ids)`` brings the search index's ``tag_ids`` along.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from ..errors import NotFound, ValidationError
from ..tickets.permissions import Permissions
from .filters import TagFilter, resolve
from .store import Link, Tag, TagStore, parse_ref

IndexSync = Callable[[int, Iterable[int]], object]
MANUAL = "manual"


@dataclass(frozen=True)
class TagChange:
    ticket_id: int
    tag: Tag
    changed: bool  # False: it was already on (add) or already off (remove)
    links: list[Link]  # the ticket's tags after the change


class TagService:
    def __init__(self, engine: Engine, store: TagStore, permissions: Permissions, *,
                 index_sync: IndexSync | None = None) -> None:
        self.engine = engine
        self.store = store
        self.permissions = permissions
        self.index_sync = index_sync

    def catalogue(self, *, kind: str | None = None, valid_only: bool = True) -> list[Tag]:
        with self.engine.connect() as conn:
            return self.store.tags(conn, kind=kind, valid_only=valid_only)

    def filter(self, refs: Sequence[str] = (), kinds: Sequence[str] = (), *, customer: bool = False) -> TagFilter:
        """A request's ``tag`` refs and ``tag_kind`` kinds as ids (``filters.resolve``); unknown ones are a
        ValidationError naming each (``tag[0]``, ``tag_kind[0]``). Tags are the agents' classification (agent
        logins, notification rules): a ``customer`` may not filter by them, nor learn which tags exist."""
        if not refs and not kinds:
            return TagFilter()
        if customer:
            raise ValidationError([("tag" if refs else "tag_kind", "tags are for agents; customers cannot filter "
                                                                   "by them")])
        with self.engine.connect() as conn:
            return resolve(conn, self.store, refs, kinds)

    def create(self, ref: str, *, created_by: str, labels: Mapping[str, str] | None = None,
               colour: str | None = None) -> Tag:
        """A manual tag for the catalogue (``vip`` or ``manual:vip``); the existing one when it is there."""
        kind, name = parse_ref(ref, default_kind=MANUAL)
        if kind != MANUAL:
            raise ValidationError([("tag", f"only manual tags are made by hand; {kind} tags are set by rules")])
        with self.engine.begin() as conn:
            return self.store.ensure(conn, kind, name, created_by=created_by, labels=labels, colour=colour)

    def ticket_tags(self, ticket_id: int, *, user_id: int | None = None,
                    customer_login: str | None = None) -> list[Link]:
        """The ticket's tags as an agent (``ro``) sees them; a customer of the ticket sees none. NotFound when
        the viewer may not see the ticket."""
        with self.engine.connect() as conn:
            if customer_login is not None:
                allowed = self._quietly(lambda: self.permissions.can_customer(conn, customer_login, ticket_id))
            elif user_id is not None:
                allowed = self._quietly(lambda: self.permissions.can_agent(conn, user_id, ticket_id, "ro"))
            else:
                allowed = False  # an intake key reads no tickets
            if not allowed:
                raise NotFound(f"ticket {ticket_id} not found")
            if customer_login is not None:
                return []  # tags are the agents' classification (agent logins, notification rules)
            return self.store.links(conn, [ticket_id])[ticket_id]

    def add(self, ticket_id: int, ref: str, *, agent_id: int) -> TagChange:
        return self._change(ticket_id, ref, agent_id, add=True)

    def remove(self, ticket_id: int, ref: str, *, agent_id: int) -> TagChange:
        return self._change(ticket_id, ref, agent_id, add=False)

    def _change(self, ticket_id: int, ref: str, agent_id: int, *, add: bool) -> TagChange:
        kind, name = parse_ref(ref, default_kind=MANUAL)
        with self.engine.begin() as conn:
            # checked before anything is written: a ticket he cannot read is not there, one he cannot change is 403
            if not self._quietly(lambda: self.permissions.can_agent(conn, agent_id, ticket_id, "ro")):
                raise NotFound(f"ticket {ticket_id} not found")
            self.permissions.require_agent(conn, agent_id, ticket_id, "rw")
            if kind != MANUAL:
                raise ValidationError([("tag", f"{kind} tags are set by rules, not by hand; only manual tags change")])
            tag = self.store.find(conn, kind, name)
            if tag is None or (add and not tag.valid):
                raise ValidationError([("tag", f"no manual tag {name!r}; the catalogue (GET /api/v1/tags, "
                                               "otrs-ext tags list) has the ones to choose from")])
            if add:
                changed = self.store.link(conn, ticket_id, tag, agent_id=agent_id, audit=True)
            else:
                changed = self.store.unlink(conn, ticket_id, tag, agent_id=agent_id, audit=True)
            links = self.store.links(conn, [ticket_id])[ticket_id]
        if changed and self.index_sync is not None:
            self.index_sync(ticket_id, [link.tag.id for link in links])
        return TagChange(ticket_id=ticket_id, tag=tag, changed=changed, links=links)

    @staticmethod
    def _quietly(check: Callable[[], bool]) -> bool:
        try:
            return check()
        except NotFound:
            return False
