"""OTOBO 11: article edit/delete (article_version*), multi-value positions in ``dynamic_field_value``."""

from __future__ import annotations

from dataclasses import replace

from .otobo10 import TRAITS as OTOBO10

TRAITS = replace(
    OTOBO10,
    generation="otobo11",
    label="OTOBO 11",
    dynamic_field_value_positions=True,
    history_types_extra=("EmailResend", "ArticleDynamicFieldUpdate", "ArticleEdit", "ArticleRestore",
                         "ArticleDelete"),
)
