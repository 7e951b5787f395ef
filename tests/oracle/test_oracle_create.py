"""Ticket create with its first article, for every channel, sender type and visibility, against Znuny."""

from __future__ import annotations

import pytest
from pending import pending
from scenarios import AGENT, FROM_CUSTOMER, article_op, new_article, new_ticket, ticket_op

from otrs_ext.tickets.inputs import history_for

CHANNELS = ("Internal", "Phone", "Email")
SENDERS = ("agent", "customer", "system")


@pending("search_index")
@pytest.mark.parametrize("visible", [False, True], ids=["internal", "visible"])
@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("channel", CHANNELS)
def test_create_with_article(oracle, channel: str, sender: str, visible: bool) -> None:
    history_type, comment = history_for(channel, sender)
    fields = {"channel": channel, "sender": sender, "visible": visible, "history_type": history_type,
              "history_comment": comment}
    if sender != "agent":
        fields["from_"] = FROM_CUSTOMER
        fields["to"] = "Raw"
    diff = oracle.scenario(
        [ticket_op(), article_op(**fields)],
        lambda core: core.service.create_ticket(AGENT, new_ticket(), new_article(**fields)),
        daemon=True)
    assert diff == []
