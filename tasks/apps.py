from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("Tasks")

    def ready(self):
        # Connect the calendar's and rule table's cache-invalidation signals.
        from . import calendar, deadlines  # noqa: F401
