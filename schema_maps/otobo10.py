"""OTOBO 10.0 and 10.1: ``groups_table``, indexed varchars shortened to 191, ``article_data_otobo_chat``."""

from __future__ import annotations

from ._traits import Traits

TRAITS = Traits(
    generation="otobo10",
    product="OTOBO",
    label="OTOBO 10",
    group_table="groups_table",
    name_len=191,
    title_len=191,
    customer_user_id_len=191,
    history_types_extra=("EmailResend",),
    customer_user_customer_user_id_len=100,
    chat_table="article_data_otobo_chat",
    welcome_title="Welcome to OTOBO!",
    system_address="otobo@localhost",
    system_address_name="OTOBO System",
)
