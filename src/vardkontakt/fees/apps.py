from django.apps import AppConfig


class FeesConfig(AppConfig):
    name = "vardkontakt.fees"
    label = "fees"
    default_auto_field = "django.db.models.BigAutoField"
