"""The intake policy of API-created tickets (no database: the rules refuse before any lookup)."""

from __future__ import annotations

import pytest

from otrs_ext.errors import ValidationError
from otrs_ext.tickets.intake import SYSTEM_USER_ID, IntakePolicy, article_kind


def _policy(queues: tuple[str, ...] = ("Raw",)) -> IntakePolicy:
    return IntakePolicy(None, None, queues=queues, own_schema=None)  # type: ignore[arg-type]


def test_intake_keys_create_as_the_system_in_the_intake_queues_only() -> None:
    creator = _policy().creator(agent_id=None, queue="Raw", owner=None)
    assert (creator.user_id, creator.owner_id, creator.as_system) == (SYSTEM_USER_ID, SYSTEM_USER_ID, True)
    with pytest.raises(ValidationError) as refused:
        _policy().creator(agent_id=None, queue="Junk", owner=None)
    assert refused.value.problems == [("queue", "intake keys may create tickets only in Raw")]
    assert _policy(queues=()).creator(agent_id=None, queue="Junk", owner=None).as_system  # empty: any queue


def test_intake_keys_cannot_choose_an_owner_but_agents_create_as_themselves() -> None:
    with pytest.raises(ValidationError) as refused:
        _policy().creator(agent_id=None, queue="Raw", owner="admin")
    assert refused.value.problems == [("owner", "intake keys cannot choose an owner")]
    creator = _policy().creator(agent_id=7, queue="Junk", owner=None)
    assert (creator.user_id, creator.owner_id, creator.as_system) == (7, 7, False)


def test_intake_articles_default_to_a_visible_customer_web_request() -> None:
    intake = article_kind(channel=None, sender_type=None, visible_for_customer=None, intake=True, first=True)
    assert (intake.channel, intake.sender_type, intake.visible_for_customer) == ("Internal", "customer", True)
    agent = article_kind(channel=None, sender_type=None, visible_for_customer=None, intake=False, first=False)
    assert (agent.sender_type, agent.visible_for_customer) == ("agent", False)
