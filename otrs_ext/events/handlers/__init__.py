"""Built-in event handlers, each registered by name in settings (``otrs_ext.events.plugins``).

Handlers are the event wing's adapters: each translates domain events into calls on the service it feeds
(``search_index`` -> ``otrs_ext.search``; tags, pool points, stats and notifications next), so they may import
those services, which in turn may build on ``otrs_ext.events`` (domain events, positions). The pipeline itself
imports no handler; it loads them by name.
"""
