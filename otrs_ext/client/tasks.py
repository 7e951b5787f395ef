"""The outbox's Celery app: the broker is the outbox Redis, the one task delivers an item (through the outbox
``compose.outbox_from_settings`` builds, handed in as ``build_outbox``).

Messages carry only an item id (the request and its files are in the outbox store), are acknowledged after
the task ran (``acks_late``: a worker killed mid-delivery does not lose one) and may be delivered twice, which
the outbox tolerates. The visibility timeout is kept above the longest backoff, because the Redis transport
hands a countdown message still waiting in a worker to another worker once it expires.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from ..settings import Settings
from .outbox import QUEUE, TASK, Outbox

log = logging.getLogger("otrs_ext.outbox")
SWEEP_EVERY = 60.0


def make_celery(settings: Settings, build_outbox: Callable[[Celery], Outbox]) -> Celery:
    app = Celery("otrs_ext.outbox", broker=settings.outbox_redis_url or settings.redis_url, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE, task_acks_late=True, task_reject_on_worker_lost=True, task_ignore_result=True,
        task_serializer="json", accept_content=["json"], worker_prefetch_multiplier=4,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": max(3600, int(settings.outbox_backoff_max_seconds * 2) + 60)},
    )
    holder: dict[str, Outbox] = {}
    lock = threading.Lock()

    def outbox() -> Outbox:
        with lock:  # built in the worker process on first use, after any fork
            if "outbox" not in holder:
                holder["outbox"] = build_outbox(app)
            return holder["outbox"]

    @app.task(name=TASK, ignore_result=True)
    def deliver(item_id: str) -> str:
        return outbox().deliver(item_id)

    stop = threading.Event()
    grace = max(900.0, settings.outbox_backoff_max_seconds * 2)

    def sweeper() -> None:
        while True:
            try:
                outbox().sweep(grace)
            except Exception:
                log.exception("outbox sweep failed", extra={"event": "outbox_sweep_failed"})
            if stop.wait(SWEEP_EVERY):
                return

    @worker_ready.connect(weak=False)
    def _start_sweeper(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is app:
            threading.Thread(target=sweeper, name="outbox-sweeper", daemon=True).start()

    @worker_shutdown.connect(weak=False)
    def _stop_sweeper(**_: Any) -> None:
        stop.set()

    return app
