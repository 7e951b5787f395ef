"""The search section of the agent screens: full-text search over the tickets the agent may read.

``views`` holds the routes, ``results`` turns a ``SearchResult`` into what the templates show, ``options`` the
filter choices; its templates are in ``templates/screens/`` (the page extends the shared ``base.html``).
"""
