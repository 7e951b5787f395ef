"""The private servers start, are configured as the recipes say, serve real requests and stop by PID."""

from __future__ import annotations

import socket
from pathlib import Path

import pymysql
import pytest
import redis

from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.errors import MissingBinary, ServiceStartError
from otrs_ext.localservices import MariaDBServer, RedisServer, SphinxServer, base, require_binary
from otrs_ext.localservices.base import free_port, pid_alive
from otrs_ext.localservices.mariadb import LocalSqlError
from otrs_ext.search.indexdef import INDEX_NAME

BINLOG_VARS = "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata"


def tcp_query(server: MariaDBServer, sql: str, database: str | None = None) -> tuple[tuple[object, ...], ...]:
    """Run SQL over TCP as the otrs user, the way the application connects."""
    connection = pymysql.connect(
        host="127.0.0.1", port=server.port, user="otrs", password="otrs", database=database, charset="utf8mb4"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return tuple(cursor.fetchall())
    finally:
        connection.close()


# --- MariaDB -----------------------------------------------------------------------------------------
def test_mariadb_has_full_row_binlog_and_tcp_user(mariadb_server: MariaDBServer) -> None:
    assert tcp_query(mariadb_server, BINLOG_VARS) == ((1, "ROW", "FULL", "FULL"),)
    assert tcp_query(mariadb_server, "SELECT @@character_set_server, @@collation_server") == (
        ("utf8mb4", "utf8mb4_unicode_ci"),
    )
    grants = str(tcp_query(mariadb_server, "SHOW GRANTS")[0][0])
    assert "ALL PRIVILEGES ON *.*" in grants and "WITH GRANT OPTION" in grants
    assert mariadb_server.url() == (
        f"mysql+pymysql://otrs:otrs@127.0.0.1:{mariadb_server.port}/otrs?charset=utf8mb4"
    )
    assert mariadb_server.is_running() and pid_alive(mariadb_server.pid or -1)


def test_mariadb_database_helpers_and_source_file(mariadb_server: MariaDBServer, tmp_path: Path) -> None:
    dump = tmp_path / "dump.sql"
    dump.write_text(
        "CREATE TABLE queue (id INT PRIMARY KEY, name VARCHAR(200) NOT NULL);\n"
        "INSERT INTO queue VALUES (1, 'Поддержка'), (2, 'Raw');\n",
        encoding="utf-8",
    )
    mariadb_server.create_database("helpers_db")
    try:
        mariadb_server.source_file(dump, "helpers_db")
        rows = tcp_query(mariadb_server, "SELECT name FROM queue ORDER BY id", database="helpers_db")
        assert rows == (("Поддержка",), ("Raw",))
        collation = mariadb_server.execute(
            "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='helpers_db'"
        )
        assert collation.strip() == "utf8mb4_unicode_ci"
        broken = tmp_path / "broken.sql"
        broken.write_text("SELECT * FROM no_such_table;\n", encoding="utf-8")
        with pytest.raises(LocalSqlError, match="no_such_table"):
            mariadb_server.source_file(broken, "helpers_db")
    finally:
        mariadb_server.drop_database("helpers_db")
    assert "helpers_db" not in mariadb_server.execute("SHOW DATABASES").split()


def test_mariadb_without_binlog_reports_log_bin_off_and_stops(tmp_path: Path) -> None:
    server = MariaDBServer(tmp_path, binlog=False)
    with server:
        pid = server.pid
        assert pid is not None and pid_alive(pid)
        assert tcp_query(server, "SELECT @@log_bin")[0][0] == 0
    assert not server.is_running()
    assert not pid_alive(pid)


def test_mariadb_statement_binlog_for_misconfiguration_checks(tmp_path: Path) -> None:
    with MariaDBServer(tmp_path, binlog_format="STATEMENT") as server:
        log_bin, binlog_format, _, _ = tcp_query(server, BINLOG_VARS)[0]
    assert (log_bin, binlog_format) == (1, "STATEMENT")


# --- Redis -------------------------------------------------------------------------------------------
def test_redis_set_get_roundtrip(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.set("otrs-ext:test", "привет")
        assert client.get("otrs-ext:test") == "привет".encode()
    finally:
        client.close()
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"


def test_auto_port_retries_when_the_free_port_was_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        real_free_port = base.free_port
        offered = iter([taken])
        monkeypatch.setattr(base, "free_port", lambda: next(offered, None) or real_free_port())
        with RedisServer(tmp_path / "auto") as server:
            assert server.port != taken
            assert redis.Redis.from_url(server.url).ping()
        # an explicitly requested port is not swapped behind the caller's back
        with pytest.raises(ServiceStartError, match="Address already in use"):
            RedisServer(tmp_path / "fixed", port=taken).start()


# --- searchd -----------------------------------------------------------------------------------------
def sphinx_ids(server: SphinxServer, query: str) -> list[int]:
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {INDEX_NAME} WHERE MATCH(%s) ORDER BY id ASC", (query,))
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def test_sphinx_finds_cyrillic_and_domain_text(tmp_path: Path) -> None:
    with SphinxServer(tmp_path) as server:  # its own index: the session's is shared with the search tests
        _cyrillic_and_domains(server)


def _cyrillic_and_domains(sphinx_server: SphinxServer) -> None:
    connection = sphinx_server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {INDEX_NAME}"
                " (id, subject, body, a_from, ticket_id, article_id, queue_id, tag_ids)"
                " VALUES (101, %s, %s, %s, 55, 101, 4, (3, 7))",
                ("Ёлка на сайте", "Напишите на support@reg.ru, серверы стоят", "client@example.com"),
            )
    finally:
        connection.close()
    assert sphinx_ids(sphinx_server, '"reg ru"') == [101]
    assert sphinx_ids(sphinx_server, "ёлка") == [101]
    assert sphinx_ids(sphinx_server, "елка") == [101]
    assert sphinx_ids(sphinx_server, "сервер") == [101]  # stem_enru
    assert sphinx_ids(sphinx_server, "support@reg.ru") == [101]
    assert sphinx_ids(sphinx_server, '"reg com"') == []


def test_sphinx_stop_saves_ram_chunk_and_leaves_no_process(tmp_path: Path) -> None:
    server = SphinxServer(tmp_path)
    server.start()
    first_pid = server.pid
    connection = server.connect()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {INDEX_NAME} (id, body) VALUES (1, 'persisted text')")
    connection.close()
    server.stop()
    assert first_pid is not None and not pid_alive(first_pid)
    assert server.pid is None and not server.is_running()
    with server:  # same directory: the RT index must come back from disk
        assert sphinx_ids(server, "persisted") == [1]
        second_pid = server.pid
    assert second_pid is not None and not pid_alive(second_pid)


# --- binaries ----------------------------------------------------------------------------------------
def test_require_binary_names_the_debian_package() -> None:
    with pytest.raises(MissingBinary, match="apt-get install -y some-package") as info:
        require_binary("no-such-binary-xyz", "some-package")
    assert info.value.binary == "no-such-binary-xyz"
    assert info.value.debian_package == "some-package"
    assert require_binary("searchd", "sphinxsearch").endswith("/searchd")


def test_sphinxql_reuses_connections_and_survives_a_searchd_restart(tmp_path: Path) -> None:
    server = SphinxServer(tmp_path, port=free_port())  # the same port after the restart
    server.start()
    try:
        client = SphinxQL(server.url)
        client.query("SELECT 1 FROM articles LIMIT 1")
        with client.connection() as first:
            pass
        with client.connection() as again:
            assert again is first  # reused, not reopened
        server.stop()
        server.start()
        assert client.query("SELECT COUNT(*) FROM articles") == [(0,)]  # the dead one was dropped, not used
    finally:
        client.close()
        server.stop()
