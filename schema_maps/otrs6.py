"""OTRS 6 and Znuny 6.0: the article split, communication channels, ``ticket_number_counter``, ``groups``."""

from __future__ import annotations

from ._traits import Traits

TRAITS = Traits(
    generation="otrs6",
    product="OTRS",
    label="OTRS 6 / Znuny 6.0",
    group_table="groups",
    history_types_extra=("EmailResend",),
    customer_user_customer_user_id_len=100,  # widened to 200 in Znuny 6.5
)
