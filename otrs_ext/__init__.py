"""otrs-ext: a fast, modern plugin layer beside an existing OTRS / Znuny / OTOBO helpdesk."""

__version__ = "0.1.0"
