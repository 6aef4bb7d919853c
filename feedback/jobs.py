"""Celery jobs of the feedback app: thin wrappers around feedback.importers.background."""

import logging

from celery import shared_task

from ops.audit import log_event

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

    result = closed_cases_anonymise()
    # What it changed goes to the log (dingzhou.jobs), since nobody reads a scheduled job's return value.
    log_event(
        "retention.finished", log=logging.getLogger("dingzhou.jobs"), cutoff=result.cutoff.isoformat(),
        suggestions=result.suggestions, names=result.names, phones=result.phones, tasks=result.tasks,
        import_files=result.import_files,
    )  # fmt: skip
    return result.summary()
