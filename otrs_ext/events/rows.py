"""Committed row changes, the neutral form every source produces and the assembler consumes.

A source (the binlog reader, a test) turns what the server sent into ``Transaction`` objects: the row
changes of one commit under the uniform table names of ``schema_maps``, with the positions to resume from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True, order=True)
class Position:
    """A place between two transactions in the server's binlog; ``gtid`` is that of the last transaction
    before it (MariaDB), for resuming by GTID."""

    log_file: str
    log_pos: int
    gtid: str | None = None

    def key(self) -> tuple[int, int]:
        """Comparable across rotations: binlog files are numbered by their extension."""
        match = re.search(r"(\d+)$", self.log_file)
        return (int(match.group(1)) if match else 0, self.log_pos)

    def __str__(self) -> str:
        return f"{self.log_file}:{self.log_pos}" + (f" (gtid {self.gtid})" if self.gtid else "")


@dataclass(frozen=True)
class RowChange:
    table: str  # uniform name (schema_maps): ticket, article, article_data_mime, ticket_history ...
    kind: Literal["insert", "update", "delete"]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None

    @property
    def row(self) -> Mapping[str, Any]:
        """The row as it is now (the before-image for a delete)."""
        return self.after if self.after is not None else (self.before or {})


@dataclass(frozen=True)
class Transaction:
    txid: str  # names this commit in event ids: its GTID, else the binlog position where it starts
    start: Position  # resume here to read this transaction again
    end: Position  # just after its commit
    timestamp: datetime  # commit time on the server
    changes: tuple[RowChange, ...]
