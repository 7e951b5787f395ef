"""What a ticket is worth to an agent: the points formula of ``OTRS_EXT_POOL_POINTS``, parsed and evaluated.

A formula is a sum of terms separated by ``;``, each a name with ``key=number`` parameters separated by ``,``::

    position:base=10,step=1,min=1;age:per_hour=0.5,max=20

* ``position`` — by the ticket's place in the agent's eligible list (1 = the one the agent should take first):
  ``max(min, base - step * (position - 1))``. Defaults base=10, step=1, min=1.
* ``age`` — a bonus for how long the ticket has existed: ``min(max, per_hour * hours since creation)``.
  Defaults per_hour=0.5, max=20 (``max=0``: no cap).

A term left out counts nothing (``position`` alone: no age bonus). Parameters left out take the defaults above.
The result is rounded to hundredths, as the ledger stores it. The grammar is deliberately tiny (no expressions,
nothing evaluated): every value is a non-negative decimal number, and a wrong formula is refused at start with
the term and key it is about.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# term -> parameter -> default
TERMS: dict[str, dict[str, Decimal]] = {
    "position": {"base": Decimal(10), "step": Decimal(1), "min": Decimal(1)},
    "age": {"per_hour": Decimal("0.5"), "max": Decimal(20)},
}
DEFAULT = "position:base=10,step=1,min=1;age:per_hour=0.5,max=20"


@dataclass(frozen=True)
class PointsFormula:
    """A parsed ``OTRS_EXT_POOL_POINTS``; ``str()`` gives it back in canonical form."""

    terms: tuple[tuple[str, tuple[tuple[str, Decimal], ...]], ...]

    def param(self, term: str, key: str) -> Decimal | None:
        for name, params in self.terms:
            if name == term:
                return dict(params)[key]
        return None

    def points(self, position: int, age_seconds: float) -> Decimal:
        """The points of the ticket at ``position`` (1-based) that has existed for ``age_seconds``."""
        total = Decimal(0)
        base = self.param("position", "base")
        if base is not None:
            step, floor = self.param("position", "step"), self.param("position", "min")
            assert step is not None and floor is not None
            total += max(floor, base - step * (max(position, 1) - 1))
        per_hour = self.param("age", "per_hour")
        if per_hour is not None:
            cap = self.param("age", "max")
            bonus = per_hour * Decimal(max(age_seconds, 0.0) / 3600).quantize(Decimal("0.0001"))
            total += min(cap, bonus) if cap else bonus
        return total.quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def position_horizon(self) -> int:
        """The position from which the position term no longer changes (its minimum is reached): a position
        past it is worth the same, so lists need not be read further to price a ticket."""
        base = self.param("position", "base")
        if base is None:
            return 1
        step, floor = self.param("position", "step"), self.param("position", "min")
        assert step is not None and floor is not None
        if step <= 0 or base <= floor:
            return 1
        return int(math.ceil((base - floor) / step)) + 1

    def __str__(self) -> str:
        return ";".join(f"{name}:" + ",".join(f"{k}={_plain(v)}" for k, v in params)
                        for name, params in self.terms)


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def parse(text: str) -> PointsFormula:
    """The formula ``text`` (see the module docstring); ``ValueError`` naming the term and key otherwise."""
    terms: list[tuple[str, tuple[tuple[str, Decimal], ...]]] = []
    seen: set[str] = set()
    parts = [p.strip() for p in text.split(";")]
    if not any(parts):
        raise ValueError(f"empty formula; e.g. {DEFAULT}")
    for index, part in enumerate(parts, 1):
        if not part:
            continue
        name, _, rest = part.partition(":")
        name = name.strip()
        if name not in TERMS:
            raise ValueError(f"term {index} {name!r}: unknown term; use {' or '.join(TERMS)} (e.g. {DEFAULT})")
        if name in seen:
            raise ValueError(f"term {name!r} appears twice; give each term once")
        seen.add(name)
        values = dict(TERMS[name])
        for pair in filter(None, (p.strip() for p in rest.split(","))):
            key, sep, raw = pair.partition("=")
            key = key.strip()
            if not sep:
                raise ValueError(f"term {name!r}: {pair!r} is not key=number")
            if key not in values:
                raise ValueError(f"term {name!r}: unknown parameter {key!r}; known: {', '.join(TERMS[name])}")
            try:
                number = Decimal(raw.strip())
            except InvalidOperation:
                raise ValueError(f"term {name!r}: {key}={raw.strip()!r} is not a number") from None
            if not number.is_finite() or number < 0:
                raise ValueError(f"term {name!r}: {key}={raw.strip()} must be a number of 0 or more")
            if number > 1_000_000:
                raise ValueError(f"term {name!r}: {key}={raw.strip()} is too large (at most 1000000)")
            values[key] = number
        if name == "position" and values["min"] > values["base"]:
            raise ValueError(f"term 'position': min={_plain(values['min'])} is above base={_plain(values['base'])}")
        terms.append((name, tuple(values.items())))
    return PointsFormula(tuple(terms))


DEFAULT_FORMULA = parse(DEFAULT)
