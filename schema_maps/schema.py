"""The version-neutral face of a schema generation: its tables under uniform names and its article layout."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import MetaData, Table

from ._articles import ArticleLayout, MimeArticleLayout, Otrs5ArticleLayout
from ._tables import build_tables
from ._traits import Traits


class Tables(Mapping[str, Table]):
    """Attribute and key access to mapped tables; a table a generation lacks fails with the reason."""

    def __init__(self, tables: dict[str, Table], label: str) -> None:
        self._tables = tables
        self._label = label

    def __getattr__(self, name: str) -> Table:
        try:
            return self._tables[name]
        except KeyError:
            raise AttributeError(f"{self._label} has no table {name!r}") from None

    def __getitem__(self, name: str) -> Table:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"{self._label} has no table {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


@dataclass(frozen=True)
class OtrsSchema:
    traits: Traits
    metadata: MetaData = field(repr=False)
    tables: Tables = field(repr=False)
    articles: ArticleLayout = field(repr=False)

    @property
    def generation(self) -> str:
        return self.traits.generation

    @property
    def label(self) -> str:
        return self.traits.label

    @property
    def has_ticket_counter_table(self) -> bool:
        """OTRS 5 keeps the ticket counter in a file under the OTRS home instead."""
        return "ticket_number_counter" in self.tables


@cache
def build_schema(traits: Traits) -> OtrsSchema:
    metadata, tables = build_tables(traits)
    wrapped = Tables(tables, traits.label)
    layout: ArticleLayout = MimeArticleLayout(wrapped) if traits.article_split else Otrs5ArticleLayout(wrapped)
    return OtrsSchema(traits=traits, metadata=metadata, tables=wrapped, articles=layout)
