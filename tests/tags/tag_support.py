"""What the tag tests share: the test rules, a tailer running the ``tags`` handler (with the ``search`` handler
when a test gives searchd), and the link table read as ``kind:name`` refs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from support.tailing import Tail, dispatcher
from support.waiting import wait_for

from otrs_ext.db.own_tables import own_table
from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.events.dispatch import Dispatcher
from otrs_ext.events.handlers.search_index import SearchHandler
from otrs_ext.events.handlers.tags import TagsHandler
from otrs_ext.tags.rules import TagRules, default_rules_path, load_rules, parse_rules

RULES = Path(__file__).with_name("rules.toml")  # the shipped source rules and the notification table's rules


def rules_for_tests(notifications: str | None = None) -> TagRules:
    """The shipped source and participant rules followed by ``notifications`` (default: ``rules.toml``'s)."""
    shipped = default_rules_path().read_text(encoding="utf-8")
    head = shipped[:shipped.index("# --- notification")]
    text = notifications if notifications is not None else RULES.read_text(encoding="utf-8")
    return parse_rules(head + text, str(RULES))


class TagTail(Tail):
    """A Tail whose dispatcher runs ``tags`` (then ``search`` when ``search`` is set) and the recorder."""

    rules: TagRules | None = None
    search: SphinxQL | None = None
    redis: object | None = None

    def start(self, **config: object) -> TagTail:
        """Start, and return once the tailer streams (its first start's snapshot is done): what a test writes
        next reaches the handlers as live events."""
        super().start(**config)
        wait_for(lambda: self.error is not None or self.tailer.metrics.state == "streaming", 30,
                 "the tailer to stream", interval=0.02)
        if self.error is not None:
            raise self.error
        return self

    def dispatcher(self) -> Dispatcher:
        # tags before search: a searchd outage then meets the tags handler's own index update first
        handlers: dict[str, object] = {"tags": TagsHandler(self.rules or load_rules())}
        if self.search is not None:
            handlers["search"] = SearchHandler()
        handlers["recorder"] = self.recorder
        return dispatcher(self.engine, self.schema, handlers, search=self.search, redis=self.redis)


def links(engine: Engine, ticket_id: int) -> list[str]:
    link, tag = own_table("ticket_tag"), own_table("tag")
    with engine.connect() as conn:
        rows = conn.execute(select(tag.c.kind, tag.c.name).join(link, link.c.tag_id == tag.c.id)
                            .where(link.c.ticket_id == ticket_id).order_by(tag.c.kind, tag.c.name))
        return [f"{kind}:{name}" for kind, name in rows]


def wait_links(engine: Engine, ticket_id: int, expected: list[str], timeout: float = 30.0) -> float:
    """Wait until the ticket's links are ``expected``; the seconds it took."""
    want = sorted(expected)
    try:
        return wait_for(lambda: links(engine, ticket_id) == want, timeout, f"ticket {ticket_id} tagged {want}",
                        interval=0.02)
    except AssertionError as error:
        raise AssertionError(f"{error}; it has {links(engine, ticket_id)}") from None
