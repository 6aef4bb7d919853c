"""The Celery beat schedule, in code (imported by dingzhou/celery.py; no model imports here)."""

from celery.schedules import crontab

# Every day, not only Monday to Friday: adjusted working weekends (调休) are working days,
# and weekday public holidays are not. The reminder run itself asks the working-day
# calendar and sends nothing on a day off, so the schedule does not need to know it.
# Levels are date-based, so the 08:00 run sends the day's reminders and the later runs
# only pick up what changed (new deadlines, extensions, a run that failed).
BEAT_SCHEDULE: dict = {
    "send-due-reminders": {
        "task": "tasks.jobs.send_due_reminders",
        "schedule": crontab(minute="*/15", hour="8-18"),
        # A message that waited longer than the interval is superseded by the next one.
        "options": {"expires": 14 * 60},
    },
    # 一周一调度, 一月一推进, 回头看: the job queues each week's and month's mailings and
    # each quarter's look-back draw once, on the period's first working day (Monday and
    # the 1st, unless a holiday moves it), so it runs daily and repeats harmlessly.
    "run-cadence": {
        "task": "tasks.jobs.run_cadence",
        "schedule": crontab(minute=30, hour=8),
        "options": {"expires": 6 * 60 * 60},
    },
    # Report-card rollups: rebuilt every 4 minutes so that, with a rebuild of under a minute
    # at 1M rows, pages never read figures more than 5 minutes old (bench/report_card.py).
    "refresh-report-card-rollups": {
        "task": "tasks.jobs.refresh_report_card_rollups",
        "schedule": crontab(minute="*/4"),
        "options": {"expires": 3 * 60},
    },
    # Retention: every night, the names and phones of cases closed more than
    # PERSONAL_DATA_RETENTION_YEARS ago are erased (feedback.retention); a missed night is
    # caught up by the next, and a run changes nothing twice.
    "anonymise-closed-cases": {
        "task": "feedback.jobs.anonymise_closed_cases",
        "schedule": crontab(minute=30, hour=2),
        "options": {"expires": 6 * 60 * 60},
    },
}
