"""Agent authentication, shared by the GenericInterface routes, the per-request login and the agent screens.

``passwords`` checks OTRS password hashes, ``lockout`` counts failed logins per account, ``service`` holds
``AgentAuth`` (logins, sessions, the agent an API key acts as) and ``compose`` builds it from the runtime.
Plain classes taking an engine, Redis and settings: no Flask here, and nothing from ``api`` or ``screens``.
"""
