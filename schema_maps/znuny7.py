"""Znuny 7.0: colour columns on states and priorities (NOT NULL without a default)."""

from __future__ import annotations

from dataclasses import replace

from .znuny6 import TRAITS as ZNUNY6

# The 7.0 pre-release still had customer_user_customer.user_id VARCHAR(100); 7.0.x releases widened it to
# 200. Declaring the narrower length keeps writes valid on both.
TRAITS = replace(
    ZNUNY6,
    generation="znuny7",
    label="Znuny 7.0",
    colors=True,
    customer_user_customer_user_id_len=100,
    generic_agent_value_text=False,  # the 7.0 pre-release still had VARCHAR(200); 6.5 and 7.1 have TEXT
)
