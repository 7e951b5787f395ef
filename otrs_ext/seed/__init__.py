"""Realistic demo / load data for an OTRS database: ``run_seed`` behind ``otrs-ext seed``.

Departments, groups, roles, queues, agents and customers (created once, reused on later runs), then tickets
whose rows look like OTRS wrote them: DateChecksum numbers, history rows in OTRS's order and layouts, articles
in Russian and English with quotes, logs, HTML bodies and attachments, ``Seen`` flags. Deterministic per seed;
bulk multi-row INSERTs in committed batches.
"""

from __future__ import annotations

from .runner import SeedReport, run_seed

__all__ = ["SeedReport", "run_seed"]
