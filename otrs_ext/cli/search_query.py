"""``otrs-ext search query``: the search an agent (or a customer user) would get, as JSON."""

from __future__ import annotations

import json

import click

from ..runtime import build_runtime
from ..search.compose import build_search_service
from ..search.service import SearchFilter
from ..tickets import names


@click.command("query")
@click.argument("text")
@click.option("--queue", "queues", multiple=True, help="only this queue (repeatable)")
@click.option("--state", "states", multiple=True, help="only this state (repeatable)")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "recent"]), default="relevance", show_default=True)
@click.option("--articles", is_flag=True, help="one hit per article instead of per ticket")
@click.option("--cursor", help="next_cursor of the previous page")
@click.option("--as", "login", required=True, metavar="LOGIN", help="search as this agent")
@click.option("--customer", is_flag=True, help="LOGIN is a customer user: search as the customer portal does")
@click.pass_obj
def query(load_settings, text: str, queues: tuple[str, ...], states: tuple[str, ...], limit: int,  # noqa: ANN001
          sort: str, articles: bool, cursor: str | None, login: str, customer: bool) -> None:
    """Search for TEXT (the agents' query language) and print the hits, facets and total as JSON."""
    from ..api.search import answer  # the same body as GET /api/v1/search

    runtime = build_runtime(load_settings())
    try:
        viewer = ({"customer_login": login} if customer
                  else {"user_id": names.agent_id(runtime.engine, runtime.schema, login)})
        result = build_search_service(runtime).search(
            text, SearchFilter(queues=queues, states=states), **viewer, limit=limit, sort=sort,
            group="article" if articles else "ticket", cursor=cursor)
        click.echo(json.dumps({**answer(result), "match": result.query}, ensure_ascii=False, indent=2))
    finally:
        runtime.close()
