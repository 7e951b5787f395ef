"""The agent screens in headless Chromium: login, search with highlighting and facets, links, hostile input,
logout; the tag filter and the tag chips. Served by werkzeug on a free local port; the browser talks to nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from screens_browser import chromium, missing, serve
from screens_support import OTRS_URL
from screens_tags import tag_world
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@pytest.fixture
def browser(screens, tmp_path) -> Iterator[tuple[WebDriver, str]]:
    with serve(screens.app) as base, chromium(tmp_path / "profile") as driver:
        yield driver, base


def _submit(driver: WebDriver, by: str, selector: str) -> None:
    """Click and wait until the next page replaced this one: a click only starts the navigation."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, selector).click()
    WebDriverWait(driver, 15).until(staleness_of(page))


def _log_in(driver: WebDriver, login: str, password: str) -> None:
    driver.find_element(By.ID, "login").clear()
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    _submit(driver, By.ID, "login-submit")


def _search(driver: WebDriver, words: str) -> None:
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(words)
    _submit(driver, By.ID, "search-submit")


def test_agent_logs_in_searches_and_logs_out(screens, browser, tmp_path) -> None:
    driver, base = browser
    driver.get(f"{base}/agent/search?q=reg.ru")
    assert driver.current_url.startswith(f"{base}/agent/login")  # not logged in yet

    _log_in(driver, screens.login, "not the password")
    assert driver.find_element(By.ID, "login-error").text == "Wrong login or password."
    _log_in(driver, screens.login, screens.password)
    assert driver.current_url == f"{base}/agent/search?q=reg.ru"  # back where the agent wanted to go

    # the hits, highlighted by the service, and facet counts
    assert driver.find_element(By.ID, "total").text == "2 tickets"
    marks = [m.text.lower() for m in driver.find_elements(By.CSS_SELECTOR, ".hit mark")]
    assert marks and all("reg" in m or "ru" in m for m in marks), marks
    # the counts arrive from /agent/search/counts after the page (search.js)
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "facets").get_attribute("data-loaded"))
    assert driver.find_element(By.ID, "facets").get_attribute("data-loaded") == "1"
    queues = {a.get_attribute("data-name"): a.find_element(By.XPATH, "../span").text
              for a in driver.find_elements(By.CSS_SELECTOR, "#facet-queue a")}
    states = {a.get_attribute("data-name"): a.find_element(By.XPATH, "../span").text
              for a in driver.find_elements(By.CSS_SELECTOR, "#facet-state a")}
    assert queues == {"Raw": "2"} and states == {"new": "1", "open": "1"}
    title = driver.find_element(By.CSS_SELECTOR, f'[data-ticket-id="{screens.tickets["dns"]}"] a.zoom').text
    assert title.endswith("DNS для reg.ru <b>bold</b>")  # markup in a title is shown as text

    # link targets: OTRS's ticket zoom and the JSON API
    for ticket_id in screens.tickets.values():
        hit = driver.find_element(By.CSS_SELECTOR, f'[data-ticket-id="{ticket_id}"]')
        zoom = hit.find_element(By.CSS_SELECTOR, "a.zoom").get_attribute("href")
        assert re.fullmatch(re.escape(f"{OTRS_URL}index.pl?Action=AgentTicketZoom;TicketID={ticket_id};ArticleID=")
                            + r"\d+", zoom), zoom
        assert hit.find_element(By.CSS_SELECTOR, "a.api").get_attribute("href") == f"{base}/api/v1/tickets/{ticket_id}"

    # a facet link narrows the search; the state filter is then selected in the form
    _submit(driver, By.CSS_SELECTOR, '#facet-state a[data-name="open"]')
    assert driver.find_element(By.ID, "total").text == "1 ticket"
    assert Select(driver.find_element(By.ID, "state")).first_selected_option.text == "open"
    assert [e.get_attribute("data-ticket-id") for e in driver.find_elements(By.CSS_SELECTOR, ".hit")] \
        == [str(screens.tickets["printer"])]
    driver.save_screenshot(str(tmp_path / "search.png"))

    # hostile input: shown as typed, never run
    Select(driver.find_element(By.ID, "state")).select_by_index(0)
    _search(driver, "<script>alert(1)</script>")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - reading it is the check
    assert driver.find_element(By.ID, "q").get_attribute("value") == "<script>alert(1)</script>"
    scripts = driver.find_elements(By.TAG_NAME, "script")
    assert not [s for s in scripts if "alert" in (s.get_attribute("innerHTML") or "")]
    assert "<script>alert(1)</script>" in driver.title
    _search(driver, '")')
    errors = driver.find_elements(By.CSS_SELECTOR, "p.error")
    assert errors and errors[0].text, "an unparsable query shows the reason"
    assert "Internal Server Error" not in driver.page_source

    _submit(driver, By.ID, "logout")
    assert driver.current_url == f"{base}/agent/login"
    driver.get(f"{base}/agent/search")
    assert driver.current_url.startswith(f"{base}/agent/login")


def test_agent_filters_search_by_a_tag_and_sees_the_chips(screens, browser, tmp_path) -> None:
    tag_world(screens)
    driver, base = browser
    driver.get(f"{base}/agent/search?q=reg.ru")
    _log_in(driver, screens.login, screens.password)
    assert driver.find_element(By.ID, "total").text == "2 tickets"

    # choose the tag in the filter and search: only the tagged ticket, with its chips painted in the tag's colour
    Select(driver.find_element(By.ID, "tag")).select_by_visible_text("VIP (manual)")
    _submit(driver, By.ID, "search-submit")
    assert driver.find_element(By.ID, "total").text == "1 ticket"
    assert Select(driver.find_element(By.ID, "tag")).first_selected_option.get_attribute("value") == "manual:vip"
    hit = driver.find_element(By.CSS_SELECTOR, ".hit")
    assert hit.get_attribute("data-ticket-id") == str(screens.tickets["dns"])
    chips = {c.get_attribute("data-ref"): c for c in hit.find_elements(By.CSS_SELECTOR, ".tags .tag")}
    assert {ref: chip.text for ref, chip in chips.items()} == {"manual:vip": "VIP", "source:email": "E-mail"}
    vip = chips["manual:vip"]
    WebDriverWait(driver, 10).until(lambda d: vip.get_attribute("data-painted") == "1")
    assert vip.value_of_css_property("background-color") in ("rgba(215, 58, 73, 1)", "rgb(215, 58, 73)")
    assert vip.value_of_css_property("color") in ("rgba(255, 255, 255, 1)", "rgb(255, 255, 255)")
    # the tag facet arrives with the counts, chips painted too
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "facets").get_attribute("data-loaded"))
    facet = {a.get_attribute("data-name"): a.find_element(By.XPATH, "../span[@class='count']").text
             for a in driver.find_elements(By.CSS_SELECTOR, "#facet-tag a")}
    assert facet == {"manual:vip": "1", "source:email": "1"}
    assert driver.find_element(By.CSS_SELECTOR, '#facet-tag .tag[data-ref="manual:vip"]').get_attribute(
        "data-painted") == "1"
    driver.save_screenshot(str(tmp_path / "tags.png"))

    # by kind instead: every ticket with a source tag
    Select(driver.find_element(By.ID, "tag")).deselect_all()
    Select(driver.find_element(By.ID, "tag_kind")).select_by_visible_text("source")
    _submit(driver, By.ID, "search-submit")
    assert driver.find_element(By.ID, "total").text == "2 tickets"
    assert len(driver.find_elements(By.CSS_SELECTOR, '.hit .tag[data-ref="source:email"]')) == 2
