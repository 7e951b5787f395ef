"""The SQLAlchemy engine of the OTRS database."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url


def make_engine(db_url: str, *, pool_size: int = 5) -> Engine:
    """An engine for ``db_url`` that survives MariaDB restarts and always speaks utf8mb4.

    ``pool_pre_ping`` replaces connections a restarted server has dropped; ``pool_recycle`` stays under the
    default ``wait_timeout`` of 8 h. utf8mb4 is forced because a ``utf8`` (3-byte) connection would mangle
    the Russian text and emoji that reach the API.
    """
    url = make_url(db_url)
    if url.get_backend_name() in ("mysql", "mariadb") and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return create_engine(url, pool_pre_ping=True, pool_recycle=3600, pool_size=pool_size, max_overflow=10)
