"""The README's configuration table is the settings object's own description: they cannot drift apart."""

from __future__ import annotations

from pathlib import Path

from otrs_ext.settings import describe

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[3].startswith("./scripts/demo") and lines[4].startswith("./scripts/test")
    ci = (README.parent / ".ci" / "run").read_text()
    assert "scripts/test" in ci


def test_every_setting_is_documented_with_its_default():
    rows = {" ".join(line.split()) for line in README.read_text(encoding="utf-8").splitlines()}
    for name, default, help_text in describe():
        row = " ".join(f"| `{name}` | {f'`{default}`' if default else ''} | {help_text} |".split())
        assert row in rows, f"README lacks or misdescribes {name}: expected row\n{row}"
