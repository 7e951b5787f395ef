"""The screens' own per-app context: what their sections use, handed over by the app factory (no API module)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..auth.service import AgentAuth
from ..runtime import Runtime
from ..search.compose import build_search_service
from ..search.service import SearchService
from ..tags.compose import build_tag_service
from ..tags.service import TagService
from ..tickets.permissions import Permissions

KEY = "otrs_ext_screens"


@dataclass
class ScreensContext:
    runtime: Runtime
    permissions: Permissions
    sessions: AgentAuth  # the screens' sessions (own Redis prefix)
    passwords: AgentAuth  # the GI routes' checker: one failed-login budget however the agent logs in

    def search(self) -> SearchService:
        """The app's search service, built on first use and shared with ``/api/v1/search``."""
        found = current_app.extensions.get("otrs_ext_search")
        if found is None:
            found = current_app.extensions["otrs_ext_search"] = build_search_service(self.runtime, self.permissions)
        return found

    def tags(self) -> TagService:
        """The screens' tag service (the catalogue, tag filters as ids), built on first use."""
        found = current_app.extensions.get("otrs_ext_screens_tags")
        if found is None:
            found = current_app.extensions["otrs_ext_screens_tags"] = build_tag_service(self.runtime, self.permissions)
        return found


def screens_context() -> ScreensContext:
    return current_app.extensions[KEY]
