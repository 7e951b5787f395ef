"""What distinguishes one OTRS schema generation from another, as data.

Every difference the rest of otrs-ext could trip over is one field here; the table builder in ``_tables`` reads
them, so each generation module stays a short list of facts checked against the genuine schema files.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Traits:
    generation: str  # otrs5, otrs6, znuny6, znuny7, znuny71, otobo10, otobo11
    product: str  # OTRS, Znuny, OTOBO
    label: str  # what `doctor` prints, e.g. "Znuny 7.1+"
    group_table: str  # groups (OTRS <= 6, Znuny 6.0), permission_groups (Znuny 6.1+), groups_table (OTOBO)
    article_split: bool = True  # OTRS 6 split article into article + article_data_mime*
    name_len: int = 200  # OTOBO shortened indexed varchars to 191 (utf8mb4 under a 767-byte key limit)
    title_len: int = 255
    customer_user_id_len: int = 250
    password_len: int = 128  # OTRS 5: 64
    colors: bool = False  # Znuny 7.0: ticket_state.color / ticket_priority.color NOT NULL without default
    surrogate_ids: bool = False  # Znuny 7.1: id BIGINT PK on the former key-less tables
    create_time_unix: bool = False  # OTRS 5: ticket.create_time_unix
    group_user_permission_value: bool = False  # OTRS 5: group_user.permission_value
    customer_user_customer_user_id_len: int = 200  # Znuny 7.0 preview: 100
    dynamic_field_value_positions: bool = False  # OTOBO 11: index_value / index_set, bigint id
    history_types_extra: tuple[str, ...] = ()  # seeded after the 51 common types
    sysconfig_tables: bool = True  # OTRS 6 moved SysConfig into sysconfig_default/_modified (OTRS 5: files only)
    generic_agent_value_text: bool = False  # generic_agent_jobs.job_value TEXT (Znuny 6.5, 7.1), else VARCHAR(200)
    webservice_config_md5: bool = False  # OTRS 5: gi_webservice_config.config_md5 NOT NULL
    chat_table: str = "article_data_otrs_chat"
    welcome_tn: str = "2015071510123456"
    welcome_title: str = "Welcome to OTRS!"
    system_address: str = "otrs@localhost"
    system_address_name: str = "OTRS System"

    @property
    def customer_companies(self) -> bool:
        """``customer_user_customer``: a customer user may see several companies' tickets (OTRS 6+)."""
        return self.article_split

    @property
    def article_search_index(self) -> bool:
        """``article_search_index``: OTRS 6's StaticDB full-text index table, written with every article."""
        return self.article_split
