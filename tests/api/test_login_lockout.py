"""A locked login stays locked however the name is respelled, on every way in (GI SessionCreate, GI
per-request login, the agent screens), and parallel guesses are counted before they are checked.

MariaDB finds ``users.login`` with an accent- and case-insensitive, PAD SPACE collation, so each spelling
below logs in as agent1 when the password is right; the counter must follow the account, not the spelling.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from gi_support import PASSWORD, WS

from otrs_ext.auth.lockout import FAILURE_LIMIT
from otrs_ext.auth.service import AgentAuth, AuthFail

SPELLINGS = ["agent1", "AGENT1", "agent1 ", "agent1   ", "ágent1", "AGÉNT1 ", "a\u0301gent1"]


def _lock(gi) -> None:
    for _ in range(FAILURE_LIMIT):
        answer = gi.client.post(f"{WS}/Session", json={"UserLogin": "agent1", "Password": "guess"}).get_json()
        assert answer["Error"]["ErrorCode"] == "SessionCreate.AuthFail"


def _session_create(gi, login: str) -> dict:
    return gi.client.post(f"{WS}/Session", json={"UserLogin": login, "Password": PASSWORD}).get_json()


def _ticket_get(gi, login: str) -> dict:
    return gi.client.get(f"{WS}/Ticket/1", query_string={"UserLogin": login, "Password": PASSWORD}).get_json()


def _screen_login(gi, login: str) -> tuple[int, str]:
    client = gi.app.test_client()
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"',
                      client.get("/agent/login").get_data(as_text=True)).group(1)
    answer = client.post("/agent/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    return answer.status_code, answer.get_data(as_text=True)


@pytest.mark.parametrize("login", SPELLINGS)
def test_each_spelling_logs_in_before_the_lock(gi, login) -> None:
    assert "SessionID" in _session_create(gi, login)


@pytest.mark.parametrize("login", SPELLINGS)
def test_a_locked_login_stays_locked_on_every_path_however_spelled(gi, login) -> None:
    _lock(gi)
    created = _session_create(gi, login)
    assert "too many failed logins" in created["Error"]["ErrorMessage"], created
    fetched = _ticket_get(gi, login)
    assert "too many failed logins" in fetched["Error"]["ErrorMessage"], fetched
    status, page = _screen_login(gi, login)
    assert status == 401 and "Too many failed logins" in page


def test_guesses_under_a_respelled_unknown_name_share_one_counter(gi) -> None:
    auth: AgentAuth = gi.app.extensions["otrs_ext_gi"]
    for spelling in ["nobody-here", "NOBODY-HERE", "nobody-here ", "nóbody-here"] * 3:
        try:
            auth.password(spelling, "guess")
        except AuthFail as refused:
            last = refused.message
    assert "too many failed logins" in last


def test_parallel_wrong_passwords_get_at_most_the_limit_of_checks(gi, monkeypatch) -> None:
    auth: AgentAuth = gi.app.extensions["otrs_ext_gi"]
    checked: list[str] = []
    real_verify = __import__("otrs_ext.auth.passwords", fromlist=["verify"]).verify

    def counting_verify(password: str, stored: str) -> bool:
        checked.append(password)
        return real_verify(password, stored)

    monkeypatch.setattr("otrs_ext.auth.passwords.verify", counting_verify)

    def attempt(i: int) -> str:
        try:
            auth.password("agent1" if i % 2 else "Agent1 ", f"wrong-{i}")
        except AuthFail as refused:
            return refused.message
        return "logged in"

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(attempt, range(60)))
    assert len(checked) == FAILURE_LIMIT
    assert answers.count("wrong login or password") == FAILURE_LIMIT
    assert answers.count("too many failed logins; wait a few minutes") == 60 - FAILURE_LIMIT


def test_a_right_password_does_not_use_up_attempts(gi) -> None:
    for _ in range(FAILURE_LIMIT * 2):
        assert "SessionID" in _session_create(gi, "agent1")
    for _ in range(FAILURE_LIMIT - 1):
        gi.client.post(f"{WS}/Session", json={"UserLogin": "agent1", "Password": "guess"})
    assert "SessionID" in _session_create(gi, "agent1")  # the twenty good logins counted nothing
