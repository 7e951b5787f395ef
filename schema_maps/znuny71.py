"""Znuny 7.1 and 7.2: a surrogate ``id`` primary key on the 34 former key-less tables."""

from __future__ import annotations

from dataclasses import replace

from .znuny7 import TRAITS as ZNUNY7

TRAITS = replace(
    ZNUNY7,
    generation="znuny71",
    label="Znuny 7.1+",
    surrogate_ids=True,
    customer_user_customer_user_id_len=200,
    generic_agent_value_text=True,
)
