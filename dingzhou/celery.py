"""The Celery app. Jobs live in each app's jobs.py (not tasks.py: `tasks` is our app)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dingzhou.settings")

app = Celery("dingzhou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")
