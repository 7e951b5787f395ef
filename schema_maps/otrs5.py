"""OTRS 5: one ``article`` table holding the MIME columns, ``article_type``, counter file, ``groups``."""

from __future__ import annotations

from ._traits import Traits

TRAITS = Traits(
    generation="otrs5",
    product="OTRS",
    label="OTRS 5",
    group_table="groups",
    article_split=False,
    password_len=64,
    create_time_unix=True,
    group_user_permission_value=True,
    sysconfig_tables=False,
    webservice_config_md5=True,
)
