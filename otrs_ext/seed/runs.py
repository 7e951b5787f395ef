"""The log of seed runs in ``otrs_ext_seed_run``: what was seeded, with which seed, how long it took."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, update

from ..db.own_tables import own_table


class SeedRunLog:
    def __init__(self, engine: Engine, own_schema: str | None = None) -> None:
        self.engine = engine
        self.table = own_table("seed_run", own_schema)

    def start(self, *, seed: int, tickets: int, articles_per_ticket: float, generation: str) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(insert(self.table).values(
                seed=seed, tickets=tickets, articles_per_ticket=articles_per_ticket, generation=generation,
                status="running", started_at=_now(),
            ))
            return int(result.inserted_primary_key[0])

    def finish(self, run_id: int, report: Any) -> None:
        data = asdict(report) if is_dataclass(report) else {}
        self._update(run_id, status="done", finished_at=_now(), seconds=data.get("seconds"),
                     counts=data.get("counts"))

    def fail(self, run_id: int, error: BaseException) -> None:
        self._update(run_id, status="failed", finished_at=_now(), error=f"{error.__class__.__name__}: {error}"[:2000])

    def _update(self, run_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(self.table).where(self.table.c.id == run_id).values(**values))



def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def logged_seed(engine: Engine, schema: Any, *, own_schema: str | None = None, tickets: int,
                articles_per_ticket: float, seed: int, progress: bool = True) -> Any:
    """Run the seeder and record the run (parameters, duration, row counts, or the error) in the log."""
    from .runner import run_seed  # the generator: loaded only when a seed runs

    log = SeedRunLog(engine, own_schema)
    run_id = log.start(seed=seed, tickets=tickets, articles_per_ticket=articles_per_ticket,
                       generation=schema.generation)
    try:
        report = run_seed(engine, schema, tickets=tickets, articles_per_ticket=articles_per_ticket, seed=seed,
                          progress=progress)
    except BaseException as exc:
        log.fail(run_id, exc)
        raise
    log.finish(run_id, report)
    return report
