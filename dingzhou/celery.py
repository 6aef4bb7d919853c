"""The Celery app. Jobs live in each app's jobs.py (not tasks.py: `tasks` is our app).

The broker comes from settings: Redis when REDIS_URL is set, otherwise kombu's
filesystem transport under var/celery-queue (see dingzhou/settings.py).
"""

import os

from celery import Celery

from ops.schedule import BEAT_SCHEDULE as OPS_SCHEDULE
from tasks.schedule import BEAT_SCHEDULE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dingzhou.settings")

app = Celery("dingzhou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")

# The schedule lives in code beside the jobs; tasks.schedule imports no models, so
# importing it here (while dingzhou/__init__.py loads) does not need the app registry.
app.conf.beat_schedule = {**BEAT_SCHEDULE, **OPS_SCHEDULE}
