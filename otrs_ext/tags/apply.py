"""Puts derived tags (``derive.Wanted``) on tickets, and takes off rule links no rule gives any more.

Used by the live handler (one event, one transaction), the backfill (adds only) and reconcile (adds and removes),
always in the caller's transaction. Links are ``INSERT IGNORE``: applying the same tags twice changes nothing,
which is what makes a replayed event or a second backfill harmless. A ticket has one source tag: putting one on
removes the other rule-set source links (``replace_source``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, select, tuple_, update

from .derive import NOTIFICATION_PREFIX, PARTICIPANT_RULE, SOURCE, SOURCE_RULE, Wanted
from .store import Tag, TagStore, name_key


@dataclass(frozen=True)
class Change:
    ticket_id: int
    action: str  # "+" added, "-" removed
    ref: str

    def __str__(self) -> str:
        return f"ticket {self.ticket_id}: {self.action}{self.ref}"


@dataclass(frozen=True)
class RuleLink:
    ticket_id: int
    tag_id: int
    rule: str | None
    ref: str


class TagWriter:
    """Tag rows made on first use (``created_by`` ``rule:<rule>``) and links in bulk. ``remember``: keep the
    tags found across calls (a backfill run; the live handler looks them up per event, so a tag removed by an
    administrator is made again rather than linked by a stale id)."""

    def __init__(self, store: TagStore, *, remember: bool = False) -> None:
        self.store = store
        self.remember = remember
        self._known: dict[tuple[str, str], Tag] = {}

    def tags(self, conn: Connection, wanted: Iterable[Wanted]) -> dict[tuple[str, str], Tag]:
        """(kind, folded name) -> Tag for every wanted tag, made when missing."""
        found: dict[tuple[str, str], Tag] = {}
        missing: dict[tuple[str, str], Wanted] = {}
        for item in wanted:
            key = (item.kind, name_key(item.name))
            if key in self._known:
                found[key] = self._known[key]
            else:
                missing.setdefault(key, item)
        if missing:
            existing = self.store.find_refs(conn, [item.ref for item in missing.values()])
            for key, item in missing.items():
                tag = existing.get(item.ref) or self.store.ensure(
                    conn, item.kind, item.name, created_by=f"rule:{item.rule}", labels=item.labels or None,
                    colour=item.colour)
                found[key] = tag
                if self.remember:
                    self._known[key] = tag
        return found

    def present(self, conn: Connection, rules: Iterable[Wanted]) -> list[str]:
        """Give existing rule tags the labels and colour their rules now say (a rule's tag is made with them, and
        a later change of the file would otherwise never reach it); the refs of those changed."""
        changed = []
        t = self.store.tag_table
        for item in rules:
            tag = self.store.find(conn, item.kind, item.name)
            if tag is None or (dict(tag.labels), tag.colour) == (dict(item.labels), item.colour):
                continue
            conn.execute(update(t).where(t.c.id == tag.id).values(labels=dict(item.labels), colour=item.colour))
            self._known.pop((tag.kind, name_key(tag.name)), None)
            changed.append(tag.ref)
        return changed

    def add(self, conn: Connection, wanted: Mapping[int, Sequence[Wanted]], *,
            tags: Mapping[tuple[str, str], Tag] | None = None) -> list[Change]:
        """Link every wanted tag to its ticket (those already there stay as they are); the links added."""
        tags = tags if tags is not None else self.tags(conn, (w for items in wanted.values() for w in items))
        rows = {(ticket_id, tags[(w.kind, name_key(w.name))].id): (ticket_id, w) for ticket_id, items in wanted.items()
                for w in items}
        if not rows:
            return []
        link = self.store.link_table
        present = _present(conn, link, rows)
        new = [(key, value) for key, value in rows.items() if key not in present]
        if not new:
            return []
        self.store.link_many(conn, [{"ticket_id": ticket_id, "tag_id": tag_id, "rule": w.rule,
                                     "article_id": w.article_id} for (ticket_id, tag_id), (_, w) in new])
        # a concurrent writer may have linked one of them in between: INSERT IGNORE kept its link, and the
        # report still names it (harmless: the link is there either way)
        return [Change(ticket_id, "+", f"{w.kind}:{w.name}") for (ticket_id, _), (_, w) in new]

    def replace_source(self, conn: Connection, ticket_id: int, keep: Tag | None) -> list[Change]:
        """Remove the ticket's rule-set source links other than ``keep`` (None: all of them)."""
        removed = [link for link in self.rule_links(conn, [ticket_id])
                   if link.rule == SOURCE_RULE and (keep is None or link.tag_id != keep.id)]
        self._remove(conn, removed)
        return [Change(link.ticket_id, "-", link.ref) for link in removed]

    def prune(self, conn: Connection, ticket_ids: Sequence[int], keep: Mapping[int, set[int]],
              rules: Iterable[str]) -> list[Change]:
        """Reconcile: remove rule-set links of ``ticket_ids`` whose tag is not in ``keep[ticket]`` (links set by
        ``rules``: ``source``, ``participant``, ``notification``); manual links are never touched."""
        prefixes = set(rules)
        removed = [link for link in self.rule_links(conn, ticket_ids)
                   if _part(link.rule) in prefixes and link.tag_id not in keep.get(link.ticket_id, set())]
        self._remove(conn, removed)
        return [Change(link.ticket_id, "-", link.ref) for link in removed]

    def rule_links(self, conn: Connection, ticket_ids: Sequence[int]) -> list[RuleLink]:
        """The links of these tickets that a rule set, with their tags' refs."""
        if not ticket_ids:
            return []
        link, t = self.store.link_table, self.store.tag_table
        rows = conn.execute(
            select(link.c.ticket_id, link.c.tag_id, link.c.rule, t.c.kind, t.c.name)
            .join(t, t.c.id == link.c.tag_id)
            .where(link.c.ticket_id.in_(sorted(set(ticket_ids))), link.c.rule.is_not(None)))
        return [RuleLink(int(ticket_id), int(tag_id), rule, f"{kind}:{name}")
                for ticket_id, tag_id, rule, kind, name in rows]

    def _remove(self, conn: Connection, links: Sequence[RuleLink]) -> None:
        if links:
            link = self.store.link_table
            conn.execute(delete(link).where(tuple_(link.c.ticket_id, link.c.tag_id).in_(
                [(item.ticket_id, item.tag_id) for item in links])))


def _part(rule: str | None) -> str | None:
    if rule == SOURCE_RULE:
        return SOURCE
    if rule == PARTICIPANT_RULE:
        return PARTICIPANT_RULE
    if rule is not None and rule.startswith(NOTIFICATION_PREFIX):
        return NOTIFICATION_PREFIX.rstrip(":")
    return None


def _present(conn: Connection, link: Table, keys: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (ticket, tag) links already exist: one primary-key read, so the report names only new links."""
    wanted = set(keys)
    tickets = sorted({ticket_id for ticket_id, _ in wanted})
    rows = conn.execute(select(link.c.ticket_id, link.c.tag_id).where(link.c.ticket_id.in_(tickets)))
    return {(int(t), int(g)) for t, g in rows} & wanted
