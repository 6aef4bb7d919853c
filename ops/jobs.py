"""Celery jobs of the operations app."""

from celery import shared_task
from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"


def heartbeat_record(*, now=None) -> Heartbeat:
    """Record that the beat's heartbeat reached a worker (what /healthz reads)."""
    beat, _created = Heartbeat.objects.update_or_create(name=BEAT, defaults={"at": now or timezone.now()})
    return beat


@shared_task(name="ops.jobs.heartbeat", ignore_result=True)
def heartbeat():
    """Sent by beat every minute: proves beat, the broker, a worker and the database all work."""
    heartbeat_record()
