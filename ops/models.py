from django.db import models


class Heartbeat(models.Model):
    """When a periodic signal last arrived: one row per name ("beat": the beat's heartbeat job ran).

    Kept in the database rather than the cache: it is the one store the web, the worker and
    the embedded demo (local-memory cache per process) all share.
    """

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
