"""What the test trees share, importable as ``support.<module>`` (``tests/`` is on ``sys.path``: pytest puts the
directory of the root ``conftest.py`` there).

- ``paths``: where the shared reference material lives (``../shared``) and the genuine schema files per version.
- ``waiting``: ``wait_for``, polling a condition with a clear failure on timeout.
- ``databases``: a fresh OTRS database of one generation on a test MariaDB, and an OTRS home directory.
- ``agents``: agent rows with an optional OTRS password, ``group_user`` grants, the audit columns.
- ``runtimes``: settings for a database plus Redis and searchd, the runtime on them, the Flask app on it.
- ``processes``: otrs-ext's commands as child processes in their own process group; ``otrs-ext serve``.
- ``tailing``: the in-process tailer harness (dispatcher, recording handler, a tailer in a thread).
- ``sysconfig_rows``: SysConfig rows as an OTRS 6+ installer leaves them, from Znuny's own defaults.
"""
