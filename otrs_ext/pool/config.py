"""The pool's settings as its services take them (``compose.py`` builds this from ``Settings``; tests directly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .points import DEFAULT_FORMULA, PointsFormula

# how a queue's tickets are ordered in the pool (OTRS_EXT_POOL_ORDER, OTRS_EXT_POOL_QUEUE_ORDERS)
ORDERS = ("create_time", "escalation_time", "priority")


@dataclass(frozen=True)
class PoolConfig:
    formula: PointsFormula = DEFAULT_FORMULA
    penalty_factor: Decimal = Decimal(3)
    queues: tuple[str, ...] = ()  # pool queues by name; empty = every queue
    excluded_queues: tuple[str, ...] = ()
    permission: str = "rw"
    order: str = "create_time"
    queue_orders: dict[str, str] = field(default_factory=dict)  # queue name -> order
    state_types: tuple[str, ...] = ("new", "open")
    department_groups: tuple[str, ...] = ()  # empty = the groups owning pool queues
    heads_group: str = "admin"
    session_seconds: int = 120
    heartbeat_seconds: int = 20
    redis_prefix: str = "otrs-ext:pool:"

    def order_of(self, queue_name: str) -> str:
        return self.queue_orders.get(queue_name, self.order)


def queue_orders(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("Queue=order", ...)`` (validated by ``Settings``) as a dict."""
    found: dict[str, str] = {}
    for pair in pairs:
        queue, _, order = pair.rpartition("=")
        found[queue.strip()] = order.strip()
    return found
