"""``otrs-ext doctor`` warns when OTRS's daemon leaves the queued tasks lying (it is not running)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

import schema_maps
from otrs_ext.doctor.checks import Doctor
from otrs_ext.doctor.daemon import daemon_check
from otrs_ext.settings import Settings


def _queue(engine, *, age: timedelta, lock_key: int = 0, count: int = 1) -> None:
    tasks = schema_maps.load("znuny7").tables.scheduler_task
    with engine.begin() as conn:
        now = conn.execute(select(func.current_timestamp())).scalar_one()
        for _ in range(count):
            conn.execute(insert(tasks).values(
                ident=conn.execute(select(func.floor(func.rand() * 10**17) + 10**17)).scalar_one(),
                name="Kernel::System::Calendar-TicketAppointmentProcessTicket()", task_type="AsynchronousExecutor",
                task_data=b"BQsDAAAAAA==\n", attempts=1, lock_key=lock_key, create_time=now - age))


def test_fresh_or_taken_tasks_are_fine_old_waiting_ones_warn(otrs_database):
    engine = otrs_database("znuny7")
    with engine.connect() as conn:
        assert daemon_check(conn).status == "ok"
    _queue(engine, age=timedelta(seconds=30), count=2)  # the daemon takes them within seconds
    _queue(engine, age=timedelta(hours=1), lock_key=4711)  # a worker holds it
    with engine.connect() as conn:
        check = daemon_check(conn)
    assert (check.status, check.detail) == ("ok", "no task waits longer than 5 minutes (2 queued)")
    _queue(engine, age=timedelta(minutes=6), count=3)
    with engine.connect() as conn:
        check = daemon_check(conn)
    assert check.status == "warn"
    assert check.detail.startswith("3 of 5 queued AsynchronousExecutor tasks have waited more than 5 minutes")
    assert "Daemon.pl start" in check.fix


def test_the_doctor_runs_it(otrs_database):
    engine = otrs_database("znuny7")
    _queue(engine, age=timedelta(days=1))
    settings = Settings(db_url=engine.url.render_as_string(hide_password=False),
                        redis_url="redis://127.0.0.1:1/0", search_url="mysql://127.0.0.1:1").validate()
    checks = {c.name: c for c in Doctor(settings).run()}
    assert checks["otrs daemon"].status == "warn"
