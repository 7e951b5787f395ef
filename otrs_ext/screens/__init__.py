"""Agent screens: server-rendered HTML pages beside the JSON API (login, full-text search).

``register(app)`` mounts them under ``/agent``; they authenticate agents with their OTRS password and keep
the session in Redis (see ``auth``), so they need no API key.
"""

from __future__ import annotations

from flask import Flask

from ..api.gi_auth import GiAuth

PREFIX = "/agent"


def register(app: Flask) -> None:
    """Mount the blueprint and give the app the screens' own session store.

    The sessions are kept apart from GenericInterface SessionIDs (another Redis prefix) so a GI session id
    handed to a script is never a browser cookie, and logging out of one does not end the other."""
    from .views import bp

    runtime = app.extensions["otrs_ext"].runtime
    settings = runtime.settings
    app.extensions["otrs_ext_screens"] = GiAuth(
        runtime.engine, runtime.schema, runtime.redis, max_seconds=settings.gi_session_max_seconds,
        idle_seconds=settings.gi_session_idle_seconds, prefix="otrs_ext:screens")
    app.register_blueprint(bp, url_prefix=PREFIX)
