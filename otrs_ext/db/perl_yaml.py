"""YAML that OTRS wrote with Perl's YAML::XS (dynamic field configs, web service configs), read as Perl reads it.

YAML::XS leaves scalars such as ``1``, ``yes`` and ``no`` unquoted; Perl code sees them as strings. The base
loader builds only strings, lists and dicts, never YAML 1.1's booleans and numbers, so ``yes`` stays "yes".
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def load_perl_yaml(raw: bytes | str | None) -> Any:
    """The document as strings, lists and dicts; None when empty. Raises ``yaml.YAMLError`` when unreadable."""
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else raw
    return yaml.load(text, Loader=_LOADER)
