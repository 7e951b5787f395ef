"""What the search template shows, prepared from a ``SearchResult``.

The service has already HTML-escaped the snippets and put ``<mark>`` around the matches, so those two fields,
and only they, become ``Markup``; every other value reaches the template as text and is escaped there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from ...search.service import FacetCount, Hit, SearchResult


@dataclass(frozen=True)
class HitView:
    ticket_id: int
    tn: str
    title: str
    queue: str
    state: str
    subject: str
    from_: str
    changed: datetime | None
    matched_articles: int
    snippet: Markup
    subject_snippet: Markup
    zoom_url: str
    api_url: str


@dataclass(frozen=True)
class FacetView:
    name: str
    count: int
    selected: bool
    url: str  # the same search narrowed to this value, or widened again when it is the selected one


@dataclass(frozen=True)
class Page:
    total: int
    hits: list[HitView]
    facets: dict[str, list[FacetView]]
    next_cursor: str | None


def hit_view(hit: Hit) -> HitView:
    return HitView(
        ticket_id=hit.ticket_id, tn=hit.tn, title=hit.title, queue=hit.queue, state=hit.state, subject=hit.subject,
        from_=hit.from_, changed=hit.ticket_changed, matched_articles=hit.matched_articles,
        snippet=Markup(hit.snippet), subject_snippet=Markup(hit.subject_snippet),  # escaped by the service
        zoom_url=hit.links["otrs"], api_url=hit.links["api"])


def facet_views(facets: dict[str, list[FacetCount]], selected: dict[str, str],
                link: Callable[[dict[str, str]], str]) -> dict[str, list[FacetView]]:
    """``link(filters)`` is the URL of the current search with ``filters`` (queue, state) instead."""
    views: dict[str, list[FacetView]] = {}
    for name, counts in facets.items():
        views[name] = []
        for f in counts:
            chosen = f.name == selected.get(name)
            views[name].append(FacetView(f.name, f.count, chosen, link({**selected, name: "" if chosen else f.name})))
    return views


def page(result: SearchResult, selected: dict[str, str], link: Callable[[dict[str, str]], str]) -> Page:
    """``link(filters)`` is the URL of the current search with ``filters`` (queue, state) instead."""
    return Page(total=result.total, hits=[hit_view(h) for h in result.hits],
                facets=facet_views(result.facets, selected, link), next_cursor=result.next_cursor)
