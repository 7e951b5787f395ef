"""Settings and runtimes for tests: one OTRS database plus the session's Redis and searchd, with an OTRS home
and a state directory in the test's own directory, and the Flask app on such a runtime."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine

from otrs_ext.api.app import create_app
from otrs_ext.runtime import Runtime, build_runtime
from otrs_ext.settings import Settings


def settings_for(engine: Engine, redis_url: str, search_url: str, directory: Path, **overrides: Any) -> Settings:
    """Validated settings for ``engine``'s database, Redis and searchd; ``directory/otrs`` is the OTRS home (with
    the ``var/tmp`` OTRS's file cache lives in) and ``directory/state`` the state dir. ``overrides`` win."""
    (directory / "otrs" / "var" / "tmp").mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {"db_url": engine.url.render_as_string(hide_password=False), "redis_url": redis_url,
                              "search_url": search_url, "otrs_home": directory / "otrs",
                              "state_dir": directory / "state"}
    return Settings(**{**values, **overrides}).validate()


def runtime_for(engine: Engine, redis_url: str, search_url: str, directory: Path, **overrides: Any) -> Runtime:
    """``build_runtime`` on ``settings_for``'s settings; the caller closes it."""
    return build_runtime(settings_for(engine, redis_url, search_url, directory, **overrides))


@contextmanager
def app_on(runtime: Runtime, *, testing: bool = False) -> Iterator[Flask]:
    """The Flask app on ``runtime``; afterwards its ticket core and the runtime are closed. ``testing`` lets an
    exception in a view reach the test instead of becoming a 500."""
    app = create_app(runtime)
    app.testing = testing
    try:
        yield app
    finally:
        app.extensions["otrs_ext"].core.close()
        runtime.close()
