"""Where a long resumable job got to, in ``otrs_ext_job_progress`` (one row per job name).

A job stores its position in the same transaction as the work that brought it there, so after a kill it
resumes exactly after the last chunk it committed. ``detail`` holds the job's parameters (a run with other
parameters starts over) and its counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.mysql import insert

from ..db.own_tables import own_table


@dataclass(frozen=True)
class JobState:
    job: str
    position: int
    detail: Mapping[str, Any]
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


class JobProgress:
    def __init__(self, job: str, own_schema: str | None = None) -> None:
        self.job = job
        self.table = own_table("job_progress", own_schema)

    def load(self, conn: Connection) -> JobState | None:
        t = self.table
        row = conn.execute(select(t).where(t.c.job == self.job)).mappings().first()
        if row is None:
            return None
        return JobState(job=row["job"], position=int(row["position"]), detail=row["detail"] or {},
                        started_at=row["started_at"], updated_at=row["updated_at"], finished_at=row["finished_at"])

    def start(self, conn: Connection, position: int, detail: Mapping[str, Any]) -> None:
        """A new run from ``position`` (replacing whatever run was recorded)."""
        values = {"position": position, "detail": dict(detail), "started_at": func.now(), "updated_at": func.now(),
                  "finished_at": None}
        conn.execute(insert(self.table).values(job=self.job, **values).on_duplicate_key_update(**values))

    def advance(self, conn: Connection, position: int, detail: Mapping[str, Any]) -> None:
        conn.execute(update(self.table).where(self.table.c.job == self.job)
                     .values(position=position, detail=dict(detail), updated_at=func.now()))

    def finish(self, conn: Connection, detail: Mapping[str, Any]) -> None:
        conn.execute(update(self.table).where(self.table.c.job == self.job)
                     .values(detail=dict(detail), updated_at=func.now(), finished_at=func.now()))
