from django.apps import AppConfig


class UsageStatisticsConfig(AppConfig):
    # Not "vardkontakt.statistics": a package of that name shadows Python's own statistics module
    # whenever src/vardkontakt is the working directory (makemessages, Django's SQLite backend).
    name = "vardkontakt.usage_statistics"
    label = "usage_statistics"
    default_auto_field = "django.db.models.BigAutoField"
