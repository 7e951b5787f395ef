"""Tag filters of ticket lists and searches: the refs and kinds a request names, as tag ids.

``tag`` values are refs (``source:email``, ``participant:v.dmitriev``; a bare name is a manual tag) that must
all be on a ticket; each ``tag_kind`` asks for any tag of that kind. The lists and the search index only know
ids, so this resolves the names once per request and reports unknown ones the way unknown queue names are
reported (``tag[0]``, ``tag_kind[0]``), before anything is searched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from ..errors import ValidationError
from .store import KINDS, TagStore, name_key, parse_ref

MANUAL = "manual"


@dataclass(frozen=True)
class TagFilter:
    """``all_of``: every one of these tags is on the ticket. ``any_of``: per group, at least one of them is
    (an empty group: a kind without tags, which no ticket can match)."""

    all_of: tuple[int, ...] = ()
    any_of: tuple[tuple[int, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.all_of or self.any_of)


def resolve(conn: Connection, store: TagStore, refs: Sequence[str], kinds: Sequence[str] = (), *,
            path: str = "tag", kind_path: str = "tag_kind") -> TagFilter:
    """The ids of ``refs`` and of the tags of each of ``kinds``; ValidationError naming every unknown one."""
    problems: list[tuple[str, str]] = []
    parsed: list[tuple[int, tuple[str, str]]] = []
    for i, ref in enumerate(refs):
        try:
            parsed.append((i, parse_ref(ref, f"{path}[{i}]", default_kind=MANUAL)))
        except ValidationError as error:
            problems.extend(error.problems)
    # by case-folded name: "VIP" and "vip" in one request are the same tag
    found = {(kind, name_key(name)): tag
             for (kind, name), tag in store.find_refs(conn, [ref for _, ref in parsed]).items()}
    for i, (kind, name) in parsed:
        if (kind, name_key(name)) not in found:
            problems.append((f"{path}[{i}]", f"unknown tag {kind}:{name}; GET /api/v1/tags lists them"))
    for i, kind in enumerate(kinds):
        if kind not in KINDS:
            problems.append((f"{kind_path}[{i}]", f"unknown tag kind {kind!r}; one of {', '.join(KINDS)}"))
    if problems:
        raise ValidationError(problems)
    all_of = tuple(sorted({found[(kind, name_key(name))].id for _, (kind, name) in parsed}))
    any_of = tuple(_kind_ids(conn, store, kind) for kind in dict.fromkeys(kinds))
    return TagFilter(all_of=all_of, any_of=any_of)


def _kind_ids(conn: Connection, store: TagStore, kind: str) -> tuple[int, ...]:
    # every tag of the kind, valid or not: a tag taken out of the catalogue is still on the tickets it was put on
    t = store.tag_table
    return tuple(conn.execute(select(t.c.id).where(t.c.kind == kind).order_by(t.c.id)).scalars())
