from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "vardkontakt.operations"
    label = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from vardkontakt.operations import receivers

        receivers.connect()
