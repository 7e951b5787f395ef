"""The rules file: the shipped one loads and documents itself; a wrong one stops the tailer at start, the doctor
and the ``tail`` command name its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from support.runtimes import runtime_for

from otrs_ext.cli import main
from otrs_ext.doctor.checks import Doctor
from otrs_ext.errors import ConfigurationError
from otrs_ext.events.compose import build_tailer
from otrs_ext.tags.facts import ArticleFacts
from otrs_ext.tags.rules import default_rules_path, load_rules, parse_rules

BAD = ('[[notification]]\nname = "quota"\nfrom = "@hosting.example"\n\n'
       '[[notification]]\nname = "load"\nsubject = "[a-"\n')


def _first(**facts) -> ArticleFacts:
    values = {"article_id": 1, "ticket_id": 1, "channel": "Email", "sender_type": "customer",
              "visible_for_customer": True, "create_by": 1, "login": "root@localhost", **facts}
    return ArticleFacts(**values)


@pytest.mark.parametrize("facts, ticket_source, tag", [
    ({}, "site-authorized", "site-authorized"),
    ({}, "site-anonymous", "site-anonymous"),
    ({}, "email", "email"),
    ({"history_type": "EmailCustomer"}, "api", "other"),
    ({"history_type": "NewTicket", "history_name": "%%GenericInterface Create", "sender_type": "agent",
      "create_by": 5}, None, "gi"),
    ({"history_type": "EmailCustomer"}, None, "email"),
    ({"history_type": "PhoneCallCustomer", "channel": "Phone", "create_by": 5}, None, "phone"),
    ({"history_type": "WebRequestCustomer", "channel": "Internal"}, None, "site-authorized"),
    ({"history_type": "EmailAgent", "sender_type": "agent", "create_by": 5}, None, "agent"),
    ({"history_type": "AddNote", "channel": "Internal", "sender_type": "system"}, None, "other"),
])
def test_the_shipped_source_rules(facts, ticket_source, tag):
    assert load_rules().source_tag(_first(**facts), ticket_source) == tag


def test_the_shipped_file_loads_and_the_setting_names_another():
    rules = load_rules()
    assert rules.origin == str(default_rules_path()) and len(rules.sources) == 10
    assert [r.name for r in rules.notifications] == ["auto-reply", "auto-generated", "bounce", "mailing-list"]
    with pytest.raises(ConfigurationError, match=r"rules\.toml:7: notification rule \"load\": subject: bad regex"):
        parse_rules(BAD, "rules.toml")


@pytest.fixture
def bad_rules(tmp_path: Path) -> Path:
    path = tmp_path / "tag-rules.toml"
    path.write_text(BAD, encoding="utf-8")
    return path


def test_a_wrong_file_stops_the_tailer_at_start(otrs_database, redis_server, sphinx_server, tmp_path, bad_rules):
    engine = otrs_database("znuny71", migrated=True)
    runtime = runtime_for(engine, redis_server.url, sphinx_server.url, tmp_path, handlers=("tags",),
                          tag_rules=bad_rules)
    try:
        with pytest.raises(ConfigurationError, match=rf"{bad_rules}:7: "):
            build_tailer(runtime)
        check = next(c for c in Doctor(runtime.settings).run() if c.name == "tag rules")
        assert check.status == "fail" and f"{bad_rules}:7:" in check.detail
    finally:
        runtime.close()
    env = {"OTRS_EXT_DB_URL": engine.url.render_as_string(hide_password=False), "OTRS_EXT_REDIS_URL": redis_server.url,
           "OTRS_EXT_SEARCH_URL": sphinx_server.url, "OTRS_EXT_HANDLERS": "tags", "OTRS_EXT_LOG_JSON": "false",
           "OTRS_EXT_TAG_RULES": str(bad_rules), "OTRS_EXT_STATE_DIR": str(tmp_path / "state")}
    result = CliRunner().invoke(main, ["tail"], env=env)
    assert result.exit_code == 2 and f"{bad_rules}:7: notification rule \"load\"" in result.output
