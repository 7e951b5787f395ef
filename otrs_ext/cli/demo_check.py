"""``otrs-ext demo --check``'s search through the agent screens, over HTTP as a browser does it.

Fetch the login form, post its CSRF token with the agent's login and password, keep the session cookie, then
open ``/agent/search?q=...`` and look for the expected ticket number on the page.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import requests

from ..errors import OtrsExtError

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ERROR = re.compile(r'id="login-error"[^>]*>([^<]*)<')
_HIT = re.compile(r'<a class="zoom" href="[^"]*">#(\d+) ')


class ScreenCheckFailed(OtrsExtError):
    code = "demo-check-failed"


def search_url(base_url: str, query: str) -> str:
    return f"{base_url}/agent/search?{urlencode({'q': query})}"


def screen_search(base_url: str, login: str, password: str, query: str, expect_tn: str,
                  timeout: float = 30.0) -> str:
    """Log in at ``/agent/login`` and search for ``query``; the page must show ticket ``expect_tn``.

    Returns what was found; raises ``ScreenCheckFailed`` saying which step failed."""
    with requests.Session() as browser:
        form = browser.get(f"{base_url}/agent/login", timeout=timeout)
        token = _CSRF.search(form.text)
        if form.status_code != 200 or token is None:
            raise ScreenCheckFailed(f"GET /agent/login answered {form.status_code} without a login form")
        answer = browser.post(f"{base_url}/agent/login", timeout=timeout, allow_redirects=False, data={
            "csrf_token": html.unescape(token.group(1)), "login": login, "password": password, "next": ""})
        if answer.status_code not in (302, 303):
            said = _ERROR.search(answer.text)
            raise ScreenCheckFailed(f"the agent screen refused the login of {login!r}: {answer.status_code} "
                                    f"{html.unescape(said.group(1)) if said else answer.text[:200]!r}")
        page = browser.get(search_url(base_url, query), timeout=timeout, allow_redirects=False)
        if page.status_code != 200:
            raise ScreenCheckFailed(f"GET /agent/search?q={query} answered {page.status_code} "
                                    f"(a redirect means the session cookie was not accepted)")
        found = _HIT.findall(page.text)
        if not found:
            raise ScreenCheckFailed(f"the agent search screen found no ticket for {query!r} as {login!r}: "
                                    "is the tailer running the search handler, and was the index filled?")
        if expect_tn not in found:
            raise ScreenCheckFailed(f"the agent search screen found {len(found)} ticket(s) for {query!r} as "
                                    f"{login!r}, but not ticket {expect_tn}")
    return f"logged in as {login!r}, searched {query!r}: {len(found)} ticket(s) on the page, {expect_tn} among them"
