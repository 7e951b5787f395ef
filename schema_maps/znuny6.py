"""Znuny 6.1 to 6.5: ``groups`` renamed ``permission_groups`` (a reserved word in MySQL 8)."""

from __future__ import annotations

from ._traits import Traits

TRAITS = Traits(
    generation="znuny6",
    product="Znuny",
    label="Znuny 6.1-6.5",
    group_table="permission_groups",
    history_types_extra=("EmailResend", "Bulk"),
    welcome_tn="2021012710123456",
    welcome_title="Znuny says hi!",
    system_address="znuny@localhost",
    system_address_name="Znuny System",
    generic_agent_value_text=True,
)
