"""One log line per Celery job run (logger "dingzhou.jobs"), from Celery's task signals.

task_prerun notes the start, task_postrun logs the job's name, id, outcome and duration;
a failure is logged once more at ERROR with its exception by task_failure.
"""

import logging
import time

from celery.signals import task_failure, task_postrun, task_prerun

from .audit import log_event

logger = logging.getLogger("dingzhou.jobs")
_started: dict[str, float] = {}


@task_prerun.connect(dispatch_uid="ops.joblog.prerun", weak=False)
def _prerun(task_id=None, task=None, **kwargs):
    _started[task_id] = time.monotonic()
    log_event("job.started", level=logging.DEBUG, log=logger, job=task.name, job_id=task_id)


@task_postrun.connect(dispatch_uid="ops.joblog.postrun", weak=False)
def _postrun(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    duration_ms = round((time.monotonic() - started) * 1000, 1) if started is not None else None
    level = logging.INFO if state in ("SUCCESS", None) else logging.WARNING
    log_event("job.finished", level=level, log=logger, job=task.name, job_id=task_id, state=state,
              duration_ms=duration_ms)  # fmt: skip


@task_failure.connect(dispatch_uid="ops.joblog.failure", weak=False)
def _failure(task_id=None, exception=None, sender=None, **kwargs):
    log_event(
        "job.failed", level=logging.ERROR, log=logger, job=getattr(sender, "name", ""), job_id=task_id,
        error=f"{type(exception).__name__}: {exception}",
    )
