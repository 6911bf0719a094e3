from django.db import models


class Heartbeat(models.Model):
    """The last time a background component proved it was alive (the worker: by running a task)."""

    name = models.CharField(max_length=32, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at.isoformat()}"
