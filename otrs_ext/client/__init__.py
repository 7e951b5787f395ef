"""The durable client of the JSON API, for the website: a request the API cannot take now is kept (attachments
included) in a Redis outbox and delivered by a Celery worker, exactly once thanks to its Idempotency-Key.

``OtrsExtClient`` (client.py) is what callers use, built from settings by ``compose.client_from_settings``;
``compose.celery_from_settings`` builds the worker's Celery app (``celery -A otrs_ext.client.worker worker``);
``otrs-ext outbox status`` shows what is waiting or dead.
"""

from __future__ import annotations

from .client import OtrsExtClient, Refused, Sent, Unavailable
from .envelope import Upload
from .outbox import Outbox

__all__ = ["OtrsExtClient", "Outbox", "Refused", "Sent", "Unavailable", "Upload"]
