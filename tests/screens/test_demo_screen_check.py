"""The demo's ``--check`` search through the agent screens, against the screens served over real HTTP: it passes
only when the login works and the page shows the expected ticket, and says which step failed otherwise."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from otrs_ext.cli.demo_check import ScreenCheckFailed, screen_search


@pytest.fixture
def served(screens) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, screens.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def _tn(screens, name: str) -> str:
    with screens.engine.connect() as conn:
        return conn.execute(text("SELECT tn FROM ticket WHERE id = :id"), {"id": screens.tickets[name]}).scalar_one()


def test_finds_the_expected_ticket(screens, served):
    tn = _tn(screens, "printer")
    found = screen_search(served, screens.login, screens.password, "printer", tn)
    assert f"1 ticket(s) on the page, {tn} among them" in found


def test_fails_when_the_ticket_is_not_on_the_page(screens, served):
    with pytest.raises(ScreenCheckFailed, match="found no ticket for 'flamingo'"):
        screen_search(served, screens.login, screens.password, "flamingo", _tn(screens, "printer"))
    with pytest.raises(ScreenCheckFailed, match=f"but not ticket {_tn(screens, 'dns')}"):
        screen_search(served, screens.login, screens.password, "printer", _tn(screens, "dns"))


def test_fails_on_a_refused_login(screens, served):
    with pytest.raises(ScreenCheckFailed, match=r"refused the login of .*: 401"):
        screen_search(served, screens.login, "wrong password", "printer", _tn(screens, "printer"))
