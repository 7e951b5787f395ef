"""A claimed Idempotency-Key whose request died is taken over by a retry, but only where that cannot double."""

from __future__ import annotations

import time

import pytest

from otrs_ext.api.idempotency import Claim, IdempotencyStore, Stored
from otrs_ext.errors import Conflict


def test_a_stale_claim_is_taken_over_by_atomic_routes_and_the_first_holder_can_no_longer_complete(
        otrs_database) -> None:
    engine = otrs_database("znuny71", migrated=True)
    store = IdempotencyStore(engine, stale_seconds=1)
    first = store.claim(1, "k", "h", atomic=True)
    assert isinstance(first, Claim)
    with pytest.raises(Conflict):
        store.claim(1, "k", "h", atomic=True)  # fresh: the first may still be running
    time.sleep(2.1)
    with pytest.raises(Conflict):
        store.claim(1, "k", "h")  # a route that completes outside its transaction may have written: no take-over
    second = store.claim(1, "k", "h", atomic=True)
    assert isinstance(second, Claim) and second.token != first.token
    with pytest.raises(Conflict), engine.begin() as conn:
        store.complete_in(conn, first, 201, '{"id": 0}', None)  # the woken original rolls back
    store.release(first)  # and cannot release the new holder's claim either
    with engine.begin() as conn:
        store.complete_in(conn, second, 201, '{"id": 1}', "/api/v1/tickets/1")
    assert store.claim(1, "k", "h") == Stored(201, '{"id": 1}', "/api/v1/tickets/1")
