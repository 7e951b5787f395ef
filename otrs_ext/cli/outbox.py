"""``otrs-ext outbox``: what the durable client's outbox holds, and putting dead requests back in line."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import click

from ..client.compose import outbox_from_settings, store_from_settings
from ..client.store import OutboxStatus


@click.group("outbox")
def command() -> None:
    """The durable client's outbox (Redis at OTRS_EXT_OUTBOX_REDIS_URL; delivered by the Celery worker)."""


@command.command("status")
@click.option("--dead", "newest", type=click.IntRange(min=0), default=5, show_default=True,
              help="how many of the newest dead requests to show")
@click.option("--json", "as_json", is_flag=True, help="one JSON document")
@click.pass_obj
def status(load_settings, newest: int, as_json: bool) -> None:  # noqa: ANN001
    """Pending, retried and dead requests; the newest dead ones with their reason."""
    store = store_from_settings(load_settings())
    report = store.status(newest)
    health = store.health()
    if as_json:
        click.echo(json.dumps(_document(report, health), ensure_ascii=False))
        return
    c = report.counters
    click.echo(f"pending {report.pending} (retried {report.retrying}), dead {report.dead}")
    click.echo(f"since start: enqueued {c.get('enqueued', 0)}, delivered {c.get('delivered', 0)} "
               f"({c.get('delivered_after_retry', 0)} after retries, {c.get('replayed', 0)} answered from the "
               f"idempotency record), failed attempts {c.get('retries', 0)}, dead-lettered {c.get('dead', 0)}")
    if report.next_due is not None:
        click.echo(f"next attempt due in {max(0.0, report.next_due - time.time()):.0f}s")
    if not health["aof_enabled"]:
        click.secho("warning: the outbox Redis has appendonly off: a Redis restart loses waiting requests",
                    fg="yellow")
    if health["maxmemory_policy"] not in (None, "noeviction"):
        click.secho(f"warning: maxmemory-policy is {health['maxmemory_policy']}: Redis may evict waiting requests; "
                    "use noeviction", fg="yellow")
    for envelope in report.newest_dead:
        when = datetime.fromtimestamp(envelope.dead_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"dead {envelope.id} {when} {envelope.dead_reason} after {envelope.attempts} attempts: "
                   f"{envelope.last_error} | {envelope.summary()}")


@command.command("retry-dead")
@click.argument("ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="every dead request")
@click.pass_obj
def retry_dead(load_settings, ids: tuple[str, ...], everything: bool) -> None:  # noqa: ANN001
    """Send dead requests (IDS, or --all) again with a fresh deadline, under their old Idempotency-Key."""
    if not ids and not everything:
        raise click.UsageError("name the dead requests' ids or pass --all")
    revived = outbox_from_settings(load_settings()).retry_dead(None if everything else list(ids))
    click.echo(f"{revived} request(s) back in the outbox")


@command.command("sweep")
@click.option("--grace", type=float, default=900.0, show_default=True,
              help="re-send pending requests overdue by more than this many seconds")
@click.pass_obj
def sweep(load_settings, grace: float) -> None:  # noqa: ANN001
    """Re-send requests whose Celery message was lost (e.g. after a Redis restart); workers also do this."""
    click.echo(f"{outbox_from_settings(load_settings()).sweep(grace)} request(s) re-sent")


def _document(report: OutboxStatus, health: dict) -> dict:
    return {"pending": report.pending, "retrying": report.retrying, "dead": report.dead,
            "counters": report.counters, "next_due": report.next_due, "redis": health,
            "newest_dead": [{"id": e.id, "reason": e.dead_reason, "dead_at": e.dead_at, "attempts": e.attempts,
                             "error": e.last_error, "problem": e.problem, "request": e.summary()}
                            for e in report.newest_dead]}
