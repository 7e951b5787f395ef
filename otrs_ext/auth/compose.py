"""Builds ``AgentAuth`` from a ``Runtime``: the GI routes and the agent screens each hold one, under their own
Redis prefix (a GI SessionID handed to a script is never a browser cookie, and logging out of one does not
end the other)."""

from __future__ import annotations

from ..runtime import Runtime
from .service import AgentAuth


def build_agent_auth(runtime: Runtime, *, prefix: str) -> AgentAuth:
    settings = runtime.settings
    return AgentAuth(runtime.engine, runtime.schema, runtime.redis, max_seconds=settings.gi_session_max_seconds,
                     idle_seconds=settings.gi_session_idle_seconds, prefix=prefix)
