"""Run the doctor checks from cron or a monitoring agent: JSON on stdout, exit 1 on a failed check.

    */5 * * * *  otrs  OTRS_EXT_CONFIG=/etc/otrs-ext.toml python -m cron.doctor >> /var/log/otrs-ext-doctor.log
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from otrs_ext.doctor.checks import Doctor
from otrs_ext.settings import Settings


def main() -> int:
    checks = Doctor(Settings.load()).run()
    print(json.dumps({"checks": [asdict(c) for c in checks]}, ensure_ascii=False))
    return 1 if any(c.status == "fail" for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
