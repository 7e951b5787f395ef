"""``otrs-ext doctor``: print every check with its fix; exit 1 when one fails."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import click

from ..doctor.checks import Doctor

_MARKS = {"ok": ("ok  ", "green"), "warn": ("warn", "yellow"), "fail": ("FAIL", "red"), "skip": ("skip", "white")}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="print the checks as JSON")
@click.pass_obj
def command(load_settings, as_json: bool) -> None:  # noqa: ANN001 - the settings loader
    """Check the database, binlog, privileges, charsets, own tables, Redis and the search daemon."""
    checks = Doctor(load_settings()).run()
    if as_json:
        click.echo(json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=2))
    else:
        for check in checks:
            mark, colour = _MARKS[check.status]
            click.echo(f"[{click.style(mark, fg=colour)}] {check.name}: {check.detail}")
            if check.fix and check.status in ("fail", "warn"):
                click.echo(f"       fix: {check.fix}")
    sys.exit(1 if any(c.status == "fail" for c in checks) else 0)
