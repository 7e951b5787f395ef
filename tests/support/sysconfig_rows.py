"""SysConfig rows for test databases, as an OTRS 6+ installation has them after its installer ran.

A database loaded from the genuine schema files (or installed by ``schema_maps.install``) has empty
``sysconfig_*`` tables: OTRS fills ``sysconfig_default`` from its XML definitions on installation. ``seed``
does the same for the settings a test names, reading the defaults from the Znuny 7.0 tree of the oracle
(``../shared/oracle/znuny-7.0/Kernel/Config/Files/XML``), so the values are Znuny's own, never retyped here.
``modify`` adds what an admin's change in the SysConfig UI leaves in ``sysconfig_modified``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from functools import cache
from typing import Any

import yaml
from sqlalchemy import Connection, select, text

from support.paths import SHARED

XML_DIR = SHARED / "oracle" / "znuny-7.0" / "Kernel" / "Config" / "Files" / "XML"
SEARCH_INDEX_SETTINGS = ("Ticket::SearchIndexModule", "Ticket::SearchIndex::Attribute", "Ticket::SearchIndex::Filters",
                         "Ticket::SearchIndex::ForceUnfilteredStorage",
                         "Ticket::Article::Backend::MIMEBase::IndexAttachmentNames")
SEARCH_INDEX_PREFIXES = ("Ticket::SearchIndex::StopWords###",)


def _value(node: ET.Element) -> Any:
    """A ``<Value>`` (or nested ``<Item>``) of an OTRS setting definition as data."""
    for child in node:
        if child.tag == "Array":
            return [_value(item) for item in child.findall("Item")]
        if child.tag == "Hash":
            return {item.get("Key"): _value(item) for item in child.findall("Item")}
        if child.tag == "Item" and node.tag == "Value":
            return _value(child)
    return node.text or ""


@cache
def znuny_defaults() -> dict[str, tuple[int, Any]]:
    """``name -> (is_valid, value)`` of every setting Znuny 7.0 defines."""
    settings: dict[str, tuple[int, Any]] = {}
    for path in sorted(XML_DIR.glob("*.xml")):
        for setting in ET.parse(path).getroot().iter("Setting"):
            value = setting.find("Value")
            if value is not None:
                settings[setting.get("Name", "")] = (int(setting.get("Valid", "1")), _value(value))
    return settings


def _yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True, explicit_start=True).encode()


def seed(conn: Connection, names: Iterable[str] = SEARCH_INDEX_SETTINGS,
         prefixes: Iterable[str] = SEARCH_INDEX_PREFIXES) -> list[str]:
    """Insert Znuny's defaults of these settings into ``sysconfig_default``; returns the names."""
    defaults = znuny_defaults()
    names, prefixes = set(names), tuple(prefixes)
    chosen = sorted(n for n in defaults if n in names or n.startswith(prefixes))
    for name in chosen:
        valid, value = defaults[name]
        conn.execute(text(
            "INSERT INTO sysconfig_default (name, description, navigation, is_invisible, is_readonly, is_required, "
            "is_valid, has_configlevel, user_modification_possible, user_modification_active, xml_content_raw, "
            "xml_content_parsed, xml_filename, effective_value, is_dirty, exclusive_lock_guid, create_time, "
            "create_by, change_time, change_by) VALUES (:name, '', 'Core', 0, 0, 1, :valid, 0, 0, 0, '', '', "
            "'Ticket.xml', :value, 0, '0', NOW(), 1, NOW(), 1)"), {"name": name, "valid": valid, "value": _yaml(value)})
    return chosen


def modify(conn: Connection, name: str, value: Any, *, valid: int = 1, dirty: int = 0) -> None:
    """An admin's global change of ``name`` (deployed unless ``dirty``)."""
    default_id = conn.execute(select(text("id")).select_from(text("sysconfig_default"))
                              .where(text("name = :n")), {"n": name}).scalar_one()
    conn.execute(text(
        "INSERT INTO sysconfig_modified (sysconfig_default_id, name, user_id, is_valid, user_modification_active, "
        "effective_value, is_dirty, reset_to_default, create_time, create_by, change_time, change_by) "
        "VALUES (:id, :name, NULL, :valid, 0, :value, :dirty, 0, NOW(), 1, NOW(), 1)"),
        {"id": default_id, "name": name, "valid": valid, "value": _yaml(value), "dirty": dirty})


def deployed_version(conn: Connection, name: str, value: Any, *, valid: int = 1, reset: int = 0) -> None:
    """The ``sysconfig_modified_version`` row a deployment of a modification leaves."""
    conn.execute(text(
        "INSERT INTO sysconfig_modified_version (sysconfig_default_version_id, name, user_id, is_valid, "
        "user_modification_active, effective_value, reset_to_default, create_time, create_by, change_time, "
        "change_by) VALUES (1, :name, NULL, :valid, 0, :value, :reset, NOW(), 1, NOW(), 1)"),
        {"name": name, "valid": valid, "value": _yaml(value), "reset": reset})
