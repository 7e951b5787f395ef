"""The pool screen in headless Chromium: two agents in the pool each get a different ticket; one replies (through
the ticket core, as the OTRS UI would, with the tailer and its ``pool`` handler running) and his screen shows the
next ticket without a reload, pushed through EventSource."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import pytest
from screens_browser import chromium, missing, serve
from screens_support import PASSWORD
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import text
from support.agents import add_agent_with
from support.tailing import Recorder, Tail, dispatcher

from otrs_ext.events.dispatch import Dispatcher
from otrs_ext.events.handlers.pool import PoolHandler
from otrs_ext.tickets.inputs import NewArticle, NewTicket

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@dataclass
class PoolTail(Tail):
    handler: PoolHandler | None = None

    def dispatcher(self) -> Dispatcher:
        return dispatcher(self.engine, self.schema, {"pool": self.handler, "recorder": self.recorder})


def _log_in_and_enter(driver: WebDriver, base: str, login: str) -> str:
    driver.get(base + "/agent/login?next=/agent/pool")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 15).until(staleness_of(page))
    if "/agent/pool" not in driver.current_url:
        driver.get(base + "/agent/pool")
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "#enter-form button").click()
    WebDriverWait(driver, 15).until(staleness_of(page))
    WebDriverWait(driver, 15).until(lambda d: d.find_element(By.ID, "ticket-number").text.strip())
    return driver.find_element(By.ID, "ticket-number").text.strip()


def test_two_agents_get_different_tickets_and_a_reply_pushes_the_next(screens, tmp_path) -> None:
    app, engine, schema = screens.app, screens.engine, screens.runtime.schema
    ctx = app.extensions["otrs_ext"]
    pool = ctx.pool
    stale = list(screens.runtime.redis.scan_iter(pool.config.redis_prefix + "*"))
    if stale:
        screens.runtime.redis.delete(*stale)
    second = f"pooler-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        add_agent_with(conn, schema, second, "rw", password=PASSWORD, first_name="Pool", last_name=second,
                       at="2026-01-01")
        conn.execute(text("UPDATE ticket SET ticket_state_id = (SELECT id FROM ticket_state WHERE name = "
                          "'closed successful') WHERE id = 1"))
    third = ctx.core.service.create_ticket(
        1, NewTicket(title="Third", queue="Raw", state="new", priority="3 normal", customer_id="ACME",
                     customer_user="bob@acme.test"),
        NewArticle(body="Help", subject="Third", channel="Email", sender_type="customer", visible_for_customer=True,
                   from_="bob@acme.test", history_type="EmailCustomer", history_comment="%%"), as_system=True)
    with engine.connect() as conn:
        numbers = dict(conn.execute(text("SELECT tn, id FROM ticket")).all())
        first_agent = conn.execute(text("SELECT id FROM users WHERE login = :l"), {"l": screens.login}).scalar_one()
    tail = PoolTail(engine, schema, Recorder())
    tail.handler = PoolHandler(pool)
    tail.start()
    try:
        deadline = time.monotonic() + 15
        while not (tail.tailer is not None and tail.tailer.metrics.state == "streaming"):
            assert tail.error is None, tail.error
            assert time.monotonic() < deadline, "the tailer did not start streaming"
            time.sleep(0.05)
        with serve(app) as base, chromium(tmp_path / "one") as one, chromium(tmp_path / "two") as two:
            tn_one = _log_in_and_enter(one, base, screens.login)
            tn_two = _log_in_and_enter(two, base, second)
            assert tn_one != tn_two and {tn_one, tn_two} <= set(numbers)
            page = one.find_element(By.TAG_NAME, "html")

            ctx.core.service.add_article(first_agent, numbers[tn_one], NewArticle(
                body="We are on it.", subject="Re: your ticket", channel="Email", sender_type="agent",
                visible_for_customer=True, to="bob@acme.test", history_type="SendAnswer",
                history_comment="%%bob@acme.test"))

            WebDriverWait(one, 20).until(
                lambda d: d.find_element(By.ID, "ticket-number").text.strip() not in ("", tn_one))
            tn_next = one.find_element(By.ID, "ticket-number").text.strip()
            assert tn_next not in (tn_one, tn_two) and numbers[tn_next] == third.ticket_id
            assert one.find_element(By.TAG_NAME, "html") == page  # no reload: the same document
            assert two.find_element(By.ID, "ticket-number").text.strip() == tn_two
            for driver in (one, two):
                driver.get(base + "/agent/pool")
                driver.find_element(By.CSS_SELECTOR, "#leave-form button").click()
    finally:
        tail.halt()
        stale = list(screens.runtime.redis.scan_iter(pool.config.redis_prefix + "*"))
        if stale:
            screens.runtime.redis.delete(*stale)
