"""Maps of the legacy OTRS / Znuny / OTOBO tables, one module per schema generation.

Every generation exposes the same names (``schema.tables.ticket``, ``schema.tables.groups``,
``schema.articles``...). Legacy spellings and version branches live only in this package.
"""

from __future__ import annotations

from sqlalchemy import Connection

from otrs_ext.errors import UnsupportedOtrsVersion

from . import otobo10, otobo11, otrs5, otrs6, znuny6, znuny7, znuny71
from ._traits import Traits
from .detect import detect_generation
from .schema import OtrsSchema, Tables, build_schema

GENERATIONS: dict[str, Traits] = {
    m.TRAITS.generation: m.TRAITS for m in (otrs5, otrs6, znuny6, znuny7, znuny71, otobo10, otobo11)
}


def load(generation: str) -> OtrsSchema:
    """The schema map of a named generation (``otrs5`` ... ``otobo11``)."""
    try:
        return build_schema(GENERATIONS[generation])
    except KeyError:
        raise UnsupportedOtrsVersion(
            f"unknown schema generation {generation!r}; use one of {', '.join(GENERATIONS)}"
        ) from None


def detect(conn: Connection) -> OtrsSchema:
    """The schema map matching the live database behind ``conn``."""
    return load(detect_generation(conn))


__all__ = ["GENERATIONS", "OtrsSchema", "Tables", "Traits", "detect", "detect_generation", "load"]
