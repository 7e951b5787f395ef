"""The handler plugin manager: handlers are chosen by name in settings and registered at start.

Built-in handlers are listed in ``BUILTIN_HANDLERS``; third-party packages add theirs through the
``otrs_ext.handlers`` entry point group. A handler is named by its module (``pkg.module``: its ``@hookimpl``
functions) or by an object in a module (``pkg.module:Name``); a class is instantiated once per plugin manager,
so a handler that keeps state (the ``search`` handler's indexer) keeps it on its instance, not in a module
global. An unknown name fails at start, never at the first event.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from importlib.metadata import entry_points

import pluggy

from ..errors import ConfigurationError
from . import hookspecs

# handler name -> module (or module:class) implementing hooks of otrs_ext.events.hookspecs
BUILTIN_HANDLERS: dict[str, str] = {
    "event_log": "otrs_ext.events.handlers.event_log",
    "search": "otrs_ext.events.handlers.search_index:SearchHandler",
    "tags": "otrs_ext.events.handlers.tags:TagsHandler",
    "pool": "otrs_ext.events.handlers.pool:PoolHandler",
}


def available_handlers() -> dict[str, str]:
    found = dict(BUILTIN_HANDLERS)
    for ep in entry_points(group="otrs_ext.handlers"):
        found.setdefault(ep.name, ep.value)
    return found


def make_plugin_manager(handler_names: Sequence[str]) -> pluggy.PluginManager:
    """A plugin manager with the hook specs and the named handlers registered and validated."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    known = available_handlers()
    unknown = [n for n in handler_names if n not in known]
    if unknown:
        raise ConfigurationError(
            f"OTRS_EXT_HANDLERS names unknown handlers {', '.join(unknown)}; "
            f"available: {', '.join(sorted(known)) or 'none'}"
        )
    for name in handler_names:
        manager.register(load_handler(known[name]), name=name)
    # A hook implementation with a misspelled name would otherwise be silently never called.
    manager.check_pending()
    return manager


def load_handler(reference: str) -> object:
    """The plugin ``reference`` names: a module, or ``module:attribute`` (a class is instantiated)."""
    module_name, _, attribute = reference.partition(":")
    plugin: object = importlib.import_module(module_name)
    if attribute:
        plugin = getattr(plugin, attribute)
        if isinstance(plugin, type):
            plugin = plugin()
    return plugin
