"""Tags on the agent search screen through Flask's test client: chips on the hits, the tag filter and the tag
facet; colours left to the static script (the CSP allows no inline style)."""

from __future__ import annotations

import html as html_lib
import re

from screens_tags import VIP_COLOUR, tag_world
from test_screens import _login


def _hits(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="hit" data-ticket-id="(\d+)"', page)]


def test_chips_filter_and_facet(screens) -> None:
    tag_world(screens)
    client = screens.app.test_client()
    _login(client, screens.login, screens.password)
    dns, printer = screens.tickets["dns"], screens.tickets["printer"]
    answer = client.get("/agent/search?q=reg.ru")
    page = answer.get_data(as_text=True)
    assert sorted(_hits(page)) == sorted((dns, printer))
    assert f'<span class="tag tag-manual" data-ref="manual:vip" data-colour="{VIP_COLOUR}" title="manual:vip">VIP' \
           '</span>' in page
    assert page.count('class="tag tag-source" data-ref="source:email" title="source:email">E-mail</span>') == 2
    assert "style=" not in page and "style-src" not in answer.headers["Content-Security-Policy"]
    assert '<option value="manual:vip">VIP (manual)</option>' in page  # the filter's choices: the catalogue

    # filtered by a tag (the form's multi-select submits tag=...), or by a kind
    narrowed = client.get("/agent/search?q=reg.ru&tag=manual:vip").get_data(as_text=True)
    assert _hits(narrowed) == [dns] and '<option value="manual:vip" selected>VIP (manual)' in narrowed
    assert 'id="total">1 ticket<' in narrowed
    assert _hits(client.get("/agent/search?q=reg.ru&tag=manual:vip&tag=source:email").get_data(as_text=True)) == [dns]
    assert _hits(client.get("/agent/search?q=reg.ru&tag_kind=manual").get_data(as_text=True)) == [dns]
    assert sorted(_hits(client.get("/agent/search?q=reg.ru&tag_kind=source").get_data(as_text=True))) \
        == sorted((dns, printer))
    assert _hits(client.get("/agent/search?q=reg.ru&tag_kind=participant").get_data(as_text=True)) == []

    # the facet: counts per tag, each a link adding the tag to the filter (or dropping a selected one)
    counts = client.get("/agent/search/counts?q=reg.ru&sort=relevance").get_data(as_text=True)
    facet = counts[counts.index('id="facet-tag"'):]
    items = re.findall(r'<a href="([^"]+)" data-facet="tag" data-name="([^"]+)">.*?</a>\s*'
                       r'<span class="count">(\d+)</span>', facet, re.S)
    assert {name: int(n) for _, name, n in items} == {"manual:vip": 1, "source:email": 2}
    link = next(html_lib.unescape(url) for url, name, _ in items if name == "manual:vip")
    assert _hits(client.get(link).get_data(as_text=True)) == [dns]
    selected = client.get("/agent/search/counts?q=reg.ru&sort=relevance&tag=manual:vip").get_data(as_text=True)
    widen = re.search(r'<li class="selected">\s*<a href="([^"]+)" data-facet="tag" data-name="manual:vip"', selected)
    assert widen and "tag=" not in html_lib.unescape(widen.group(1))

    # unknown tags and kinds: the reason on the page, nothing searched
    unknown = client.get("/agent/search?q=reg.ru&tag=nope")
    assert unknown.status_code == 422 and "unknown tag manual:nope" in unknown.get_data(as_text=True)
    assert client.get("/agent/search?q=reg.ru&tag_kind=colour").status_code == 422
    assert client.get("/agent/search/counts?q=reg.ru&tag=nope").status_code == 422
