"""Who holds a ticket, moved on by lock, owner and reply facts: the rules of the points ledger, without storage.

An agent *holds* a ticket while it is locked and he is its owner. A hold starts with a credit of the ticket's
points (pending), is confirmed by the holder's first reply to the customer (an agent article visible to the
customer, written by him), and ends when the ticket is unlocked or its owner changes; ending without that reply
costs the penalty. The same rules run on live events (the ``pool`` handler, state kept in
``otrs_ext_points_hold``) and on ``ticket_history`` (``reconcile``), so both tell the same story.

OTRS's lock screen writes the lock and then, in a second statement, the owner (``Lock`` by the agent, then
``OwnerUpdate`` to him): a lock by someone who is not the owner waits for that owner change
(``awaiting_owner``) rather than crediting the previous owner for a moment. The system user (1, whose unlocks are
OTRS's unlock timeout and the forced unlock after a move) never holds a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

SYSTEM_USER = 1


@dataclass
class HoldState:
    """What is known of one ticket's lock and owner, and the hold on it."""

    locked: bool
    owner_id: int
    awaiting_owner: bool = False
    holder_id: int | None = None
    credit_id: int | None = None
    credit_points: Decimal | None = None
    replied: bool = False
    since: datetime | None = None

    @classmethod
    def initial(cls, locked: bool, owner_id: int) -> HoldState:
        """A ticket first seen locked by its owner counts as held by him from then on (no credit: the lock
        happened before the ledger saw it)."""
        state = cls(locked=locked, owner_id=owner_id)
        if locked and owner_id != SYSTEM_USER:
            state.holder_id = owner_id
        return state


@dataclass(frozen=True)
class Started:
    agent_id: int
    by: int


@dataclass(frozen=True)
class Ended:
    agent_id: int
    by: int
    rule: str  # unlock, system-unlock, owner-change
    replied: bool
    credit_id: int | None
    credit_points: Decimal | None


@dataclass(frozen=True)
class Confirmed:
    agent_id: int
    credit_id: int | None
    credit_points: Decimal | None


Effect = Started | Ended | Confirmed


def change(state: HoldState, *, by: int, locked: bool | None = None, owner_id: int | None = None) -> list[Effect]:
    """Apply a change of the ticket's lock and/or owner made by user ``by``; returns what it did to the hold."""
    previous = state.holder_id
    just_locked = locked is True and not state.locked
    if owner_id is not None:
        state.owner_id = owner_id
    if locked is not None:
        state.locked = locked
    if not state.locked:
        holder, state.awaiting_owner = None, False
    elif just_locked and owner_id is None and state.owner_id != by and by != SYSTEM_USER:
        holder, state.awaiting_owner = None, True  # OTRS sets the owner to the locker in its next statement
    elif state.awaiting_owner and owner_id is None:
        holder = None
    else:
        state.awaiting_owner = False
        holder = state.owner_id if state.owner_id != SYSTEM_USER else None
    if holder == previous:
        return []
    effects: list[Effect] = []
    if previous is not None:
        rule = "owner-change" if state.locked else ("system-unlock" if by == SYSTEM_USER else "unlock")
        effects.append(Ended(previous, by, rule, state.replied, state.credit_id, state.credit_points))
    state.holder_id, state.credit_id, state.credit_points, state.replied, state.since = holder, None, None, False, None
    if holder is not None:
        effects.append(Started(holder, by))
    return effects


def reply(state: HoldState, *, agent_id: int) -> list[Effect]:
    """The agent ``agent_id`` wrote an article visible to the customer: the first one while he holds the ticket
    confirms his credit."""
    if state.holder_id != agent_id or state.replied:
        return []
    state.replied = True
    return [Confirmed(agent_id, state.credit_id, state.credit_points)]
