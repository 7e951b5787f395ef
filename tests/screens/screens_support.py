"""Constants the screens' fixture and tests share (a conftest is no module to import from)."""

PASSWORD = "correct horse battery"
OTRS_URL = "https://otrs.example/otrs/"
