from __future__ import annotations

import pytest

from otrs_ext.errors import ConfigurationError
from otrs_ext.settings import Settings, describe


def test_environment_overrides_toml_and_defaults(tmp_path):
    config = tmp_path / "otrs-ext.toml"
    config.write_text('redis_url = "redis://cache:6379/2"\nsystem_id = "42"\nhandlers = ["search"]\n')
    settings = Settings.load({
        "OTRS_EXT_CONFIG": str(config),
        "OTRS_EXT_SYSTEM_ID": "7",
        "OTRS_EXT_DB_URL": "mysql+pymysql://u:p@db:3306/otrs",
    })
    assert settings.redis_url == "redis://cache:6379/2"
    assert settings.system_id == "7"
    assert settings.handlers == ("search",)
    assert settings.db_url == "mysql+pymysql://u:p@db:3306/otrs"
    assert settings.search_url == "mysql://127.0.0.1:9306"


def test_every_wrong_value_is_reported_at_once_with_its_fix():
    with pytest.raises(ConfigurationError) as err:
        Settings.load({
            "OTRS_EXT_DB_URL": "postgresql://db/otrs",
            "OTRS_EXT_SEARCH_URL": "http://search",
            "OTRS_EXT_TICKET_NUMBER_GENERATOR": "Sequential",
            "OTRS_EXT_LOG_JSON": "maybe",
        })
    message = err.value.message
    assert "OTRS_EXT_DB_URL = 'postgresql://db/otrs'" in message and "mysql+pymysql://" in message
    assert "OTRS_EXT_SEARCH_URL" in message and "mysql://HOST:PORT" in message
    assert "OTRS_EXT_LOG_JSON = 'maybe': use true or false" in message


def test_ticket_number_generator_is_named_with_the_choices():
    with pytest.raises(ConfigurationError, match="DateChecksum, AutoIncrement, Date, Random"):
        Settings(ticket_number_generator="Sequential").validate()


def test_url_without_database_is_rejected():
    with pytest.raises(ConfigurationError, match="names no database"):
        Settings(db_url="mysql+pymysql://u:p@db:3306/").validate()


def test_unknown_toml_key_and_missing_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('db_ulr = "x"\n')
    with pytest.raises(ConfigurationError, match="unknown key 'db_ulr'"):
        Settings.load({"OTRS_EXT_CONFIG": str(config)})
    with pytest.raises(ConfigurationError, match="no such file"):
        Settings.load({"OTRS_EXT_CONFIG": str(tmp_path / "missing.toml")})


def test_settings_are_frozen():
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.db_url = "x"  # type: ignore[misc]


def test_reference_lists_every_variable():
    names = [name for name, _, _ in describe()]
    assert {"OTRS_EXT_DB_URL", "OTRS_EXT_REDIS_URL", "OTRS_EXT_SEARCH_URL", "OTRS_EXT_OTRS_HOME",
            "OTRS_EXT_OTRS_CACHE"} <= set(names)


def test_environ_round_trips_through_load(tmp_path):
    from otrs_ext.settings import Settings

    settings = Settings(handlers=("event_log",), otrs_home=tmp_path, log_json=False, attachment_max_bytes=5,
                        api_intake_queues=("Raw", "Support::Hosting"))
    assert Settings.load(settings.environ()) == settings
