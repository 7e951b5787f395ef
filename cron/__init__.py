"""Scheduled entry points: each module has only ``main()``, run by cron or Celery beat."""
