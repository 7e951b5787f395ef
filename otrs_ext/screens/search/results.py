"""What the search template shows, prepared from a ``SearchResult``.

The service has already HTML-escaped the snippets and put ``<mark>`` around the matches, so those two fields,
and only they, become ``Markup``; every other value reaches the template as text and is escaped there.

``Filters`` are the form's filters as the URLs carry them: ``queue``, ``state`` and ``tag_kind`` one value each
(empty: none), ``tag`` a list of tag refs that must all be on a ticket. A facet link narrows the search to its
value or, when that is selected already, widens it again; a tag's link adds or drops that tag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup

from ...search.service import FacetCount, Hit, SearchResult, TagFacetCount

Filters = dict[str, Any]


@dataclass(frozen=True)
class TagChip:
    """A tag as shown on a hit or in the facet: ``colour`` (#rrggbb or None) is applied by search.js, the CSP
    allowing no inline style; the kind's class gives a tag without a colour its look."""

    ref: str
    kind: str
    label: str
    colour: str | None


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
    tags: list[TagChip] = field(default_factory=list)


@dataclass(frozen=True)
class FacetView:
    name: str
    count: int
    selected: bool
    url: str  # the same search narrowed to this value, or widened again when it is the selected one
    chip: TagChip | None = None  # the tag facet's values


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
        zoom_url=hit.links["otrs"], api_url=hit.links["api"],
        tags=[TagChip(t.ref, t.kind, t.label, t.colour) for t in hit.tags])


def facet_views(facets: dict[str, list[FacetCount] | list[TagFacetCount]], selected: Filters,
                link: Callable[[Filters], str]) -> dict[str, list[FacetView]]:
    """``link(filters)`` is the URL of the current search with ``filters`` instead."""
    views: dict[str, list[FacetView]] = {}
    for name, counts in facets.items():
        views[name] = []
        for f in counts:
            if isinstance(f, TagFacetCount):
                tags = list(selected.get("tag", []))
                chosen = f.name in tags
                wanted = [t for t in tags if t != f.name] if chosen else [*tags, f.name]
                chip = TagChip(f.name, f.name.partition(":")[0], f.label, f.colour)
                views[name].append(FacetView(f.name, f.count, chosen, link({**selected, "tag": wanted}), chip))
            else:
                chosen = f.name == selected.get(name)
                views[name].append(FacetView(f.name, f.count, chosen,
                                             link({**selected, name: "" if chosen else f.name})))
    return views


def page(result: SearchResult, selected: Filters, link: Callable[[Filters], str]) -> Page:
    """``link(filters)`` is the URL of the current search with ``filters`` instead."""
    return Page(total=result.total, hits=[hit_view(h) for h in result.hits],
                facets=facet_views(result.facets, selected, link), next_cursor=result.next_cursor)
