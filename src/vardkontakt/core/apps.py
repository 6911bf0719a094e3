from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vardkontakt.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The one_of lookup of check constraints, for migrations that name it (core/codes.py).
        from vardkontakt.core import codes  # noqa: F401
