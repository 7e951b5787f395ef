"""When to try again: exponential backoff with jitter, the server's Retry-After, and the deadline."""

from __future__ import annotations

import random


def delay(failures: int, base: float, ceiling: float, retry_after: float | None = None,
          rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after ``failures`` failed ones (>= 1).

    The delay doubles per failure up to ``ceiling`` and is drawn from its upper half ("equal jitter"), so many
    requests queued by the same outage do not hit the recovering API in one wave. A Retry-After from the
    server is a floor: it knows when it wants us back.
    """
    rng = rng or random
    step = min(ceiling, base * 2 ** min(max(failures, 1) - 1, 32))
    jittered = step * (0.5 + rng.random() / 2)
    return max(jittered, retry_after or 0.0)


def next_attempt(now: float, deadline: float, wait: float) -> float | None:
    """Time of the next attempt, the deadline at the latest (one last try there); None once it has passed."""
    if now >= deadline:
        return None
    return min(now + wait, deadline)
