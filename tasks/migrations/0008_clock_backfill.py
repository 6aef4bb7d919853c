"""Stage clocks for tasks that existed before them (0007 added the fields).

- return_count: the task's approved return requests, so a task returned twice before the
  upgrade goes to arbitration like one returned twice after it;
- clock_paused_at: for a task waiting on a return request, the time it was asked, so its
  page shows the clock paused and a refusal resumes it with the time then left.
"""

from django.db import migrations
from django.db.models import Count, OuterRef, Subquery


def backfill(apps, schema_editor):
    Task = apps.get_model("tasks", "Task")
    TaskRequest = apps.get_model("tasks", "TaskRequest")
    returned = (
        TaskRequest.objects.filter(kind="return", status="approved")
        .values("task_id")
        .annotate(n=Count("id"))
        .values_list("task_id", "n")
    )
    for task_id, count in returned.iterator():
        Task.objects.filter(pk=task_id).update(return_count=count)
    pending = TaskRequest.objects.filter(kind="return", status="pending", task_id=OuterRef("pk"))
    Task.objects.filter(state="return_requested", clock_paused_at__isnull=True).update(
        clock_paused_at=Subquery(pending.order_by("-requested_at").values("requested_at")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("tasks", "0007_work_order_rules")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
