"""The search index's ``tag_ids`` for many tickets at once: read them back, and set them in few statements.

The live handler sets one ticket's tags (``Indexer.update_tags``). The backfill and reconcile touch thousands of
tickets per chunk; an UPDATE per ticket would make searchd scan its attributes thousands of times, so tickets
with the same tags share one ``UPDATE ... WHERE ticket_id IN (...)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from ..search.indexer import PAGE, Indexer, sql_value

#: tickets per UPDATE statement (searchd's statement size stays small)
UPDATE_TICKETS = 1000


def push_tags(indexer: Indexer, tags: Mapping[int, Sequence[int]]) -> int:
    """Set ``tag_ids`` of every document of each ticket to ``tags[ticket]``; the statements sent."""
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for ticket_id, tag_ids in tags.items():
        groups[tuple(sorted(set(tag_ids)))].append(int(ticket_id))
    sent = 0
    if not groups:
        return sent
    with indexer.index() as rt:
        for tag_ids, tickets in groups.items():
            for start in range(0, len(tickets), UPDATE_TICKETS):
                part = tickets[start:start + UPDATE_TICKETS]
                rt.execute(f"UPDATE {rt.index} SET tag_ids = {sql_value(tag_ids)} "
                           f"WHERE ticket_id IN ({','.join(map(str, part))})")
                sent += 1
    return sent


def index_tags(indexer: Indexer, low: int, high: int) -> dict[int, set[tuple[int, ...]]]:
    """ticket id -> the distinct ``tag_ids`` its documents carry, for tickets ``low``..``high`` (paged by id)."""
    found: dict[int, set[tuple[int, ...]]] = defaultdict(set)
    last = 0
    with indexer.index() as rt:
        while True:
            rows = rt.query(f"SELECT id, ticket_id, tag_ids FROM {rt.index} WHERE ticket_id >= {int(low)} "
                            f"AND ticket_id <= {int(high)} AND id > {last} ORDER BY id ASC LIMIT {PAGE} "
                            f"OPTION max_matches={PAGE}")
            for document_id, ticket_id, tag_ids in rows:
                found[int(ticket_id)].add(_mva(tag_ids))
                last = int(document_id)
            if len(rows) < PAGE:
                return found


def _mva(value: object) -> tuple[int, ...]:
    """searchd answers an MVA as ``"1,5,9"`` (empty: ``""``)."""
    text = value.decode() if isinstance(value, bytes) else str(value or "")
    return tuple(sorted(int(part) for part in text.split(",") if part.strip()))
