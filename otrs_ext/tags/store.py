"""The tag store: tags and their links to tickets, in ``otrs_ext_tag`` / ``otrs_ext_ticket_tag``.

A tag is named ``<kind>:<name>`` (``source:email``, ``participant:v.dmitriev``, ``notification:quota-exceeded``,
``manual:vip``). Names are unique per kind whatever their case: ``name_key`` holds the case-folded name under a
binary collation, so ``VIP`` and ``vip`` are one tag while ``vip`` and ``víp`` stay two (MariaDB's default
collation would fold accents and trailing spaces too). Every method takes the caller's connection, so a
handler or a route writes links and their audit rows in its own transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, tuple_, update
from sqlalchemy.dialects.mysql import insert

from ..db.own_tables import own_table
from ..errors import ValidationError

KINDS = ("source", "participant", "notification", "manual")
NAME_MAX = 100
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Tag:
    id: int
    kind: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    colour: str | None = None
    valid: bool = True

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.name}"

    def label(self, language: str = "en") -> str:
        return self.labels.get(language) or self.labels.get("en") or self.name


@dataclass(frozen=True)
class Link:
    ticket_id: int
    tag: Tag
    agent_id: int | None
    rule: str | None
    article_id: int | None
    created_at: Any


def name_key(name: str) -> str:
    return name.casefold()


def parse_ref(ref: str, path: str = "tag", *, default_kind: str | None = None) -> tuple[str, str]:
    """``"source:email"`` -> ``("source", "email")``; a bare name is of ``default_kind`` when one is given.
    Raises ValidationError naming ``path`` for an unknown kind or a bad name."""
    kind, sep, name = ref.partition(":")
    if not sep or kind not in KINDS:
        if default_kind is None:
            raise ValidationError([(path, f"must be <kind>:<name> with kind one of {', '.join(KINDS)}")])
        kind, name = default_kind, ref
    check_name(name, path)
    return kind, name


def check_name(name: str, path: str = "name") -> None:
    if not name or name != name.strip():
        raise ValidationError([(path, "must not be empty or start or end with a space")])
    if len(name) > NAME_MAX:
        raise ValidationError([(path, f"must be at most {NAME_MAX} characters")])
    if _CONTROL.search(name):
        raise ValidationError([(path, "must not contain control characters")])


def check_kind(kind: str, path: str = "kind") -> None:
    if kind not in KINDS:
        raise ValidationError([(path, f"must be one of {', '.join(KINDS)}")])


class TagStore:
    def __init__(self, own_schema: str | None = None) -> None:
        self.tag_table = own_table("tag", own_schema)
        self.link_table = own_table("ticket_tag", own_schema)
        self.audit_table = own_table("ticket_tag_audit", own_schema)

    # --- tags -------------------------------------------------------------------------------------------
    def ensure(self, conn: Connection, kind: str, name: str, *, created_by: str,
               labels: Mapping[str, str] | None = None, colour: str | None = None) -> Tag:
        """The tag ``kind:name``, created when missing (concurrent creators get the same row)."""
        check_kind(kind)
        check_name(name)
        if colour is not None and not COLOUR.fullmatch(colour):
            raise ValidationError([("colour", "must be #rrggbb")])
        found = self.find(conn, kind, name)
        if found is not None:
            return found
        conn.execute(insert(self.tag_table).prefix_with("IGNORE").values(
            kind=kind, name=name, name_key=name_key(name), labels=dict(labels or {}), colour=colour, valid=True,
            created_at=func.now(), created_by=created_by))
        made = self.find(conn, kind, name)
        assert made is not None
        return made

    def find(self, conn: Connection, kind: str, name: str) -> Tag | None:
        t = self.tag_table
        row = conn.execute(select(t).where(t.c.kind == kind, t.c.name_key == name_key(name))).mappings().first()
        return _tag(row) if row is not None else None

    def find_refs(self, conn: Connection, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Tag]:
        """``(kind, name) -> Tag`` of those that exist, looked up by case-folded name."""
        wanted = {(kind, name_key(name)): (kind, name) for kind, name in refs}
        if not wanted:
            return {}
        t = self.tag_table
        rows = conn.execute(select(t).where(tuple_(t.c.kind, t.c.name_key).in_(list(wanted)))).mappings()
        return {wanted[(row["kind"], row["name_key"])]: _tag(row) for row in rows}

    def get(self, conn: Connection, tag_ids: Iterable[int]) -> dict[int, Tag]:
        ids = sorted(set(tag_ids))
        if not ids:
            return {}
        t = self.tag_table
        return {row["id"]: _tag(row) for row in conn.execute(select(t).where(t.c.id.in_(ids))).mappings()}

    def tags(self, conn: Connection, *, kind: str | None = None, valid_only: bool = True) -> list[Tag]:
        t = self.tag_table
        query = select(t).order_by(t.c.kind, t.c.name_key)
        if kind is not None:
            query = query.where(t.c.kind == kind)
        if valid_only:
            query = query.where(t.c.valid.is_(True))
        return [_tag(row) for row in conn.execute(query).mappings()]

    def set_valid(self, conn: Connection, tag_id: int, valid: bool) -> None:
        conn.execute(update(self.tag_table).where(self.tag_table.c.id == tag_id).values(valid=valid))

    # --- links ------------------------------------------------------------------------------------------
    def link(self, conn: Connection, ticket_id: int, tag: Tag, *, agent_id: int | None = None,
             rule: str | None = None, article_id: int | None = None, audit: bool = False) -> bool:
        """Put ``tag`` on the ticket; False when it was already there (the first setter is kept)."""
        added = conn.execute(insert(self.link_table).prefix_with("IGNORE").values(
            ticket_id=ticket_id, tag_id=tag.id, agent_id=agent_id, rule=rule, article_id=article_id,
            created_at=func.now(6))).rowcount == 1
        if added and audit:
            self._audit(conn, ticket_id, tag, "added", agent_id, rule)
        return added

    def link_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Links ``{ticket_id, tag_id, agent_id, rule, article_id}`` in one statement; those already there stay."""
        if not rows:
            return 0
        values = [{"agent_id": None, "rule": None, "article_id": None, **row} for row in rows]
        return conn.execute(insert(self.link_table).prefix_with("IGNORE").values(created_at=func.now(6)),
                            values).rowcount

    def unlink(self, conn: Connection, ticket_id: int, tag: Tag, *, agent_id: int | None = None,
               rule: str | None = None, audit: bool = False) -> bool:
        """Take ``tag`` off the ticket; False when it was not there."""
        link = self.link_table
        removed = conn.execute(delete(link).where(link.c.ticket_id == ticket_id, link.c.tag_id == tag.id)).rowcount == 1
        if removed and audit:
            self._audit(conn, ticket_id, tag, "removed", agent_id, rule)
        return removed

    def links(self, conn: Connection, ticket_ids: Iterable[int]) -> dict[int, list[Link]]:
        """Each ticket's links with their (valid or not) tags, by kind then name."""
        ids = sorted(set(ticket_ids))
        found: dict[int, list[Link]] = {i: [] for i in ids}
        if not ids:
            return found
        link, t = self.link_table, self.tag_table
        rows = conn.execute(
            select(link.c.ticket_id, link.c.agent_id, link.c.rule, link.c.article_id, link.c.created_at,
                   *(c.label(f"tag_{c.name}") for c in t.c))
            .join(t, t.c.id == link.c.tag_id).where(link.c.ticket_id.in_(ids))
            .order_by(link.c.ticket_id, t.c.kind, t.c.name_key)).mappings()
        for row in rows:
            tag = _tag({c.name: row[f"tag_{c.name}"] for c in t.c})
            found[row["ticket_id"]].append(Link(row["ticket_id"], tag, row["agent_id"], row["rule"],
                                                row["article_id"], row["created_at"]))
        return found

    def tag_ids(self, conn: Connection, ticket_id: int) -> list[int]:
        link = self.link_table
        return list(conn.execute(select(link.c.tag_id).where(link.c.ticket_id == ticket_id)
                                 .order_by(link.c.tag_id)).scalars())

    def has_kind(self, conn: Connection, ticket_id: int, kind: str) -> bool:
        link, t = self.link_table, self.tag_table
        return conn.execute(select(link.c.tag_id).join(t, t.c.id == link.c.tag_id)
                            .where(link.c.ticket_id == ticket_id, t.c.kind == kind).limit(1)).first() is not None

    def move_ticket(self, conn: Connection, from_ticket: int, to_ticket: int) -> None:
        """A merge: the merged ticket's links go to the main ticket (those it already has stay as they are)."""
        link = self.link_table
        cols = [c.name for c in link.c if c.name != "ticket_id"]
        conn.execute(insert(link).prefix_with("IGNORE").from_select(
            ["ticket_id", *cols], select(func.cast(to_ticket, link.c.ticket_id.type), *(link.c[c] for c in cols))
            .where(link.c.ticket_id == from_ticket)))
        conn.execute(delete(link).where(link.c.ticket_id == from_ticket))

    def forget_ticket(self, conn: Connection, ticket_id: int) -> None:
        """A deleted ticket: its links go (the audit of manual changes stays)."""
        conn.execute(delete(self.link_table).where(self.link_table.c.ticket_id == ticket_id))

    def remove_rule_links(self, conn: Connection, ticket_id: int, keep: Iterable[int], *, rule_prefix: str) -> int:
        """Links set by rules named ``rule_prefix*`` on the ticket other than those to ``keep``: a reconcile."""
        link = self.link_table
        kept = sorted(set(keep))
        condition = and_(link.c.ticket_id == ticket_id, link.c.rule.like(_like(rule_prefix) + "%", escape="\\"))
        if kept:
            condition = and_(condition, link.c.tag_id.not_in(kept))
        return conn.execute(delete(link).where(condition)).rowcount

    def _audit(self, conn: Connection, ticket_id: int, tag: Tag, action: str, agent_id: int | None,
               rule: str | None) -> None:
        conn.execute(self.audit_table.insert().values(ticket_id=ticket_id, tag_id=tag.id, action=action,
                                                      agent_id=agent_id, rule=rule, at=func.now(6)))


def _tag(row: Mapping[str, Any]) -> Tag:
    return Tag(id=int(row["id"]), kind=row["kind"], name=row["name"], labels=row["labels"] or {},
               colour=row["colour"], valid=bool(row["valid"]))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
