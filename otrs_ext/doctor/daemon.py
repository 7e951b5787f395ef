"""The doctor's daemon check: does OTRS's daemon take the work otrs-ext's writes queue for it?

otrs-ext hands OTRS's event modules (escalation index, notifications, calendar appointments, GenericAgent,
GenericInterface) their work as ``scheduler_task`` rows (``tickets/otrs_tasks.py``); OTRS queues its own
asynchronous work there too. The daemon's task worker picks unlocked rows within a second or two. Rows that
wait for minutes mean no daemon runs: tickets do not escalate and nobody is notified.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, func, select

import schema_maps

from .check import Check

NAME = "otrs daemon"
STALE_AFTER = timedelta(minutes=5)
TASK_TYPE = "AsynchronousExecutor"


def daemon_check(conn: Connection, *, stale_after: timedelta = STALE_AFTER) -> Check:
    """``warn`` when unlocked AsynchronousExecutor tasks are older than ``stale_after`` by the database's clock
    (the clock both OTRS and otrs-ext stamp ``create_time`` with)."""
    tasks = schema_maps.detect(conn).tables.scheduler_task
    now = conn.execute(select(func.current_timestamp())).scalar_one()
    pending = (tasks.c.lock_key == 0) & (tasks.c.task_type == TASK_TYPE)
    waiting, oldest = conn.execute(
        select(func.count(), func.min(tasks.c.create_time)).where(pending, tasks.c.create_time < now - stale_after)
    ).one()
    queued = conn.execute(select(func.count()).where(pending)).scalar_one()
    minutes = int(stale_after.total_seconds() // 60)
    if waiting:
        return Check(
            NAME, "warn",
            f"{waiting} of {queued} queued {TASK_TYPE} tasks have waited more than {minutes} minutes (the oldest "
            f"since {oldest}): OTRS's daemon is not running, so escalations, notifications and the other event "
            "module work of otrs-ext's and OTRS's own writes are not done",
            "start OTRS's daemon as the OTRS user and keep it running (its cron entry or systemd unit): "
            "su - otrs -c 'bin/otrs.Daemon.pl start' (Znuny: bin/znuny.Daemon.pl, OTOBO: bin/otobo.Daemon.pl)")
    return Check(NAME, "ok", f"no task waits longer than {minutes} minutes ({queued} queued)")
