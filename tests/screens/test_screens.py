"""The agent screens through Flask's test client: login with CSRF and rate limit, headers, escaping, errors."""

from __future__ import annotations

import re

from otrs_ext.api.app import create_app
from otrs_ext.auth.lockout import FAILURE_LIMIT


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def _login(client, login: str, password: str, token: str | None = None):
    if token is None:
        token = _csrf(client.get("/agent/login").get_data(as_text=True))
    return client.post("/agent/login", data={"login": login, "password": password, "csrf_token": token})


def test_search_needs_login_and_login_needs_csrf(screens) -> None:
    client = screens.app.test_client()
    answer = client.get("/agent/search?q=reg.ru")
    assert answer.status_code == 302 and answer.location.startswith("/agent/login?next=")
    assert client.post("/agent/login", data={"login": screens.login, "password": screens.password,
                                             "csrf_token": "0" * 64}).status_code == 400
    answer = _login(client, screens.login, screens.password)
    assert answer.status_code == 302 and answer.location == "/agent/search"
    cookie = answer.headers.getlist("Set-Cookie")
    session = next(c for c in cookie if c.startswith("otrs_ext_agent="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/agent" in session
    page = client.get("/agent/search?q=reg.ru")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


def test_next_never_leaves_the_screens(screens) -> None:
    for target, expected in (("/agent/search?q=dns", "/agent/search?q=dns"), ("https://evil.test/", "/agent/search"),
                             ("//evil.test/agent/", "/agent/search"), ("/api/v1/tickets", "/agent/search")):
        client = screens.app.test_client()  # logged out each time: a logged-in agent skips the form
        html = client.get("/agent/login", query_string={"next": target}).get_data(as_text=True)
        answer = client.post("/agent/login", data={"login": screens.login, "password": screens.password,
                                                   "csrf_token": _csrf(html), "next": target})
        assert answer.location == expected, target


def test_hits_facets_links_and_escaping(screens) -> None:
    client = screens.app.test_client()
    _login(client, screens.login, screens.password)
    html = client.get("/agent/search?q=reg.ru").get_data(as_text=True)
    assert '<p class="total" id="total">2 tickets</p>' in html
    assert "<mark>" in html  # the service's highlighting, not escaped again
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html  # a ticket title stays text
    dns = screens.tickets["dns"]
    assert f'href="/api/v1/tickets/{dns}"' in html
    assert re.search(rf'href="https://otrs.example/otrs/index.pl\?Action=AgentTicketZoom;TicketID={dns};ArticleID=\d+"',
                     html)
    # the counts by queue and state come from a second request the page's script makes (or inline on request)
    assert 'data-counts="/agent/search/counts?q=reg.ru&amp;sort=relevance"' in html and 'id="facet-queue"' not in html
    counts = client.get("/agent/search/counts?q=reg.ru&sort=relevance").get_data(as_text=True)
    assert 'href="/agent/search?q=reg.ru&amp;sort=relevance&amp;queue=Raw"' in counts
    inline = client.get("/agent/search?q=reg.ru&facets=1").get_data(as_text=True)
    assert 'href="/agent/search?q=reg.ru&amp;sort=relevance&amp;queue=Raw"' in inline and "data-counts" not in inline
    assert screens.app.test_client().get("/agent/search/counts?q=reg.ru").status_code == 401  # not logged in
    hostile = client.get("/agent/search", query_string={"q": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    broken = client.get("/agent/search", query_string={"q": '")'})
    assert broken.status_code == 422 and 'class="error"' in broken.get_data(as_text=True)
    assert client.get("/agent/search?q=reg.ru&cursor=zz").status_code == 422
    assert client.get("/agent/search?q=reg.ru&queue=Nope").status_code == 422


def test_paging_by_cursor(screens, monkeypatch) -> None:
    monkeypatch.setattr("otrs_ext.screens.search.views.PAGE_SIZE", 1)
    client = screens.app.test_client()
    _login(client, screens.login, screens.password)
    first = client.get("/agent/search?q=reg.ru&sort=recent").get_data(as_text=True)
    next_url = re.search(r'id="next-page" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    ids = [re.findall(r'data-ticket-id="(\d+)"', page) for page in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1]
    assert 'id="next-page"' not in second and 'id="first-page"' in second


def test_failed_logins_are_limited_and_logout_needs_csrf(screens) -> None:
    client = screens.app.test_client()
    for _ in range(FAILURE_LIMIT):
        assert _login(client, screens.login, "wrong").status_code == 401
    refused = _login(client, screens.login, screens.password)
    assert refused.status_code == 401 and "Too many failed logins" in refused.get_data(as_text=True)
    # the lock ends (here: at once, not after 5 minutes)
    assert screens.app.extensions["otrs_ext_gi"].reset_failures(screens.login)  # the password checks' counter
    assert _login(client, screens.login, screens.password).status_code == 302
    html = client.get("/agent/search").get_data(as_text=True)
    assert client.post("/agent/logout", data={"csrf_token": "f" * 64}).location == "/agent/search"
    assert client.get("/agent/search").status_code == 200  # still logged in
    assert client.post("/agent/logout", data={"csrf_token": _csrf(html)}).location == "/agent/login"
    assert client.get("/agent/search").status_code == 302


def test_behind_a_trusted_tls_proxy_cookies_are_secure_and_hsts_is_sent(screens) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "desk.example"}
    # without a trusted proxy the forwarded headers are anyone's word: ignored
    plain = screens.app.test_client()
    token = _csrf(plain.get("/agent/login", headers=forwarded).get_data(as_text=True))
    answer = plain.post("/agent/login", headers=forwarded,
                        data={"login": screens.login, "password": screens.password, "csrf_token": token})
    assert all("Secure" not in c for c in answer.headers.getlist("Set-Cookie"))
    assert "Strict-Transport-Security" not in answer.headers

    settings = screens.runtime.settings.with_changes(trusted_proxies=1)
    app = create_app(screens.runtime.__class__(**{**screens.runtime.__dict__, "settings": settings}))
    client = app.test_client()
    token = _csrf(client.get("/agent/login", headers=forwarded).get_data(as_text=True))
    answer = client.post("/agent/login", headers=forwarded,
                         data={"login": screens.login, "password": screens.password, "csrf_token": token})
    assert answer.status_code == 302
    session = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("otrs_ext_agent="))
    assert "Secure" in session and "HttpOnly" in session
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    app.extensions["otrs_ext"].core.close()
