"""Deadline reminders (临期, 到期, 超期, 督办): each level once per task and deadline.

How a run works (`reminders_send_due`, called by the beat job and `send_reminders`):

1. From today's date and the working-day calendar, compute for each level the range of
   deadline dates that are at that level today (`level_windows`). Levels are date-based,
   so any number of runs on one day agree, and a run that was missed is made up by the
   next one (which sends the level in force then, not the stale one). One exception, for
   the hour deadlines of 紧急 tasks: a deadline that passed earlier today is overdue in
   the run's eyes at once (the overdue list shows it so), not from the next working day.
2. Claims that an earlier run took but never delivered (a worker killed mid-run) are
   taken over by one conditional UPDATE that only one run can win.
3. New claims: an INSERT under the unique constraint (task, level, deadline); only the
   rows this run inserted are delivered by it (never check-then-send).
4. Delivery, in one transaction per batch: the claims become delivered, the in-app
   notifications are written, and each recipient gets one e-mail digest row for the run.
5. After the batches, the e-mails are sent (tasks.notifications); a failure is recorded
   on the digest and retried with backoff, without touching the notifications.

Days off: a run on a day that is not a working day sends nothing; the next working day's
run sends whatever level is in force then. A deadline a supervisor set on a day off is
"due today" on the last working day before it and "overdue" on the first working day
after it.
"""

from .claims import reminder_claims_take
from .levels import (
    DEADLINE_LEVELS,
    DEFAULT_RULES,
    LEVEL_ORDER,
    SAME_DAY_LEVELS,
    Window,
    level_on,
    level_windows,
    registration_day_end,
    reminder_rules,
    tasks_missed_same_day,
)
from .run import BATCH_SIZE, DEFAULT_LIMIT, ReminderRun, reminders_send_due

__all__ = [
    "BATCH_SIZE",
    "DEADLINE_LEVELS",
    "DEFAULT_LIMIT",
    "DEFAULT_RULES",
    "LEVEL_ORDER",
    "SAME_DAY_LEVELS",
    "ReminderRun",
    "Window",
    "level_on",
    "level_windows",
    "registration_day_end",
    "reminder_claims_take",
    "reminder_rules",
    "reminders_send_due",
    "tasks_missed_same_day",
]
