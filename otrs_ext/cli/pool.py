"""``otrs-ext pool status`` and ``otrs-ext points report|reconcile``: the ticket pool and the points ledger."""

from __future__ import annotations

import json
from datetime import datetime

import click

from ..pool.compose import build_pool
from ..pool.ledger import month_range
from ..pool.overview import overview
from ..pool.views import REPORT_COLUMNS, report_csv
from ..runtime import build_runtime


@click.group("pool")
def command() -> None:
    """The ticket pool: agents in line, each handed one ticket."""


@command.command("status")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
def status(load_settings, as_json: bool) -> None:  # noqa: ANN001
    """Agents in the pool, waiting and holding a pool ticket; tickets the pool could hand out now."""
    runtime = build_runtime(load_settings())
    try:
        found = overview(build_pool(runtime))
    finally:
        runtime.close()
    if as_json:
        click.echo(json.dumps(found.__dict__))
        return
    click.echo(f"agents in the pool: {found.agents}")
    click.echo(f"  waiting:          {found.waiting}")
    click.echo(f"  holding a ticket: {found.holding}")
    click.echo(f"eligible tickets:   {found.eligible} (open, unlocked, in {found.queues} pool queues)")


@click.group("points")
def points() -> None:
    """The points ledger: monthly report, reconcile against OTRS's ticket history."""


@points.command("report")
@click.option("--month", required=True, metavar="YYYY-MM", help="the month to report")
@click.option("--csv", "as_csv", is_flag=True, help="CSV (one line per agent) instead of the tables")
@click.pass_obj
def report(load_settings, month: str, as_csv: bool) -> None:  # noqa: ANN001
    """Balances per agent and per department for a month."""
    runtime = build_runtime(load_settings())
    try:
        found = build_pool(runtime).ledger.report(month)
    finally:
        runtime.close()
    if as_csv:
        click.echo(report_csv(found), nl=False)
        return
    click.echo(f"points {found.month}")
    click.echo("  ".join(f"{c:>11}" if i > 2 else f"{c:<16}" for i, c in enumerate(REPORT_COLUMNS)))
    for a in found.agents:
        b = a.balance
        click.echo("  ".join([f"{a.login:<16}", f"{a.name[:16]:<16}", f"{';'.join(a.departments)[:16]:<16}",
                              f"{a.entries:>11}", *(f"{v:>11}" for v in (b.confirmed, b.penalties, b.adjustments,
                                                                         b.pending, b.total))]))
    click.echo("departments:")
    for d in found.departments:
        click.echo(f"  {d.name:<24} agents {d.agents:>4}  confirmed {d.confirmed:>10}  penalties {d.penalties:>10}  "
                   f"adjustments {d.adjustments:>10}  pending {d.pending:>10}  total {d.total:>10}")


@points.command("reconcile")
@click.option("--month", default=None, metavar="YYYY-MM", help="the month to check  [default: this month]")
@click.pass_obj
def reconcile(load_settings, month: str | None) -> None:  # noqa: ANN001
    """Recompute the ledger from OTRS's ticket_history for a month and show the differences (exit 1 if any)."""
    start, end = month_range(month or datetime.now().strftime("%Y-%m"), path="--month")
    runtime = build_runtime(load_settings())
    try:
        found = build_pool(runtime).reconciler.run(start, end)
    finally:
        runtime.close()
    click.echo(f"{start:%Y-%m}: {found.tickets} tickets, {found.expected} entries expected from ticket_history, "
               f"{found.found} in the ledger")
    for d in found.differences:
        click.echo(f"  ticket {d.ticket_id} agent {d.agent_id} {d.kind}: {d.detail}")
    if found.clean:
        click.echo("no differences")
    else:
        click.echo(f"{len(found.differences)} differences")
        raise SystemExit(1)
