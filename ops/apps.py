from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: /healthz, the beat heartbeat, structured audit and job logs, backups."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        # Connects the login and Celery signal receivers (in web, worker and beat alike).
        from . import audit, joblog  # noqa: F401
