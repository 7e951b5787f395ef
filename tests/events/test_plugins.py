from __future__ import annotations

import pytest

from otrs_ext.errors import ConfigurationError
from otrs_ext.events.plugins import make_plugin_manager


def test_misspelled_handler_fails_at_start_naming_the_choices():
    with pytest.raises(ConfigurationError, match="unknown handlers serch"):
        make_plugin_manager(["serch"])


def test_hook_specs_are_registered():
    manager = make_plugin_manager([])
    assert {"on_ticket_created", "on_article_created", "on_ticket_changed"} <= {
        name for name in dir(manager.hook) if name.startswith("on_")
    }
