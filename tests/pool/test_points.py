"""The points formula of OTRS_EXT_POOL_POINTS: its grammar, its refusals, and what it computes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from otrs_ext.errors import ConfigurationError
from otrs_ext.pool.points import DEFAULT, DEFAULT_FORMULA, parse
from otrs_ext.settings import Settings


def test_default_is_position_based_with_an_age_bonus() -> None:
    f = DEFAULT_FORMULA
    assert str(f) == DEFAULT
    assert f.points(1, 0) == Decimal("10.00")  # the first in line, brand new
    assert f.points(4, 0) == Decimal("7.00")
    assert f.points(10, 0) == f.points(500, 0) == Decimal("1.00")  # floor of the position term
    assert f.points(1, 3 * 3600) == Decimal("11.50")  # + 0.5 per hour
    assert f.points(1, 1000 * 3600) == Decimal("30.00")  # the age bonus is capped at 20
    assert f.position_horizon == 10


def test_terms_and_parameters_may_be_left_out() -> None:
    age_only = parse("age:per_hour=2")
    assert age_only.points(1, 0) == Decimal("0.00") and age_only.points(99, 1800) == Decimal("1.00")
    assert age_only.position_horizon == 1
    uncapped = parse("position:base=5,step=0.5 ; age:max=0")
    assert str(uncapped) == "position:base=5,step=0.5,min=1;age:per_hour=0.5,max=0"
    assert uncapped.points(3, 10_000 * 3600) == Decimal("5004.00")
    assert uncapped.position_horizon == 9


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty formula"),
    ("speed:x=1", "unknown term; use position or age"),
    ("position:base=10;position:step=2", "appears twice"),
    ("position:bsae=10", "unknown parameter 'bsae'; known: base, step, min"),
    ("position:base", "is not key=number"),
    ("age:per_hour=__import__('os')", "is not a number"),
    ("age:per_hour=-1", "must be a number of 0 or more"),
    ("age:max=inf", "must be a number of 0 or more"),
    ("position:base=2,min=5", "min=5 is above base=2"),
])
def test_bad_formulas_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_the_setting_is_parsed_and_refused_at_load() -> None:
    settings = Settings.load({"OTRS_EXT_POOL_POINTS": "position:base=20,step=2", "OTRS_EXT_POOL_PENALTY_FACTOR": "4"})
    assert settings.pool_points.points(2, 0) == Decimal("18.00") and settings.pool_penalty_factor == 4
    assert Settings.load(settings.environ()).pool_points == settings.pool_points  # a child process reads it back
    with pytest.raises(ConfigurationError) as refused:
        Settings.load({"OTRS_EXT_POOL_POINTS": "position:base=ten", "OTRS_EXT_POOL_PENALTY_FACTOR": "-1",
                       "OTRS_EXT_POOL_QUEUE_ORDERS": "Raw=fastest", "OTRS_EXT_POOL_HEARTBEAT_SECONDS": "500"})
    message = str(refused.value)
    assert "OTRS_EXT_POOL_POINTS = 'position:base=ten': term 'position': base='ten' is not a number" in message
    assert "OTRS_EXT_POOL_PENALTY_FACTOR" in message and "'Raw=fastest' is not Queue=order" in message
    assert "OTRS_EXT_POOL_SESSION_SECONDS" in message
