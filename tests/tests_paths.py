"""Where the shared reference material lives for the tests (``../shared`` beside the clone)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("OTRS_EXT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
