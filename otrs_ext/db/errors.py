"""Telling a lost database connection from a wrong statement, for every process that must ride out a restart
(the tailer's handlers, the API's 503)."""

from __future__ import annotations

import pymysql
from sqlalchemy.exc import DBAPIError

# client and server error codes of a connection that broke or is going away (CR_CONNECTION_ERROR,
# CR_CONN_HOST_ERROR, CR_SERVER_GONE_ERROR, CR_SERVER_LOST, CR_SERVER_LOST_EXTENDED, ER_SERVER_SHUTDOWN,
# ER_CONNECTION_KILLED)
CONNECTION_LOST_CODES = frozenset({2002, 2003, 2006, 2013, 2055, 1053, 1927})


def database_gone(error: BaseException) -> bool:
    """True when ``error`` says the database connection was lost, not that the statement was wrong."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig
    if isinstance(error, pymysql.err.InterfaceError):  # a statement on a connection pymysql already closed
        return True
    if isinstance(error, pymysql.err.OperationalError):
        return bool(error.args) and error.args[0] in CONNECTION_LOST_CODES
    return isinstance(error, ConnectionError)
