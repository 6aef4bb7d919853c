"""The Celery beat schedule, in code (imported by dingzhou/celery.py; no model imports here)."""

from celery.schedules import crontab  # noqa: F401

BEAT_SCHEDULE: dict = {}
