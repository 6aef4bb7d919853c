"""The heartbeat's beat entry (merged into the schedule by dingzhou/celery.py; no model imports here)."""

import datetime as dt

HEARTBEAT = dt.timedelta(seconds=60)  # settings.HEARTBEAT_SECONDS says the same for /healthz

BEAT_SCHEDULE: dict = {
    "heartbeat": {
        "task": "ops.jobs.heartbeat",
        "schedule": HEARTBEAT,
        # A tick that waited longer than a period says nothing about now: the next one will.
        "options": {"expires": HEARTBEAT.total_seconds()},
    },
}
