from __future__ import annotations

from django.db import models
from django.db.models import Q


class DemoInstallation(models.Model):
    """The marker ``load_demo`` sets in a database it builds the demo region in. ``load_demo``
    refuses a database that holds data without it: the demo's people, staff and known secrets
    never go into a real installation."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="demo_installation_singleton")]
