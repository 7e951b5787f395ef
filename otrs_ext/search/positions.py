"""The position a reindex is consistent with, handed to the tailer's ``search`` handler.

A reindex takes the source's position before it reads anything: the binlog position of a consistent snapshot
(every transaction before it is visible to the reads that follow), or with ``OTRS_EXT_TAIL_SOURCE=poll`` the
id watermarks. Every change before it is in what the reindex reads; every change after it reaches the index
through the tailer. Once the run is complete it is stored as the ``search`` handler's position
(``otrs_ext.events.checkpoint.HandlerPositions``): the next ``otrs-ext tail`` hands that handler only the
transactions after it, instead of every article again through its first start's snapshot.
``otrs_ext.search.compose.reindex_position`` builds it from the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from schema_maps import OtrsSchema

from ..events.checkpoint import HandlerPositions
from ..events.poll import newest_position
from ..events.rows import Position
from ..events.snapshot import consistent_position

SEARCH_HANDLER = "search"  # the search handler's name in OTRS_EXT_HANDLERS (otrs_ext.events.plugins)


@dataclass(frozen=True)
class ReindexPosition:
    """``current()`` at the start of a run, ``record()`` when it completed (see ``reindex.reindex``)."""

    engine: Engine
    schema: OtrsSchema
    own_schema: str | None = None
    source: str = "binlog"  # the tailer's source (OTRS_EXT_TAIL_SOURCE): binlog or poll

    def current(self) -> Position:
        if self.source != "poll":
            return consistent_position(self.engine)
        with self.engine.connect() as conn:
            return newest_position(conn, self.schema)

    def record(self, position: Position) -> None:
        HandlerPositions(self.engine, self.own_schema).save(SEARCH_HANDLER, position, recorded_by="reindex")
