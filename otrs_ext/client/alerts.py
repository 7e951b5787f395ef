"""Who hears of a dead-lettered request: pluggable hooks named in ``OTRS_EXT_OUTBOX_ALERTS``.

``log`` writes one CRITICAL line (enough when the logs feed an alerting system); ``package.module:function``
imports a callable; any other name is looked up in the ``otrs_ext.outbox_alerts`` entry point group, so a
separate package can ship e.g. a Telegram or PagerDuty hook. A hook gets the dead envelope; a failing hook is
logged and never undoes the dead-lettering.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points

from ..errors import ConfigurationError
from .envelope import Envelope

log = logging.getLogger("otrs_ext.outbox")
Alert = Callable[[Envelope], None]
ENTRY_POINT_GROUP = "otrs_ext.outbox_alerts"


def log_alert(envelope: Envelope) -> None:
    log.critical("outbox request %s is dead (%s) after %d attempts: %s; last error: %s", envelope.id,
                 envelope.dead_reason, envelope.attempts, envelope.summary(), envelope.last_error,
                 extra={"event": "outbox_dead", "outbox_id": envelope.id, "reason": envelope.dead_reason,
                        "problem": envelope.problem})


def load_alerts(spec: str) -> list[Alert]:
    hooks: list[Alert] = []
    for name in (n.strip() for n in spec.split(",")):
        if not name:
            continue
        if name == "log":
            hooks.append(log_alert)
        elif ":" in name:
            module, _, attr = name.partition(":")
            try:
                hooks.append(getattr(importlib.import_module(module), attr))
            except (ImportError, AttributeError) as error:
                raise ConfigurationError(f"OTRS_EXT_OUTBOX_ALERTS: cannot load {name!r}: {error}") from None
        else:
            found = entry_points(group=ENTRY_POINT_GROUP, name=name)
            if not found:
                raise ConfigurationError(f"OTRS_EXT_OUTBOX_ALERTS: no alert hook {name!r}; use log, module:function "
                                         f"or a name in the {ENTRY_POINT_GROUP} entry point group")
            hooks.append(next(iter(found)).load())
    return hooks


def fire(hooks: list[Alert], envelope: Envelope) -> None:
    for hook in hooks:
        try:
            hook(envelope)
        except Exception:
            log.exception("outbox alert hook %r failed", hook, extra={"event": "outbox_alert_failed"})
