"""MariaDB going away under the API is the service's outage, not a crash: 503 problem+json with Retry-After,
and the same routes answer again once it is back."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import create_engine
from support.waiting import wait_for

from otrs_ext.api.app import create_app
from otrs_ext.api.keys import ApiKeys
from otrs_ext.db import migrate
from otrs_ext.localservices import MariaDBServer, free_port
from otrs_ext.runtime import build_runtime
from otrs_ext.settings import Settings
from schema_maps.install import install


def _while_down(client, headers):
    answer = client.get("/api/v1/tickets/1", headers=headers)
    return answer if answer.status_code != 200 else None


def test_a_database_outage_is_a_503_and_the_api_recovers(redis_server, tmp_path: Path) -> None:
    server = MariaDBServer(tmp_path / "mariadb", port=free_port())
    server.start()
    try:
        server.create_database("otrs")
        engine = create_engine(server.url("otrs"))
        with engine.begin() as conn:
            install(conn, "znuny71")
        migrate.upgrade(engine)
        (tmp_path / "otrs" / "var" / "tmp").mkdir(parents=True)
        settings = Settings(db_url=server.url("otrs"), redis_url=redis_server.url, otrs_home=tmp_path / "otrs",
                            state_dir=tmp_path / "state").validate()
        runtime = build_runtime(settings)
        key = ApiKeys(engine).create("agent", name="root", agent_id=1)
        client = create_app(runtime).test_client()
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/api/v1/tickets/1", headers=headers).status_code == 200

        restart = threading.Thread(target=server.restart, kwargs={"down_for": 3.0})
        restart.start()
        answers: list = []
        wait_for(lambda: answers.append(_while_down(client, headers)) or answers[-1], 15,
                 "a request while MariaDB is down")
        down = answers[-1]
        assert down.status_code == 503 and down.headers["Retry-After"] == "5"
        assert down.mimetype == "application/problem+json"
        assert down.get_json()["detail"] == "the database is not reachable; retry shortly"

        restart.join(60)
        assert client.get("/api/v1/tickets/1", headers=headers).status_code == 200
        runtime.close()
    finally:
        server.stop()
        engine.dispose()
