"""OTRS version branches live only in ``schema_maps/``: nothing in ``otrs_ext/`` sniffs the generation itself.

The rule, checked on the syntax tree of every module under ``otrs_ext/`` (so comments and docstrings never count):

1. **No presence checks of a legacy name.** ``"NAME" in x`` / ``"NAME" not in x`` / ``hasattr(x, "NAME")`` where
   NAME is a table or column that exists in some generations only (``GENERATION_NAMES``, taken from
   ``schema_maps/_traits.py`` and the generation table in README). Ask the schema instead:
   ``schema.traits.create_time_unix``, ``schema.traits.group_user_permission_value``,
   ``schema.traits.article_split``, ``schema.articles.decode(...)`` / ``.meta_source()``.
2. **No version conditionals.** ``generation`` / ``product`` compared (``==``, ``!=``, ``in``) with a string
   literal or a literal tuple/list/set, and anything named ``*version`` compared with a number
   (``if version == 5``).

Using a legacy name through a schema object (``gr.c.permission_value == 1``, a row key written after a trait
check, ``schema.tables.article_type``) is allowed: only the checks above decide behaviour by generation.
Comparing two schemas' generations (``detected.generation != self.schema.generation``) is allowed too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "otrs_ext"

#: tables and columns that give a generation away (OTRS 5 / OTRS 6 split / Znuny 6.1 / Znuny 7 / OTOBO)
GENERATION_NAMES = frozenset({
    "create_time_unix",  # OTRS 5 ticket column (Traits.create_time_unix)
    "permission_value",  # OTRS 5 group_user column (Traits.group_user_permission_value)
    "article_type", "article_type_id",  # OTRS 5 article encoding (schema.articles)
    "article_data_mime", "communication_channel", "communication_channel_id",  # OTRS 6+ split (article_split)
    "is_visible_for_customer",  # OTRS 6+ column; OTRS 5 encodes it in the article type
    "ticket_number_counter",  # OTRS 6+ (schema.has_ticket_counter_table)
    "groups", "permission_groups", "groups_table",  # Traits.group_table; use schema.tables.groups
    "color",  # Znuny 7.0 states and priorities (Traits.colors)
    "index_value", "index_set",  # OTOBO 11 dynamic_field_value (Traits.dynamic_field_value_positions)
    "customer_user_customer",  # OTRS 6+ (Traits.customer_companies)
    "article_search_index",  # OTRS 6+ (Traits.article_search_index)
    "sysconfig_default", "sysconfig_modified", "sysconfig_modified_version",  # OTRS 6+ (Traits.sysconfig_tables)
})
VERSION_ATTRIBUTES = frozenset({"generation", "product"})


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_str_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return bool(node.elts) and all(_is_str_literal(e) for e in node.elts)
    return False


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def violations(source: str) -> list[tuple[int, str]]:
    """(line, what) of every generation check in ``source``, by the rule in the module docstring."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands[:-1], operands[1:], strict=True):
                if (isinstance(op, (ast.In, ast.NotIn)) and isinstance(left, ast.Constant)
                        and left.value in GENERATION_NAMES):
                    found.append((node.lineno, f"presence check of {left.value!r}"))
                for a, b in ((left, right), (right, left)):
                    name = _name(a)
                    if name in VERSION_ATTRIBUTES and _is_str_literal(b):
                        found.append((node.lineno, f"{name} compared with a literal"))
                    elif name is not None and name.lower().endswith("version") and _is_number(b):
                        found.append((node.lineno, f"{name} compared with a number"))
        elif (isinstance(node, ast.Call) and _name(node.func) == "hasattr" and len(node.args) == 2
              and isinstance(node.args[1], ast.Constant) and node.args[1].value in GENERATION_NAMES):
            found.append((node.lineno, f"hasattr(..., {node.args[1].value!r})"))
    return sorted(set(found))


def test_no_version_branches_outside_schema_maps():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, what in violations(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "version branches belong in schema_maps/ (use schema traits):\n" + "\n".join(offenders)


def test_the_rule_catches_sniffing_and_lets_schema_use_pass():
    sniffing = '''
if "create_time_unix" in t.c:
    pass
value = {"permission_value": 1} if "permission_value" in t.group_user.c else {}
if "article_type_id" not in row:
    pass
if schema.generation == "otrs5":
    pass
if self.schema.traits.product in ("OTOBO",):
    pass
if "otrs5" != generation:
    pass
if otrs_version >= 6:
    pass
ok = hasattr(t.c, "index_value")
'''
    assert [line for line, _ in violations(sniffing)] == [2, 4, 5, 7, 9, 11, 13, 15]
    allowed = '''
"""Docstring: "create_time_unix" in t.c is only text."""
# if "permission_value" in gu.c: a comment
if schema.traits.create_time_unix:
    values["create_time_unix"] = now
query = query.where(gr.c.permission_value == 1)
types = schema.tables.article_type
if detected.generation != self.schema.generation:
    pass
if "customer_id" in row:
    pass
'''
    assert violations(allowed) == []
