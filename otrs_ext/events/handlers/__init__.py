"""Built-in event handlers, each a module of ``@hookimpl`` functions registered by name in settings."""
