"""Agent screens: server-rendered HTML pages beside the JSON API, under ``/agent``.

They authenticate agents with their OTRS password and keep the session in Redis (``security``), so they need
no API key. The layout:

* ``security.py``: what every section shares: the security headers (CSP, framing, caching), the session
  cookie and the current agent, CSRF tokens, cookie flags; ``security.section(...)`` makes a section's
  blueprint with those headers applied;
* ``context.py``: the screens' own context (runtime, permissions, session store, search and tag services), handed
  over by the app factory; sections read it with ``screens_context()`` and import nothing from ``otrs_ext.api``;
* ``session.py``: the ``agent`` blueprint: login, logout, ``/agent/`` and the shared ``templates/`` and
  ``static/`` (served at ``/agent/static/``);
* one package per section (``search/``): its routes, helpers and ``templates/screens/``.

Adding a section (pool, points, stats, ticket workspace, team-lead admin, customer portal...): create
``screens/<name>/views.py`` with ``bp = section("agent_<name>", __name__, template_folder="templates")``, its
templates in ``screens/<name>/templates/screens/`` (extending ``screens/base.html``), and add its ``bp`` to
the list in ``sections()`` below. Pages check ``current_agent()`` first; forms that post carry a
``csrf_token(...)`` checked with ``csrf_ok`` (see ``session.py``).
"""

from __future__ import annotations

from flask import Blueprint, Flask

from ..auth.compose import build_agent_auth
from ..auth.service import AgentAuth
from ..runtime import Runtime
from ..tickets.permissions import Permissions
from .context import KEY, ScreensContext

PREFIX = "/agent"


def sections() -> list[Blueprint]:
    """Every section's blueprint, mounted under ``PREFIX`` in this order (imported here, when an app is built)."""
    from . import session
    from .pool import views as pool
    from .search import views as search

    return [session.bp, search.bp, pool.bp]


def register(app: Flask, *, runtime: Runtime, permissions: Permissions, passwords: AgentAuth) -> None:
    """Give the app the screens' context and mount every section.

    The sessions are kept apart from GenericInterface SessionIDs (another Redis prefix) so a GI session id
    handed to a script is never a browser cookie, and logging out of one does not end the other; failed
    logins count against the GI routes' budget (``passwords``)."""
    app.extensions[KEY] = ScreensContext(
        runtime=runtime, permissions=permissions, passwords=passwords,
        sessions=build_agent_auth(runtime, prefix="otrs_ext:screens"))
    for bp in sections():
        app.register_blueprint(bp, url_prefix=PREFIX)
