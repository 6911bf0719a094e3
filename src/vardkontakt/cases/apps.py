from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "vardkontakt.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"
