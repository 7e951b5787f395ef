"""The pool and points screens through Flask's test client: login, CSRF on enter/leave, the current ticket with
its OTRS link, the event stream, strict CSP (no inline script or style), the points page."""

from __future__ import annotations

import re

from screens_support import OTRS_URL
from sqlalchemy import text


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def _pool_token(html: str) -> str:
    return _csrf(html[html.index('action="/agent/pool/enter"'):])


def _logged_in(screens):
    client = screens.app.test_client()
    token = _csrf(client.get("/agent/login").get_data(as_text=True))
    answer = client.post("/agent/login", data={"login": screens.login, "password": screens.password,
                                               "csrf_token": token})
    assert answer.status_code == 302
    return client


def _clear(screens) -> None:
    client, prefix = screens.runtime.redis, "otrs-ext:pool:"
    stale = list(client.scan_iter(prefix + "*"))
    if stale:
        client.delete(*stale)


def test_pool_page_enter_shows_the_ticket_and_leave_gives_it_back(screens) -> None:
    _clear(screens)
    with screens.engine.begin() as conn:  # only the "dns" ticket is in the pool (new, unlocked)
        conn.execute(text("UPDATE ticket SET ticket_state_id = (SELECT id FROM ticket_state WHERE name = "
                          "'closed successful') WHERE id <> :id"), {"id": screens.tickets["dns"]})
    anonymous = screens.app.test_client().get("/agent/pool")
    assert anonymous.status_code == 302 and anonymous.location.startswith("/agent/login")
    client = _logged_in(screens)
    page = client.get("/agent/pool")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Enter the pool" in html
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in html and "style=" not in html  # the script is a file, no inline code
    assert client.post("/agent/pool/enter", data={"csrf_token": "0" * 64}).status_code == 302
    assert "Leave the pool" not in client.get("/agent/pool").get_data(as_text=True).split("hidden")[0]

    try:
        entered = client.post("/agent/pool/enter", data={"csrf_token": _pool_token(html)})
        assert entered.status_code == 302
        html = client.get("/agent/pool").get_data(as_text=True)
        ticket_id = screens.tickets["dns"]
        assert "DNS для reg.ru &lt;b&gt;bold&lt;/b&gt;" in html and "jane@acme.test" in html
        assert f'href="{OTRS_URL}index.pl?Action=AgentTicketZoom;TicketID={ticket_id}"' in html

        stream = client.get("/agent/pool/events", buffered=False)
        assert stream.mimetype == "text/event-stream"
        first = next(iter(stream.response))
        first = first.decode() if isinstance(first, bytes) else first
        assert "event: status" in first and f'"id": {ticket_id}' in first
        stream.close()
    finally:
        client.post("/agent/pool/leave", data={"csrf_token": _pool_token(html)})
    with screens.engine.connect() as conn:
        lock = conn.execute(text("SELECT ticket_lock_id FROM ticket WHERE id = :id"),
                            {"id": screens.tickets["dns"]}).scalar_one()
    assert lock == 1  # unlocked again
    _clear(screens)


def test_points_page_shows_the_agents_ledger(screens) -> None:
    client = _logged_in(screens)
    page = client.get("/agent/points")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "No entries this month." in html and 'id="points-total">0' in html
    assert "Your departments" not in html  # not a head of support
    bad = client.get("/agent/points?month=2026-13")
    assert bad.status_code == 422 and "is not a month" in bad.get_data(as_text=True)
