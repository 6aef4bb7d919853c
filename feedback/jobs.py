"""Celery jobs of the feedback app: thin wrappers around feedback.importers.background."""

from celery import shared_task

from feedback.importers.background import import_job_run

# A second delivery finds the job held by a live worker: look again after the lease, so a
# worker killed mid-import (acks_late requeues its message) is taken over once it is stale.
BUSY_RETRY_SECONDS = 200


@shared_task(bind=True, acks_late=True, max_retries=5, time_limit=3600, soft_time_limit=3500)
def run_import_job(self, job_id: int) -> str:
    """Import the job's file; safe to deliver twice (the job is claimed before work starts)."""
    status = import_job_run(job_id=job_id)
    if status == "busy":
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    return status


@shared_task
def anonymise_closed_cases() -> str:
    """Retention (feedback.retention): erase names and phones of cases closed more than the configured years ago."""
    from feedback.retention import closed_cases_anonymise

    return closed_cases_anonymise().summary()
