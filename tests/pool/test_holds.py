"""The hold rules on their own: who holds a ticket after each lock, owner and reply fact, and what that does."""

from __future__ import annotations

from decimal import Decimal

from otrs_ext.pool.holds import Confirmed, Ended, HoldState, Started, change, reply

A, B, HEAD = 7, 8, 9


def test_the_otrs_lock_screen_locks_then_sets_the_owner_one_credit_for_the_locker() -> None:
    state = HoldState.initial(False, B)  # B owned it once, it is unlocked now
    assert change(state, by=A, locked=True) == []  # Lock by A while B is still the owner: wait for the owner
    assert state.awaiting_owner and state.holder_id is None
    assert change(state, by=A, owner_id=A) == [Started(A, A)]
    assert state.holder_id == A and not state.awaiting_owner


def test_one_change_of_lock_and_owner_together_starts_the_hold() -> None:
    state = HoldState.initial(False, 1)
    assert change(state, by=HEAD, locked=True, owner_id=A) == [Started(A, HEAD)]


def test_unlock_without_a_reply_ends_the_hold_unreplied() -> None:
    state = HoldState.initial(False, 1)
    change(state, by=A, locked=True, owner_id=A)
    state.credit_id, state.credit_points = 11, Decimal(10)
    assert change(state, by=A, locked=False) == [Ended(A, A, "unlock", False, 11, Decimal(10))]
    assert state.holder_id is None and state.credit_id is None


def test_a_reply_confirms_once_and_a_later_unlock_owes_nothing() -> None:
    state = HoldState.initial(False, 1)
    change(state, by=A, locked=True, owner_id=A)
    state.credit_id, state.credit_points = 11, Decimal(10)
    assert reply(state, agent_id=B) == []  # a colleague's answer confirms nothing of A's
    assert reply(state, agent_id=A) == [Confirmed(A, 11, Decimal(10))]
    assert reply(state, agent_id=A) == []
    assert change(state, by=A, locked=False) == [Ended(A, A, "unlock", True, 11, Decimal(10))]


def test_system_unlock_and_owner_change_away() -> None:
    state = HoldState.initial(True, A)  # first seen locked by A: his hold, no credit known
    assert state.holder_id == A
    assert change(state, by=HEAD, owner_id=B) == [Ended(A, HEAD, "owner-change", False, None, None),
                                                  Started(B, HEAD)]
    assert change(state, by=1, locked=False) == [Ended(B, 1, "system-unlock", False, None, None)]


def test_the_system_user_never_holds() -> None:
    state = HoldState.initial(False, 1)
    assert change(state, by=1, locked=True) == []
    assert state.holder_id is None and not state.awaiting_owner
