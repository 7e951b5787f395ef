"""The Celery entry point: ``celery -A otrs_ext.client.worker worker -P threads -c 8``.

Settings come from the ``OTRS_EXT_*`` environment (the worker needs ``OTRS_EXT_CLIENT_API_KEY``, the key the
website's client uses, and ``OTRS_EXT_OUTBOX_REDIS_URL``); the app is built at import because that is how
Celery finds it.
"""

from __future__ import annotations

from ..settings import Settings
from .compose import celery_from_settings

app = celery_from_settings(Settings.load())
