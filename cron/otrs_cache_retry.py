"""Replay OTRS cache invalidations that failed after their commit (Redis down, cache directory unreadable).

Until they are replayed the OTRS UI may show a changed ticket as it was; run it every minute:

    * * * * *  otrs  OTRS_EXT_CONFIG=/etc/otrs-ext.toml python -m cron.otrs_cache_retry
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from otrs_ext.logs import configure_logging
from otrs_ext.settings import Settings
from otrs_ext.tickets.compose import make_invalidator


def main() -> int:
    settings = Settings.load()
    configure_logging(settings.log_level, settings.log_json)
    report = make_invalidator(settings).retry_pending()
    print(json.dumps({"otrs_cache_retry": asdict(report)}))
    return 1 if report.pending or report.bad_files else 0


if __name__ == "__main__":
    sys.exit(main())
